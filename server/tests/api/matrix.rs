//! The tenant and permission matrix: every registered server function is
//! listed here with who may call it, and each is called
//! - anonymously → refused (401), unless it is one of the public ones;
//! - by a signed-in person without its permission → refused (403);
//! - by an administrator of organisation A (holding every permission) with
//!   organisation B's ids → "not found" (404), and nothing of B changes.
//!
//! A server function that is registered but missing here fails the test, so
//! a new one cannot ship without its row.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use std::collections::BTreeSet;

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone: signing in, one-time links, the forgotten-password form.
    Public,
    /// Only a browser between the password and the second factor (or in
    /// required enrolment); anonymous callers are refused.
    SecondFactorStep,
    /// Anyone signed in, about themselves.
    SignedIn,
    /// Platform administrators.
    Platform,
    /// Holders of this permission (key), in the organisation they work in.
    Permission(&'static str),
}

/// Ids the calls are made with.
struct Ids {
    /// Organisation B's (Hillside Academy's) user, role, profile and session.
    user: String,
    role: String,
    profile: String,
    session: String,
    organisation: String,
    /// Organisation A's own user and profile, to pair with B's role ids.
    own_user: String,
    own_profile: String,
    /// Organisation B's API user and its token's id.
    api_user: String,
    api_token: String,
    /// Organisation A's own API user, to pair with B's token id.
    own_api_user: String,
    /// Organisation B's application, and A's own (to pair with B's role).
    application: String,
    own_application: String,
}

struct Row {
    function: &'static str,
    access: Access,
    /// The arguments, valid apart from whose ids they are.
    args: fn(&Ids) -> Vec<(&'static str, String)>,
    /// Whether the arguments name another organisation's things, so that
    /// organisation A's administrator must get "not found".
    names_other_organisation: bool,
}

fn s(value: &str) -> String {
    value.to_owned()
}

fn rows() -> Vec<Row> {
    use Access::*;
    let row = |function, access, args, names_other_organisation| Row {
        function,
        access,
        args,
        names_other_organisation,
    };
    vec![
        // Public: they answer from what they are given (a token, a login).
        row("whoami", Public, |_| vec![], false),
        row(
            "sign_in",
            Public,
            |_| vec![("login", s("nobody")), ("password", s("x"))],
            false,
        ),
        row("sign_out", Public, |_| vec![], false),
        row(
            "setup_link",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        row(
            "complete_setup",
            Public,
            |_| {
                admin_form()
                    .into_iter()
                    .map(|(f, v)| (f, s(v)))
                    .chain([("token", s("unknown"))])
                    .collect()
            },
            false,
        ),
        row(
            "password_link",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        row(
            "choose_password",
            Public,
            |_| vec![("token", s("unknown")), ("password", s(PASSWORD))],
            false,
        ),
        row(
            "forgotten_password",
            Public,
            |_| vec![("login", s("nobody@example.org"))],
            false,
        ),
        row(
            "email_change_link",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        row(
            "confirm_email",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        row(
            "email_change_undo_link",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        row(
            "undo_email_change",
            Public,
            |_| vec![("token", s("unknown"))],
            false,
        ),
        // Between the password and the second factor.
        row(
            "sign_in_code",
            SecondFactorStep,
            |_| vec![("code", s("123456"))],
            false,
        ),
        row("two_factor_enrolment", SecondFactorStep, |_| vec![], false),
        row(
            "confirm_two_factor",
            SecondFactorStep,
            |_| vec![("code", s("123456"))],
            false,
        ),
        // About oneself.
        row("profile", SignedIn, |_| vec![], false),
        row(
            "update_my_details",
            SignedIn,
            |_| {
                vec![
                    ("first_name", s("Siân")),
                    ("last_name", s("O’Brien")),
                    ("initials", s("SO")),
                ]
            },
            false,
        ),
        row(
            "change_my_email",
            SignedIn,
            |_| {
                vec![
                    ("email", s("sian@elsewhere.example")),
                    ("current_password", s(PASSWORD)),
                ]
            },
            false,
        ),
        row(
            "change_my_password",
            SignedIn,
            |_| {
                vec![
                    ("current_password", s(PASSWORD)),
                    ("new_password", s(PASSWORD)),
                ]
            },
            false,
        ),
        row(
            "end_my_session",
            SignedIn,
            |ids| vec![("id", ids.session.clone())],
            true,
        ),
        row("recovery_codes", SignedIn, |_| vec![], false),
        row("my_two_factor", SignedIn, |_| vec![], false),
        row(
            "change_two_factor",
            SignedIn,
            |_| {
                vec![
                    ("password", s(PASSWORD)),
                    ("code", s("123456")),
                    ("change", s("new_device")),
                ]
            },
            false,
        ),
        // Platform administrators.
        row("organisations", Platform, |_| vec![], false),
        row("undelivered_mail", Platform, |_| vec![], false),
        row(
            "add_organisation",
            Platform,
            |_| {
                vec![
                    ("organisation_name", s("Matrix School")),
                    ("first_name", s("Ada")),
                    ("last_name", s("Lovelace")),
                    ("email", s("ada@matrix.example")),
                ]
            },
            false,
        ),
        row(
            "enter_organisation",
            Platform,
            |ids| vec![("organisation_id", ids.organisation.clone())],
            false,
        ),
        // Holders of a permission, in their organisation.
        row(
            "organisation_settings",
            Permission("users.manage"),
            |_| vec![],
            false,
        ),
        row(
            "save_organisation_settings",
            Permission("users.manage"),
            |_| {
                vec![
                    ("welcome_link_hours", s("72")),
                    ("password_link_minutes", s("60")),
                ]
            },
            false,
        ),
        row(
            "audit_log",
            Permission("audit.view"),
            |_| vec![("actor", s("")), ("target", s(""))],
            false,
        ),
        row(
            "list_users",
            Permission("users.view"),
            |_| vec![("q", s(""))],
            false,
        ),
        row(
            "user",
            Permission("users.view"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "add_user_hints",
            Permission("users.manage"),
            |_| {
                vec![
                    ("first_name", s("Zoë")),
                    ("last_name", s("Ångström")),
                    ("email", s("zoe@example.org")),
                    ("username", s("")),
                    ("generate_username", s("true")),
                ]
            },
            false,
        ),
        row(
            "add_user",
            Permission("users.manage"),
            |_| {
                person_form("Matrix", "Person", "matrix.person@example.org", "MP")
                    .into_iter()
                    .map(|(f, v)| (f, s(v)))
                    .collect()
            },
            false,
        ),
        row(
            "update_user",
            Permission("users.manage"),
            |ids| {
                vec![
                    ("id", ids.user.clone()),
                    ("first_name", s("Changed")),
                    ("last_name", s("Name")),
                    ("email", s("changed@hillside.example")),
                    ("initials", s("CN")),
                ]
            },
            true,
        ),
        row(
            "send_user_email",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone()), ("kind", s("set_password"))],
            true,
        ),
        row(
            "set_user_active",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone()), ("active", s("false"))],
            true,
        ),
        row(
            "user_security",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "reset_two_factor",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "end_user_sessions",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "user_access",
            Permission("users.view"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "save_user_access",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone()), ("roles[]", ids.role.clone())],
            true,
        ),
        // Organisation A's own account given organisation B's role.
        row(
            "save_user_access",
            Permission("users.manage"),
            |ids| vec![("id", ids.own_user.clone()), ("roles[]", ids.role.clone())],
            true,
        ),
        row("roles", Permission("roles.manage"), |_| vec![], false),
        row(
            "role",
            Permission("roles.manage"),
            |ids| vec![("id", ids.role.clone())],
            true,
        ),
        row(
            "add_role",
            Permission("roles.manage"),
            |_| vec![("name", s("Matrix role"))],
            false,
        ),
        row(
            "save_role",
            Permission("roles.manage"),
            |ids| {
                vec![
                    ("id", ids.role.clone()),
                    ("name", s("Renamed")),
                    ("permissions[]", s("users.view")),
                ]
            },
            true,
        ),
        row("profiles", Permission("roles.manage"), |_| vec![], false),
        row(
            "access_profile",
            Permission("roles.manage"),
            |ids| vec![("id", ids.profile.clone())],
            true,
        ),
        row(
            "add_profile",
            Permission("roles.manage"),
            |_| vec![("name", s("Matrix profile"))],
            false,
        ),
        row(
            "save_profile",
            Permission("roles.manage"),
            |ids| {
                vec![
                    ("id", ids.profile.clone()),
                    ("name", s("Renamed")),
                    ("roles[]", ids.role.clone()),
                ]
            },
            true,
        ),
        // Organisation A's own profile given organisation B's role.
        row(
            "save_profile",
            Permission("roles.manage"),
            |ids| {
                vec![
                    ("id", ids.own_profile.clone()),
                    ("name", s("Teaching staff")),
                    ("roles[]", ids.role.clone()),
                ]
            },
            true,
        ),
        // API users' tokens.
        row(
            "api_tokens",
            Permission("api_users.manage"),
            |ids| vec![("id", ids.api_user.clone())],
            true,
        ),
        row(
            "create_api_token",
            Permission("api_users.manage"),
            |ids| {
                vec![
                    ("id", ids.api_user.clone()),
                    ("name", s("Matrix token")),
                    ("expires_on", s("")),
                ]
            },
            true,
        ),
        row(
            "revoke_api_token",
            Permission("api_users.manage"),
            |ids| {
                vec![
                    ("id", ids.api_user.clone()),
                    ("token_id", ids.api_token.clone()),
                ]
            },
            true,
        ),
        // Organisation A's own API user with organisation B's token.
        row(
            "revoke_api_token",
            Permission("api_users.manage"),
            |ids| {
                vec![
                    ("id", ids.own_api_user.clone()),
                    ("token_id", ids.api_token.clone()),
                ]
            },
            true,
        ),
        // Connected applications.
        row(
            "applications",
            Permission("applications.manage"),
            |_| vec![],
            false,
        ),
        row(
            "application",
            Permission("applications.manage"),
            |ids| vec![("id", ids.application.clone())],
            true,
        ),
        // A new application of organisation A's, open to organisation B's role.
        row(
            "register_application",
            Permission("applications.manage"),
            |ids| application_form(None, &ids.role),
            true,
        ),
        row(
            "save_application",
            Permission("applications.manage"),
            |ids| application_form(Some(&ids.application), &ids.role),
            true,
        ),
        // Organisation A's own application given organisation B's role.
        row(
            "save_application",
            Permission("applications.manage"),
            |ids| application_form(Some(&ids.own_application), &ids.role),
            true,
        ),
        row(
            "new_application_secret",
            Permission("applications.manage"),
            |ids| vec![("id", ids.application.clone())],
            true,
        ),
        row(
            "set_application_disabled",
            Permission("applications.manage"),
            |ids| vec![("id", ids.application.clone()), ("disabled", s("true"))],
            true,
        ),
        // The applications a person is signed in to.
        row(
            "application_sign_ins",
            Permission("users.view"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row(
            "sign_out_of_applications",
            Permission("users.manage"),
            |ids| vec![("id", ids.user.clone())],
            true,
        ),
        row("my_application_sign_ins", SignedIn, |_| vec![], false),
        // The refusal page's application name, by its public client id.
        row(
            "refused_application",
            Public,
            |_| vec![("client_id", s("0123456789abcdef0123456789abcdef"))],
            false,
        ),
        row("sign_out_of_my_applications", SignedIn, |_| vec![], false),
        // The API reference page's data: the OpenAPI document, for anyone.
        row("api_reference", Public, |_| vec![], false),
    ]
}

/// The application form (registering, or saving application `id`), open
/// to holders of `role`.
fn application_form(id: Option<&String>, role: &str) -> Vec<(&'static str, String)> {
    let mut form: Vec<(&'static str, String)> =
        id.map(|id| ("id", id.clone())).into_iter().collect();
    form.extend([
        ("name", s("Matrix application")),
        ("client_kind", s("confidential")),
        ("redirect_uris", s("https://matrix.example/callback")),
        ("audience", s("chosen")),
        ("role_ids[]", role.to_owned()),
        ("id_token_algorithm", s("RS256")),
        ("access_token_minutes", s("10")),
        ("refresh_token_hours", s("24")),
    ]);
    form
}

/// Registers an application as the administrator on `client`; returns its id.
async fn application_of(app: &TestApp, client: &reqwest::Client, name: &str) -> String {
    let registered = app
        .call_as(
            client,
            "register_application",
            &[
                ("name", name),
                ("client_kind", "confidential"),
                ("redirect_uris", "https://matrix.example/callback"),
                ("audience", "everyone"),
                ("id_token_algorithm", "RS256"),
                ("access_token_minutes", "10"),
                ("refresh_token_hours", "24"),
            ],
        )
        .await;
    assert_eq!(
        registered.status(),
        StatusCode::OK,
        "{}",
        registered.text().await.unwrap_or_default()
    );
    let list: serde_json::Value = app
        .call_as(client, "applications", &[])
        .await
        .json()
        .await
        .expect("json");
    list.as_array()
        .expect("list")
        .iter()
        .find(|a| a["name"] == name)
        .and_then(|a| a["id"].as_i64())
        .expect("registered")
        .to_string()
}

/// Organisation B's API user, made by Tomasz (signed in on `tomasz`), with
/// a token; returns the API user's id, the token's id and the token.
async fn hillside_api_user(app: &TestApp, tomasz: &reqwest::Client) -> (i64, i64, String) {
    let form = with(
        &person_form("Hillside", "Importer", "importer@hillside.example", "HI"),
        "api_user",
        "on",
    );
    let added = app.call_as(tomasz, "add_user", &form).await;
    assert_eq!(
        added.status(),
        StatusCode::OK,
        "{}",
        added.text().await.unwrap_or_default()
    );
    let id = app.user_id_by_email("importer@hillside.example").await;
    let administrator = one(
        app,
        "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
         WHERE u.id = $1 AND r.name = 'Administrator'",
        id,
    )
    .await;
    let given = app
        .call_as(
            tomasz,
            "save_user_access",
            &[("id", &id.to_string()), ("roles[]", &administrator)],
        )
        .await;
    assert_eq!(
        given.status(),
        StatusCode::OK,
        "{}",
        given.text().await.unwrap_or_default()
    );
    let token = app.create_token_as(tomasz, id, "Nightly import", "").await;
    let section: serde_json::Value = app
        .call_as(tomasz, "api_tokens", &[("id", &id.to_string())])
        .await
        .json()
        .await
        .expect("json");
    let token_id = section["tokens"][0]["id"].as_i64().expect("token id");
    (id, token_id, token)
}

/// Every one of `what` (server functions, REST operations) has a row, and
/// every row names one that exists.
fn assert_one_row_each(what: &str, existing: &BTreeSet<String>, listed: &BTreeSet<String>) {
    let missing: Vec<&String> = existing.difference(listed).collect();
    assert!(
        missing.is_empty(),
        "{what} without a row in the matrix: {missing:?}"
    );
    let stale: Vec<&String> = listed.difference(existing).collect();
    assert!(
        stale.is_empty(),
        "rows for {what} that do not exist: {stale:?}"
    );
}

/// Everything of organisation `id` a call could change, as one text.
pub async fn snapshot(app: &TestApp, organisation: i64) -> String {
    // Each row as text (CAST, since PostgreSQL's || joins text only).
    let queries = [
        "SELECT CAST(id AS TEXT) || state || first_name || last_name || email || initials
         FROM users WHERE organisation_id = $1 ORDER BY id",
        "SELECT CAST(r.id AS TEXT) || r.name || r.description || COALESCE(rp.permission, '')
         FROM roles r LEFT JOIN role_permissions rp ON rp.role_id = r.id
         WHERE r.organisation_id = $1 ORDER BY r.id, rp.permission",
        "SELECT CAST(p.id AS TEXT) || p.name || CAST(COALESCE(pr.role_id, 0) AS TEXT)
         FROM profiles p LEFT JOIN profile_roles pr ON pr.profile_id = p.id
         WHERE p.organisation_id = $1 ORDER BY p.id, pr.role_id",
        "SELECT CAST(ur.user_id AS TEXT) || '-' || CAST(ur.role_id AS TEXT)
         FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE u.organisation_id = $1 ORDER BY 1",
        "SELECT CAST(s.id AS TEXT) || '-' || CAST(COALESCE(s.ended_at, 0) AS TEXT)
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.organisation_id = $1 ORDER BY s.id",
        "SELECT CAST(t.user_id AS TEXT) || '-' || CAST(COALESCE(t.enrolled_at, 0) AS TEXT)
         FROM two_factor t JOIN users u ON u.id = t.user_id WHERE u.organisation_id = $1 ORDER BY 1",
        "SELECT CAST(up.user_id AS TEXT) || '-' || CAST(up.profile_id AS TEXT)
         FROM user_profiles up JOIN users u ON u.id = up.user_id WHERE u.organisation_id = $1 ORDER BY 1",
        "SELECT CAST(id AS TEXT) || '-' || CAST(user_id AS TEXT) || '-' || name || '-'
                || CAST(COALESCE(expires_at, 0) AS TEXT) || '-' || CAST(COALESCE(revoked_at, 0) AS TEXT)
                || '-' || CAST(COALESCE(last_used_at, 0) AS TEXT)
         FROM api_tokens WHERE organisation_id = $1 ORDER BY id",
        "SELECT CAST(a.id AS TEXT) || a.name || a.redirect_uris || a.audience || COALESCE(a.secret_hash, '')
                || CAST(COALESCE(a.disabled_at, 0) AS TEXT) || '-' || CAST(COALESCE(ar.role_id, 0) AS TEXT)
         FROM applications a LEFT JOIN application_roles ar ON ar.application_id = a.id
         WHERE a.organisation_id = $1 ORDER BY a.id, ar.role_id",
        "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE organisation_id = $1",
        "SELECT CAST(COUNT(*) AS TEXT) FROM email_outbox WHERE organisation_id = $1",
    ];
    let mut text = String::new();
    for query in queries {
        let rows: Vec<(String,)> = sqlx::query_as(query)
            .bind(organisation)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        for (row,) in rows {
            text.push_str(&row);
            text.push('\n');
        }
        text.push_str("--\n");
    }
    text
}

async fn one(app: &TestApp, query: &str, bind: i64) -> String {
    let (id,): (i64,) = sqlx::query_as(query)
        .bind(bind)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    id.to_string()
}

async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    args: &[(&'static str, String)],
) -> StatusCode {
    let form: Vec<(&str, &str)> = args.iter().map(|(f, v)| (*f, v.as_str())).collect();
    app.call_raw_as(client, function, &form).await.status()
}

both_backends!(
    async fn every_server_function_is_guarded_and_scoped_to_its_organisation(app: TestApp) {
        let rows = rows();
        let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.trim_start_matches("/fn/").to_owned())
            .collect();
        let listed: BTreeSet<String> = rows.iter().map(|r| r.function.to_owned()).collect();
        assert_one_row_each("server functions", &registered, &listed);

        // Organisation A: Siân (every permission, platform administrator)
        // and Zoë (no roles). Organisation B: Hillside Academy and Tomasz.
        app.set_up_first_administrator().await;
        let (own_user, zoe) = app
            .add_and_activate(&person_form(
                "Zoë",
                "Ångström",
                "zoe@riverside.example",
                "ZA",
            ))
            .await;
        let (tomasz_browser, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        let (api_user, api_token, _) = hillside_api_user(&app, &tomasz_browser).await;
        let (own_api_user, _) = app
            .api_user_with_token(
                "Riverside",
                "Importer",
                "importer@riverside.example",
                "RI",
                &[],
                "Import",
            )
            .await;
        let ids = Ids {
            user: tomasz.to_string(),
            role: one(
                &app,
                "SELECT id FROM roles WHERE organisation_id = $1 AND name = 'Teacher'",
                hillside,
            )
            .await,
            profile: one(
                &app,
                "SELECT id FROM profiles WHERE organisation_id = $1 AND name = 'Teaching staff'",
                hillside,
            )
            .await,
            session: one(
                &app,
                "SELECT MAX(id) FROM sessions WHERE user_id = $1 AND ended_at IS NULL",
                tomasz,
            )
            .await,
            organisation: hillside.to_string(),
            own_user: own_user.to_string(),
            own_profile: one(
                &app,
                "SELECT p.id FROM profiles p JOIN users u ON u.organisation_id = p.organisation_id
                 WHERE u.id = $1 AND p.name = 'Teaching staff'",
                own_user,
            )
            .await,
            api_user: api_user.to_string(),
            api_token: api_token.to_string(),
            own_api_user: own_api_user.to_string(),
            application: application_of(&app, &tomasz_browser, "Hillside wiki").await,
            own_application: application_of(&app, &app.client, "Riverside wiki").await,
        };
        let before = snapshot(&app, hillside).await;

        let mut failures = Vec::new();
        for row in &rows {
            let args = (row.args)(&ids);
            let anonymous = call(&app, &app.new_browser(), row.function, &args).await;
            let refused_anonymously = anonymous == StatusCode::UNAUTHORIZED;
            match row.access {
                // A public function may still say no to what it is given
                // (a wrong password is 401), but never fails or forbids.
                Access::Public
                    if anonymous == StatusCode::FORBIDDEN || anonymous.is_server_error() =>
                {
                    failures.push(format!(
                        "{}: public, but anonymous got {anonymous}",
                        row.function
                    ))
                }
                Access::Public => {}
                _ if !refused_anonymously => failures.push(format!(
                    "{}: anonymous got {anonymous}, not 401",
                    row.function
                )),
                _ => {}
            }
            if matches!(row.access, Access::Platform | Access::Permission(_)) {
                let without = call(&app, &zoe, row.function, &args).await;
                if without != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{}: signed in without {:?} got {without}, not 403",
                        row.function, row.access
                    ));
                }
            }
            if row.names_other_organisation {
                let other = call(&app, &app.client, row.function, &args).await;
                if other != StatusCode::NOT_FOUND {
                    failures.push(format!(
                        "{} {args:?}: organisation A's administrator with B's ids got {other}, not 404",
                        row.function
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(
            snapshot(&app, hillside).await,
            before,
            "organisation B changed"
        );
    }
);

both_backends!(
    async fn pages_of_another_organisations_things_answer_not_found(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        let role = one(
            &app,
            "SELECT id FROM roles WHERE organisation_id = $1 AND name = 'Teacher'",
            hillside,
        )
        .await;
        let profile = one(
            &app,
            "SELECT id FROM profiles WHERE organisation_id = $1 AND name = 'Teaching staff'",
            hillside,
        )
        .await;
        for path in [
            format!("/users/{tomasz}"),
            format!("/users/{tomasz}/deactivate"),
            format!("/roles/{role}"),
            format!("/profiles/{profile}"),
            "/users/999999".to_owned(),
        ] {
            let response = app.get(&path).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            let html = response.text().await.expect("html");
            assert!(html.contains("was not found"), "{path}: {html}");
            assert!(
                !html.contains("Tomasz"),
                "{path} shows nothing of organisation B"
            );
        }
        // Its own pages still answer 200.
        assert_eq!(app.get("/roles").await.status(), StatusCode::OK);
    }
);

// ---------------------------------------------------------------------------
// The REST API: every operation of the OpenAPI document has a row here.

/// Who may call a REST operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RestAccess {
    /// Any API user with a working token (about itself).
    Token,
    /// API users whose roles give this permission (key).
    Permission(&'static str),
}

struct RestRow {
    method: &'static str,
    /// As the document writes it, with `{id}`, `{role_id}`, `{profile_id}`.
    path: &'static str,
    access: RestAccess,
    /// A body that is valid apart from whose ids the address names.
    body: Option<fn() -> serde_json::Value>,
}

fn rest_rows() -> Vec<RestRow> {
    use RestAccess::*;
    use serde_json::json;
    let row = |method, path, access, body| RestRow {
        method,
        path,
        access,
        body,
    };
    vec![
        row("GET", "/api/v1/whoami", Token, None),
        row("GET", "/api/v1/users", Permission("users.view"), None),
        row(
            "POST",
            "/api/v1/users",
            Permission("users.manage"),
            Some(
                || json!({"first_name": "Matrix", "last_name": "Person", "email": "matrix.person@riverside.example"}),
            ),
        ),
        row("GET", "/api/v1/users/{id}", Permission("users.view"), None),
        row(
            "PATCH",
            "/api/v1/users/{id}",
            Permission("users.manage"),
            Some(|| json!({"first_name": "Changed"})),
        ),
        row(
            "POST",
            "/api/v1/users/{id}/emails",
            Permission("users.manage"),
            Some(|| json!({"kind": "set_password"})),
        ),
        row(
            "POST",
            "/api/v1/users/{id}/deactivate",
            Permission("users.manage"),
            None,
        ),
        row(
            "POST",
            "/api/v1/users/{id}/reactivate",
            Permission("users.manage"),
            None,
        ),
        row(
            "PUT",
            "/api/v1/users/{id}/roles/{role_id}",
            Permission("users.manage"),
            None,
        ),
        row(
            "DELETE",
            "/api/v1/users/{id}/roles/{role_id}",
            Permission("users.manage"),
            None,
        ),
        row(
            "PUT",
            "/api/v1/users/{id}/profiles/{profile_id}",
            Permission("users.manage"),
            None,
        ),
        row(
            "DELETE",
            "/api/v1/users/{id}/profiles/{profile_id}",
            Permission("users.manage"),
            None,
        ),
        row("GET", "/api/v1/roles", Permission("users.view"), None),
        row("GET", "/api/v1/profiles", Permission("users.view"), None),
    ]
}

/// Every `METHOD /path` of the REST API's OpenAPI document.
fn documented_operations() -> BTreeSet<String> {
    let document = serde_json::to_value(backend::rest::document()).expect("json");
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .into_iter()
            .filter(|method| item.get(*method).is_some())
            .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect()
}

/// The ids an address is filled with.
#[derive(Debug, Clone, Copy)]
struct PathIds {
    user: i64,
    role: i64,
    profile: i64,
}

fn fill(template: &str, ids: &PathIds) -> String {
    template
        .replace("{id}", &ids.user.to_string())
        .replace("{role_id}", &ids.role.to_string())
        .replace("{profile_id}", &ids.profile.to_string())
}

async fn rest_call(
    app: &TestApp,
    row: &RestRow,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String) {
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
    let mut request = app.api(method, path, token);
    if let Some(body) = row.body {
        request = request.json(&body());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    if status.is_client_error() && content_type != "application/problem+json" {
        return (status, format!("not a problem ({content_type}): {text}"));
    }
    (status, text)
}

async fn organisation_ids(app: &TestApp, user: i64) -> PathIds {
    let role = one(
        app,
        "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
         WHERE u.id = $1 AND r.name = 'Teacher'",
        user,
    )
    .await;
    let profile = one(
        app,
        "SELECT p.id FROM profiles p JOIN users u ON u.organisation_id = p.organisation_id
         WHERE u.id = $1 AND p.name = 'Teaching staff'",
        user,
    )
    .await;
    PathIds {
        user,
        role: role.parse().expect("id"),
        profile: profile.parse().expect("id"),
    }
}

both_backends!(
    async fn every_rest_operation_is_guarded_and_scoped_to_its_organisation(app: TestApp) {
        let rows = rest_rows();
        let documented = documented_operations();
        let listed: BTreeSet<String> = rows
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_one_row_each("REST operations", &documented, &listed);

        // Organisation A: an API user with every permission (Administrator)
        // and one with none of the API's (Teacher); Zoë, pending, to act on.
        // Organisation B: Hillside Academy, Tomasz and its API user.
        app.set_up_first_administrator().await;
        let (_, everything) = app
            .api_user_with_token(
                "Riverside",
                "Admin Sync",
                "admin.sync@riverside.example",
                "RA",
                &["Administrator"],
                "Everything",
            )
            .await;
        let (_, teacher) = app
            .api_user_with_token(
                "Riverside",
                "Pupil Portal",
                "portal@riverside.example",
                "RP",
                &["Teacher"],
                "Pupils only",
            )
            .await;
        let zoe = app
            .add_person(&person_form(
                "Zoë",
                "Ångström",
                "zoe@riverside.example",
                "ZA",
            ))
            .await;
        let own = organisation_ids(&app, zoe).await;
        let (tomasz_browser, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        let (hillside_api_user, _, hillside_token) = hillside_api_user(&app, &tomasz_browser).await;
        let theirs = organisation_ids(&app, tomasz).await;
        // B's things in the address: B's person, B's API user, and A's own
        // account with B's role or profile.
        let foreign = [
            theirs,
            PathIds {
                user: hillside_api_user,
                ..theirs
            },
            PathIds {
                user: zoe,
                ..theirs
            },
        ];
        let before = snapshot(&app, hillside).await;

        let mut failures = Vec::new();
        for row in &rows {
            let name = format!("{} {}", row.method, row.path);
            let own_path = fill(row.path, &own);
            let (status, body) = rest_call(&app, row, &own_path, None).await;
            if status != StatusCode::UNAUTHORIZED {
                failures.push(format!("{name}: no token got {status}, not 401: {body}"));
            }
            if let RestAccess::Permission(permission) = row.access {
                let (status, body) = rest_call(&app, row, &own_path, Some(&teacher)).await;
                if status != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{name}: an API user without {permission} got {status}, not 403: {body}"
                    ));
                }
            }
            if row.path.contains('{') {
                for ids in &foreign {
                    // A's own account with A's role is not B's: skip it.
                    if ids.user == zoe && !row.path.contains("_id}") {
                        continue;
                    }
                    let path = fill(row.path, ids);
                    let (status, body) = rest_call(&app, row, &path, Some(&everything)).await;
                    if status != StatusCode::NOT_FOUND {
                        failures.push(format!(
                            "{} {path}: organisation A's API user with B's ids got {status}, not 404: {body}",
                            row.method
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(
            snapshot(&app, hillside).await,
            before,
            "organisation B changed"
        );
        // B's own API user still sees its own organisation only.
        let list = app.rest(&hillside_token).list_users("").await.unwrap();
        let emails: Vec<&str> = list.items.iter().map(|u| u.email.as_str()).collect();
        assert!(
            emails.iter().all(|e| e.ends_with("@hillside.example")),
            "{emails:?}"
        );
    }
);
