//! Nobody gets more than they hold (the subset rule): an administrator acts
//! on an account only when its permissions are within their own; grants,
//! and changes to what roles and profiles carry, stay within the granter's
//! permissions; nobody changes their own roles or profiles; platform
//! administrators' accounts are for platform administrators; the last
//! manager of roles cannot be deactivated.
//!
//! The matrix tests list every server function and REST operation: each is
//! either one that acts on an account (and is tried against accounts beyond
//! the actor's reach, which must be refused and left unchanged) or is named
//! as one that does not, so a new one without its row fails.

use crate::both_backends;
use crate::helpers::*;
use crate::matrix::snapshot;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

/// Server functions that act on an account named by `id`.
const ACTING_ON_AN_ACCOUNT: [&str; 9] = [
    "update_user",
    "send_user_email",
    "set_user_active",
    "reset_two_factor",
    "end_user_sessions",
    "save_user_access",
    "create_api_token",
    "revoke_api_token",
    "sign_out_of_applications",
];

/// Server functions that do not act on another existing account: public
/// steps, one's own account, reads, new accounts (which hold nothing), the
/// definitions of roles and profiles (tested below), organisations.
const NOT_ACTING_ON_AN_ACCOUNT: [&str; 56] = [
    "whoami",
    "sign_in",
    "sign_out",
    "setup_link",
    "complete_setup",
    "password_link",
    "choose_password",
    "forgotten_password",
    "email_change_link",
    "confirm_email",
    "email_change_undo_link",
    "undo_email_change",
    "sign_in_code",
    "two_factor_enrolment",
    "confirm_two_factor",
    "profile",
    "update_my_details",
    "change_my_email",
    "change_my_password",
    "end_my_session",
    "recovery_codes",
    "my_two_factor",
    "change_two_factor",
    "organisations",
    "undelivered_mail",
    "add_organisation",
    "enter_organisation",
    "organisation_settings",
    "save_organisation_settings",
    "audit_log",
    "list_users",
    "user",
    "add_user_hints",
    "add_user",
    "user_security",
    "user_access",
    "roles",
    "role",
    "add_role",
    "save_role",
    "profiles",
    "access_profile",
    "add_profile",
    "save_profile",
    "api_tokens",
    "api_reference",
    "applications",
    "application",
    "register_application",
    "save_application",
    "new_application_secret",
    "set_application_disabled",
    "application_sign_ins",
    "my_application_sign_ins",
    "sign_out_of_my_applications",
    "refused_application",
];

/// REST operations that act on the account `{id}`.
const REST_ACTING_ON_AN_ACCOUNT: [(&str, &str); 8] = [
    ("PATCH", "/api/v1/users/{id}"),
    ("POST", "/api/v1/users/{id}/emails"),
    ("POST", "/api/v1/users/{id}/deactivate"),
    ("POST", "/api/v1/users/{id}/reactivate"),
    ("PUT", "/api/v1/users/{id}/roles/{role_id}"),
    ("DELETE", "/api/v1/users/{id}/roles/{role_id}"),
    ("PUT", "/api/v1/users/{id}/profiles/{profile_id}"),
    ("DELETE", "/api/v1/users/{id}/profiles/{profile_id}"),
];

/// REST operations that read, or make a new account (which holds nothing).
const REST_NOT_ACTING_ON_AN_ACCOUNT: [(&str, &str); 6] = [
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("GET", "/api/v1/roles"),
    ("GET", "/api/v1/profiles"),
];

/// A role of Riverside College (Siân's organisation) by name.
async fn role(app: &TestApp, name: &str) -> i64 {
    id_in_riverside(app, "roles", name).await
}

async fn profile(app: &TestApp, name: &str) -> i64 {
    id_in_riverside(app, "profiles", name).await
}

async fn id_in_riverside(app: &TestApp, table: &str, name: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(&format!(
        "SELECT t.id FROM {table} t JOIN users u ON u.organisation_id = t.organisation_id
         WHERE u.username = 'sian.obrien' AND t.name = $1"
    ))
    .bind(name)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap_or_else(|e| panic!("{table} {name}: {e}"));
    id
}

/// Makes `user_id` hold exactly `roles`, as the administrator on `client`.
async fn give(
    app: &TestApp,
    client: &reqwest::Client,
    user_id: i64,
    roles: &[i64],
) -> reqwest::Response {
    let id = user_id.to_string();
    let roles: Vec<String> = roles.iter().map(i64::to_string).collect();
    let mut form = vec![("id", id.as_str())];
    form.extend(roles.iter().map(|r| ("roles[]", r.as_str())));
    app.call_as(client, "save_user_access", &form).await
}

/// `give` as Siân, which must work.
async fn siân_gives(app: &TestApp, user_id: i64, roles: &[i64]) {
    let response = give(app, &app.client, user_id, roles).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

/// A new role of Riverside College carrying `permissions`, made by Siân.
async fn role_with(app: &TestApp, name: &str, permissions: &[&str]) -> i64 {
    let added = app.call("add_role", &[("name", name)]).await;
    assert_eq!(added.status(), StatusCode::OK, "role {name} added");
    let id = role(app, name).await;
    let saved = save_role(app, &app.client, id, name, permissions).await;
    assert_eq!(saved.status(), StatusCode::OK, "role {name} saved");
    id
}

/// A person added and activated, given `roles` by Siân and signed in (with
/// two-factor authentication where their roles require it).
async fn signed_in_with_roles(
    app: &TestApp,
    first: &'static str,
    last: &'static str,
    email: &'static str,
    initials: &'static str,
    username: &str,
    roles: &[i64],
) -> (i64, reqwest::Client) {
    let (id, _) = app
        .add_and_activate(&person_form(first, last, email, initials))
        .await;
    siân_gives(app, id, roles).await;
    (id, app.signed_in_browser(username, PASSWORD).await)
}

async fn organisation_of(app: &TestApp, user_id: i64) -> i64 {
    let (organisation,): (i64,) = sqlx::query_as("SELECT organisation_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("organisation");
    organisation
}

/// Saves a role's name and permissions as the administrator on `client`.
async fn save_role(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    name: &str,
    permissions: &[&str],
) -> reqwest::Response {
    let id = id.to_string();
    let mut form = vec![("id", id.as_str()), ("name", name)];
    form.extend(permissions.iter().map(|p| ("permissions[]", *p)));
    app.call_as(client, "save_role", &form).await
}

/// A user page as `browser` sees it.
async fn user_page(app: &TestApp, browser: &reqwest::Client, user_id: i64) -> String {
    browser
        .get(format!("{}/users/{user_id}", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

/// How many rows `query` counts for `id`.
async fn count(app: &TestApp, query: &str, id: i64) -> i64 {
    let (count,): (i64,) = sqlx::query_as(query)
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect(query);
    count
}

/// The message of a refusal by the subset rule.
async fn overreach(response: reqwest::Response) -> String {
    refusal(response, StatusCode::FORBIDDEN, "Overreach").await
}

/// Riverside College's cast: Siân (platform administrator, every
/// permission); Uma, a user administrator who also manages API users;
/// Ola, an Administrator (every permission) who is not a platform
/// administrator; Paul, pending, a Teacher (pupil-level data, which Uma
/// lacks); an Importer API user holding Administrator, with a token.
struct Cast {
    sian: i64,
    uma: i64,
    uma_browser: reqwest::Client,
    ola_browser: reqwest::Client,
    paul: i64,
    importer: i64,
    importer_token: i64,
    office_staff: i64,
}

async fn cast(app: &TestApp) -> Cast {
    app.set_up_first_administrator().await;
    let sian = app.user_id("sian.obrien").await;
    let token_keeper = role_with(app, "Token keeper", &["api_users.manage"]).await;
    let user_administrator = role(app, "User administrator").await;
    let administrator = role(app, "Administrator").await;
    let (uma, uma_browser) = signed_in_with_roles(
        app,
        "Uma",
        "Patel",
        "uma@riverside.example",
        "UP",
        "uma.patel",
        &[user_administrator, token_keeper],
    )
    .await;
    let (_, ola_browser) = signed_in_with_roles(
        app,
        "Ola",
        "Nordmann",
        "ola@riverside.example",
        "ON",
        "ola.nordmann",
        &[administrator],
    )
    .await;
    let paul = app
        .add_person(&person_form(
            "Paul",
            "Jones",
            "paul@riverside.example",
            "PJ",
        ))
        .await;
    siân_gives(app, paul, &[role(app, "Teacher").await]).await;
    let (importer, _) = app
        .api_user_with_token(
            "Riverside",
            "Importer",
            "importer@riverside.example",
            "RI",
            &["Administrator"],
            "Nightly",
        )
        .await;
    let (importer_token,): (i64,) = sqlx::query_as("SELECT id FROM api_tokens WHERE user_id = $1")
        .bind(importer)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("token");
    Cast {
        sian,
        uma,
        uma_browser,
        ola_browser,
        paul,
        importer,
        importer_token,
        office_staff: role(app, "Office staff").await,
    }
}

/// The arguments of `function` acting on `target`.
fn arguments(function: &str, target: i64, cast: &Cast) -> Vec<(&'static str, String)> {
    let id = ("id", target.to_string());
    match function {
        "update_user" => vec![
            id,
            ("first_name", "Changed".into()),
            ("last_name", "Name".into()),
            ("email", "attacker@elsewhere.example".into()),
            ("initials", "CN".into()),
        ],
        "send_user_email" => vec![id, ("kind", "set_password".into())],
        "set_user_active" => vec![id, ("active", "false".into())],
        "save_user_access" => vec![id, ("roles[]", cast.office_staff.to_string())],
        "create_api_token" => vec![id, ("name", "Stolen".into()), ("expires_on", "".into())],
        "revoke_api_token" => vec![id, ("token_id", cast.importer_token.to_string())],
        _ => vec![id],
    }
}

fn is_token_function(function: &str) -> bool {
    function.ends_with("_api_token")
}

both_backends!(
    async fn every_server_function_acting_on_an_account_refuses_one_beyond_the_actor(app: TestApp) {
        let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.trim_start_matches("/fn/").to_owned())
            .collect();
        let classified: BTreeSet<String> = ACTING_ON_AN_ACCOUNT
            .iter()
            .chain(&NOT_ACTING_ON_AN_ACCOUNT)
            .map(|f| (*f).to_owned())
            .collect();
        assert_eq!(
            registered, classified,
            "each server function is classified as acting on an account or not"
        );

        let cast = cast(&app).await;
        let riverside = organisation_of(&app, cast.sian).await;
        let before = snapshot(&app, riverside).await;

        // Uma lacks pupil-level data (Paul) and most of what the Importer
        // holds; Ola holds everything but is no platform administrator (Siân).
        let attempts = [
            (
                &cast.uma_browser,
                cast.paul,
                "holds permissions you do not hold",
            ),
            (
                &cast.uma_browser,
                cast.importer,
                "holds permissions you do not hold",
            ),
            (&cast.ola_browser, cast.sian, "platform administrator"),
        ];
        let mut failures = Vec::new();
        for (actor, target, reason) in attempts {
            let is_api_user = target == cast.importer;
            for function in ACTING_ON_AN_ACCOUNT {
                if is_token_function(function) && !is_api_user {
                    continue;
                }
                let args = arguments(function, target, &cast);
                let form: Vec<(&str, &str)> = args.iter().map(|(f, v)| (*f, v.as_str())).collect();
                let response = app.call_raw_as(actor, function, &form).await;
                let status = response.status();
                let body = error_of(response).await;
                let message = body["Overreach"].as_str().unwrap_or_default();
                if status != StatusCode::FORBIDDEN || !message.contains(reason) {
                    failures.push(format!("{function} on {target}: {status} {body}"));
                }
            }
        }
        // Nobody changes their own roles, even to fewer.
        let own = app
            .call_raw_as(
                &cast.uma_browser,
                "save_user_access",
                &[("id", &cast.uma.to_string())],
            )
            .await;
        let message = overreach(own).await;
        assert!(message.contains("own roles"), "{message}");

        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(
            snapshot(&app, riverside).await,
            before,
            "nothing changed in the organisation"
        );
    }
);

/// `METHOD path` of every operation of the REST API's document.
fn documented_operations() -> BTreeSet<String> {
    let document = serde_json::to_value(backend::rest::document()).expect("json");
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            ["get", "put", "post", "delete", "patch"]
                .into_iter()
                .filter(|method| item.get(*method).is_some())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect()
}

both_backends!(
    async fn every_rest_operation_acting_on_an_account_refuses_one_beyond_the_api_user(
        app: TestApp,
    ) {
        let classified: BTreeSet<String> = REST_ACTING_ON_AN_ACCOUNT
            .iter()
            .chain(&REST_NOT_ACTING_ON_AN_ACCOUNT)
            .map(|(method, path)| format!("{method} {path}"))
            .collect();
        assert_eq!(
            documented_operations(),
            classified,
            "each REST operation is classified as acting on an account or not"
        );

        let cast = cast(&app).await;
        let (_, sync) = app
            .api_user_with_token(
                "HR",
                "Sync",
                "hr.sync@riverside.example",
                "HS",
                &["User administrator"],
                "HR import",
            )
            .await;
        // The first request of a minute notes the token's last use.
        app.rest(&sync).whoami().await.unwrap();
        let riverside = organisation_of(&app, cast.sian).await;
        let before = snapshot(&app, riverside).await;
        let office_administrator = profile(&app, "Office administrator").await;

        let mut failures = Vec::new();
        for (target, reason) in [
            (cast.paul, "holds permissions you do not hold"),
            (cast.importer, "holds permissions you do not hold"),
            (cast.sian, "platform administrator"),
        ] {
            for (method, path) in REST_ACTING_ON_AN_ACCOUNT {
                let path = path
                    .replace("{id}", &target.to_string())
                    .replace("{role_id}", &cast.office_staff.to_string())
                    .replace("{profile_id}", &office_administrator.to_string());
                let mut request = app.api(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    &path,
                    Some(&sync),
                );
                if path.ends_with("/emails") {
                    request = request.json(&serde_json::json!({"kind": "set_password"}));
                } else if method == "PATCH" {
                    request =
                        request.json(&serde_json::json!({"email": "attacker@elsewhere.example"}));
                }
                let response = request.send().await.expect("request");
                let status = response.status();
                let body: Value = response.json().await.unwrap_or_default();
                let detail = body["detail"].as_str().unwrap_or_default();
                if status != StatusCode::FORBIDDEN || !detail.contains(reason) {
                    failures.push(format!("{method} {path}: {status} {body}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(
            snapshot(&app, riverside).await,
            before,
            "nothing changed in the organisation"
        );
    }
);

both_backends!(
    async fn an_administrator_acts_on_and_grants_within_what_they_hold(app: TestApp) {
        let cast = cast(&app).await;
        let teacher = role(&app, "Teacher").await;
        let yara = app
            .add_person(&person_form(
                "Yara",
                "Haddad",
                "yara@riverside.example",
                "YH",
            ))
            .await;

        // Within her reach: User administrator (which she holds) she gives,
        // and she sends the welcome email.
        let user_administrator = role(&app, "User administrator").await;
        let given = give(&app, &cast.uma_browser, yara, &[user_administrator]).await;
        assert_eq!(given.status(), StatusCode::OK);
        let sent = app
            .call_as(
                &cast.uma_browser,
                "send_user_email",
                &[("id", &yara.to_string()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);

        // Beyond it: Teacher carries pupil-level data.
        let refused = give(
            &app,
            &cast.uma_browser,
            yara,
            &[user_administrator, teacher],
        )
        .await;
        let message = overreach(refused).await;
        assert!(
            message.contains(
                "permissions you do not hold (Can view pupil-level data, Can edit pupil-level data and Can view reports)"
            ),
            "{message}"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM user_roles WHERE user_id = $1",
                yara
            )
            .await,
            1,
            "still User administrator only"
        );

        // The pages say so: roles carrying what she lacks are locked for
        // her, Paul's page has no actions and says why, Yara's has them.
        let access: Value = app
            .call_as(
                &cast.uma_browser,
                "user_access",
                &[("id", &yara.to_string())],
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            locked_roles(&access),
            ["Administrator", "Office staff", "Teacher"]
        );
        assert_eq!(access["can_assign"], true);
        let paul: Value = app
            .call_as(&cast.uma_browser, "user", &[("id", &cast.paul.to_string())])
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(paul["can_manage"], false);
        assert!(
            paul["refusal"]
                .as_str()
                .expect("a reason")
                .contains("Paul Jones holds permissions you do not hold (Can view pupil-level data, Can edit pupil-level data and Can view reports)"),
            "{paul}"
        );
        let page = user_page(&app, &cast.uma_browser, cast.paul).await;
        assert!(page.contains("holds permissions you do not hold"), "{page}");
        assert!(!page.contains("Send set-password email"), "no actions");
        assert!(!page.contains(">Deactivate<"), "no actions");
        let page = user_page(&app, &cast.uma_browser, yara).await;
        assert!(page.contains("Send set-password email"), "actions");

        // api_users.manage alone mints tokens only for API users within reach.
        let (weak, _) = app
            .api_user_with_token(
                "Riverside",
                "Reports",
                "reports@riverside.example",
                "RR",
                &[],
                "Reports",
            )
            .await;
        app.create_token_as(&cast.uma_browser, weak, "Second", "")
            .await;
        let tokens: Value = app
            .call_as(
                &cast.uma_browser,
                "api_tokens",
                &[("id", &cast.importer.to_string())],
            )
            .await
            .json()
            .await
            .expect("json");
        assert!(
            tokens["refusal"]
                .as_str()
                .expect("a reason")
                .contains("Riverside Importer holds permissions you do not hold"),
            "{tokens}"
        );
    }
);

both_backends!(
    async fn roles_and_profiles_change_only_by_permissions_their_editor_holds(app: TestApp) {
        app.set_up_first_administrator().await;
        let editor_role = role_with(&app, "Role editor", &["roles.manage", "users.view"]).await;
        let (_, eve) = signed_in_with_roles(
            &app,
            "Eve",
            "Adams",
            "eve@riverside.example",
            "EA",
            "eve.adams",
            &[editor_role],
        )
        .await;
        let office_staff = role(&app, "Office staff").await;
        let teacher = role(&app, "Teacher").await;
        let office_administrator = profile(&app, "Office administrator").await;
        let user_administrator = role(&app, "User administrator").await;
        // Office staff carries users.view and reports.view; Eve holds only
        // the first. Adding pupils.edit, or removing reports.view, is refused.
        for (permissions, lacking) in [
            (
                &["users.view", "reports.view", "pupils.edit"][..],
                "Can edit pupil-level data",
            ),
            (&["users.view"][..], "Can view reports"),
        ] {
            let message =
                overreach(save_role(&app, &eve, office_staff, "Office staff", permissions).await)
                    .await;
            assert!(message.contains(lacking), "{message}");
        }
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
                office_staff
            )
            .await,
            2,
            "unchanged"
        );
        // Renaming, with what it carries unchanged, is hers to do.
        let renamed = save_role(
            &app,
            &eve,
            office_staff,
            "Front office",
            &["users.view", "reports.view"],
        )
        .await;
        assert_eq!(renamed.status(), StatusCode::OK);

        // Taking from a role what she holds herself is refused too while
        // someone beyond her holds it (Siân holds Administrator)...
        let administrator = role(&app, "Administrator").await;
        let all_but_users_view: Vec<&str> = [
            "users.manage",
            "roles.manage",
            "api_users.manage",
            "applications.manage",
            "audit.view",
            "pupils.view",
            "pupils.edit",
            "reports.view",
        ]
        .to_vec();
        let message = overreach(
            save_role(
                &app,
                &eve,
                administrator,
                "Administrator",
                &all_but_users_view,
            )
            .await,
        )
        .await;
        assert!(
            message.contains("changes what its holders may do"),
            "{message}"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
                administrator
            )
            .await,
            9,
            "unchanged"
        );
        // ...but her own role, held by nobody beyond her, is hers to change.
        let narrowed = save_role(&app, &eve, editor_role, "Role editor", &["roles.manage"]).await;
        assert_eq!(narrowed.status(), StatusCode::OK);

        // A profile: adding Teacher (pupil-level data) is refused.
        let id = office_administrator.to_string();
        let (ua, os, t) = (
            user_administrator.to_string(),
            office_staff.to_string(),
            teacher.to_string(),
        );
        let refused = app
            .call_as(
                &eve,
                "save_profile",
                &[
                    ("id", id.as_str()),
                    ("name", "Office administrator"),
                    ("roles[]", ua.as_str()),
                    ("roles[]", os.as_str()),
                    ("roles[]", t.as_str()),
                ],
            )
            .await;
        let message = overreach(refused).await;
        assert!(message.contains("pupil-level data"), "{message}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM profile_roles WHERE profile_id = $1",
                office_administrator
            )
            .await,
            2,
            "unchanged"
        );
    }
);

both_backends!(
    async fn the_last_manager_of_roles_cannot_be_deactivated(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        // Siân, a platform administrator holding every permission, works in
        // Hillside Academy, where Tomasz alone manages roles.
        app.enter(hillside).await;
        let refused = app
            .call(
                "set_user_active",
                &[("id", &tomasz.to_string()), ("active", "false")],
            )
            .await;
        let message = refusal(refused, StatusCode::CONFLICT, "Conflict").await;
        assert!(
            message.contains("nobody in the organisation able to manage roles"),
            "{message}"
        );
        let (state,): (String,) = sqlx::query_as("SELECT state FROM users WHERE id = $1")
            .bind(tomasz)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("state");
        assert_eq!(state, "active");
    }
);

both_backends!(
    async fn nobody_resets_their_own_two_factor_authentication_as_an_administrator(app: TestApp) {
        app.set_up_first_administrator().await;
        let sian = app.user_id("sian.obrien").await;
        let response = app
            .call("reset_two_factor", &[("id", &sian.to_string())])
            .await;
        let message = refusal(response, StatusCode::CONFLICT, "Conflict").await;
        assert!(message.contains("My profile"), "{message}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM two_factor WHERE user_id = $1 AND enrolled_at IS NOT NULL",
                sian
            )
            .await,
            1,
            "still enrolled"
        );
    }
);

both_backends!(
    async fn a_link_sent_by_an_administrator_stops_working_once_the_account_outgrows_them(
        app: TestApp,
    ) {
        let cast = cast(&app).await;
        // Uma sends a pending account, holding nothing yet, a welcome link
        // to an address of hers.
        let quinn = app
            .add_person(&person_form(
                "Quinn",
                "Hughes",
                "quinn@riverside.example",
                "QH",
            ))
            .await;
        let id = quinn.to_string();
        let changed = app
            .call_as(
                &cast.uma_browser,
                "update_user",
                &[
                    ("id", id.as_str()),
                    ("first_name", "Quinn"),
                    ("last_name", "Hughes"),
                    ("email", "uma.elsewhere@riverside.example"),
                    ("initials", "QH"),
                ],
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        let sent = app
            .call_as(
                &cast.uma_browser,
                "send_user_email",
                &[("id", id.as_str()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
        let token = app
            .token_in_last_email("uma.elsewhere@riverside.example")
            .await;
        // Siân then makes the account a Teacher, beyond Uma.
        siân_gives(&app, quinn, &[role(&app, "Teacher").await]).await;
        let page = app
            .call_as(&app.new_browser(), "password_link", &[("token", &token)])
            .await;
        assert_eq!(page.status(), StatusCode::GONE);
        let chosen = app
            .call_as(
                &app.new_browser(),
                "choose_password",
                &[
                    ("token", &token),
                    ("password", "lighthouse marmalade quartz 58"),
                ],
            )
            .await;
        assert_eq!(chosen.status(), StatusCode::GONE);
        let (state,): (String,) = sqlx::query_as("SELECT state FROM users WHERE id = $1")
            .bind(quinn)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("state");
        assert_eq!(state, "pending", "not activated by Uma's link");
        // A link Siân sends (she reaches it) works.
        app.call(
            "send_user_email",
            &[("id", id.as_str()), ("kind", "welcome")],
        )
        .await;
        let token = app
            .token_in_last_email("uma.elsewhere@riverside.example")
            .await;
        let page = app
            .call_as(&app.new_browser(), "password_link", &[("token", &token)])
            .await;
        assert_eq!(page.status(), StatusCode::OK);
    }
);
