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
            |_| vec![("email", s("sian@elsewhere.example"))],
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
    ]
}

/// Everything of organisation `id` a call could change, as one text.
async fn snapshot(app: &TestApp, organisation: i64) -> String {
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
        let missing: Vec<&String> = registered.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "server functions without a row in the matrix: {missing:?}"
        );
        let stale: Vec<&String> = listed.difference(&registered).collect();
        assert!(
            stale.is_empty(),
            "rows for server functions that do not exist: {stale:?}"
        );

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
        let (_tomasz, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
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
