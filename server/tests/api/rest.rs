//! The REST API over HTTP on both backends: every endpoint's answers, its
//! problems (statuses, `application/problem+json`, field errors), bearer
//! tokens (missing, unknown, expired, revoked, throttled, replicas), and the
//! audit trail an API user leaves.

use crate::both_backends;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SYNC_EMAIL: &str = "hr.sync@riverside.example";
const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

/// Siân sets up Riverside College and gives an API user, HR Sync, the
/// Administrator role and a token called “HR import”; returns its id and token.
async fn administrator_token(app: &TestApp) -> (i64, String) {
    app.set_up_first_administrator().await;
    app.api_user_with_token(
        "HR",
        "Sync",
        SYNC_EMAIL,
        "HS",
        &["Administrator"],
        "HR import",
    )
    .await
}

/// A request without a body.
async fn call(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::Response {
    app.api(method, path, Some(token))
        .send()
        .await
        .expect("request")
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    call(app, Method::GET, path, token).await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.api(method, path, Some(token))
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Creates a person through the API and returns the created account.
async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    api_json(
        send(app, Method::POST, "/api/v1/users", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn role_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let roles = api_json(get(app, "/api/v1/roles", token).await, StatusCode::OK).await;
    roles
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_i64())
        .unwrap_or_else(|| panic!("no role {name} in {roles}"))
}

async fn profile_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let profiles = api_json(get(app, "/api/v1/profiles", token).await, StatusCode::OK).await;
    profiles
        .as_array()
        .expect("profiles")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["id"].as_i64())
        .unwrap_or_else(|| panic!("no profile {name} in {profiles}"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|n| n["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn token_id(app: &TestApp, token: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM api_tokens WHERE token_hash = $1")
        .bind(backend::crypto::tokens::hash(token))
        .fetch_one(&app.state.db.pool)
        .await
        .expect("token row");
    id
}

// ---------------------------------------------------------------------------
// The caller.

both_backends!(
    async fn whoami_names_the_api_user_its_organisation_token_and_permissions(app: TestApp) {
        let (id, token) = administrator_token(&app).await;
        let me = api_json(get(&app, "/api/v1/whoami", &token).await, StatusCode::OK).await;
        assert_eq!(me["user_id"], id);
        assert_eq!(me["first_name"], "HR");
        assert_eq!(me["last_name"], "Sync");
        assert_eq!(me["organisation"]["name"], "Riverside College");
        assert_eq!(me["token"]["name"], "HR import");
        assert_eq!(me["token"]["prefix"], &token[..12]);
        assert_eq!(me["token"]["expires_at"], Value::Null);
        let permissions: Vec<&str> = me["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for key in [
            "users.view",
            "users.manage",
            "roles.manage",
            "api_users.manage",
            "audit.view",
        ] {
            assert!(permissions.contains(&key), "{key} in {permissions:?}");
        }
        // The first token activated the pending API user.
        let (state, kind, _, activated_at) = app.account_row(id).await;
        assert_eq!((state.as_str(), kind.as_str()), ("active", "api"));
        assert_eq!(activated_at, Some(START));
        assert!(
            app.audit_actions_for(id)
                .await
                .contains(&"account.activated".to_owned())
        );
    }
);

both_backends!(
    async fn a_token_is_gat_and_64_hexadecimal_characters_and_only_its_hash_is_stored(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let secret = token.strip_prefix("gat_").expect("gat_ prefix");
        assert_eq!(secret.len(), 64, "{token}");
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
        // Use it for a write, so that the audit log has entries made with it.
        create(
            &app,
            &token,
            json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}),
        )
        .await;
        let tokens: Vec<(String,)> = sqlx::query_as(
            "SELECT name || ' ' || prefix || ' ' || token_hash || ' ' || COALESCE(revoke_reason, '')
             FROM api_tokens",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("tokens");
        let audit: Vec<(String,)> = sqlx::query_as(
            "SELECT action || ' ' || detail || ' ' || client_address FROM audit_log",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit log");
        assert!(!tokens.is_empty() && !audit.is_empty());
        for (row,) in tokens.iter().chain(&audit) {
            assert!(!row.contains(secret), "the token is stored: {row}");
        }
        let (hash,): (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("hash");
        assert_eq!(hash, backend::crypto::tokens::hash(&token));
        // The section shows the token once, and never again.
        let id = app.user_id_by_email(SYNC_EMAIL).await.to_string();
        let again = app.call("api_tokens", &[("id", &id)]).await;
        let section = api_json(again, StatusCode::OK).await;
        assert_eq!(section["new_token"], Value::Null);
        assert_eq!(section["tokens"][0]["prefix"], &token[..12]);
        assert_eq!(section["tokens"][0]["live"], true);
        assert!(!section.to_string().contains(secret));
    }
);

// ---------------------------------------------------------------------------
// Users.

both_backends!(
    async fn creating_a_user_generates_the_username_suggests_initials_and_sends_the_welcome_email(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let response = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({
                "first_name": "Zoë",
                "last_name": "Ångström",
                "email": ZOE_EMAIL,
                "send_welcome_email": true
            }),
        )
        .await;
        let location = location(&response).expect("Location");
        let zoe = api_json(response, StatusCode::CREATED).await;
        let id = zoe["id"].as_i64().expect("id");
        assert_eq!(location, format!("/api/v1/users/{id}"));
        assert_eq!(zoe["username"], "zoe.angstrom");
        assert_eq!(
            zoe["initials"], "ZÅ",
            "as the Add a user form suggests them"
        );
        assert_eq!(zoe["kind"], "person");
        assert_eq!(zoe["state"], "pending");
        assert_eq!(zoe["details_editable"], true);
        assert_eq!(zoe["roles"], json!([]));
        let emails = app.emails_to(ZOE_EMAIL).await;
        assert_eq!(emails.len(), 1, "one welcome email");
        assert!(
            first_link(&emails[0].text).is_some(),
            "a link in {}",
            emails[0].text
        );
        // The Location answers with the same account.
        let fetched = api_json(get(&app, &location, &token).await, StatusCode::OK).await;
        assert_eq!(fetched, zoe);

        // An explicit username and initials, an API user, no email.
        let robot = create(
            &app,
            &token,
            json!({
                "first_name": "Timetable",
                "last_name": "Robot",
                "email": "timetable@riverside.example",
                "username": "timetable.bot",
                "initials": "TB",
                "kind": "api",
                "send_welcome_email": false
            }),
        )
        .await;
        assert_eq!(robot["username"], "timetable.bot");
        assert_eq!(robot["initials"], "TB");
        assert_eq!(robot["kind"], "api");
        assert_eq!(robot["state"], "pending");
        assert!(
            app.emails_to("timetable@riverside.example")
                .await
                .is_empty()
        );
    }
);

both_backends!(
    async fn a_new_users_invalid_or_taken_fields_are_named_in_a_422_problem(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        // The username made from the names is Siân's: free alternatives are offered.
        let taken = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({"first_name": "Siân", "last_name": "O’Brien", "email": "another.sian@riverside.example"}),
        )
        .await;
        let problem = api_problem(taken, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["username"]);
        let message = problem["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.contains("sian.obrien") && message.contains("Free alternatives"),
            "{message}"
        );
        // The same when the username is typed, in another case.
        let typed = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "username": "SIAN.OBRIEN"}),
        )
        .await;
        let problem = api_problem(typed, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["username"]);

        // Several invalid fields at once.
        let invalid = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({"first_name": "", "last_name": "Lee", "email": "not an email", "username": "1abc"}),
        )
        .await;
        let problem = api_problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
        let fields = problem_fields(&problem);
        for field in ["first_name", "email", "username"] {
            assert!(fields.contains(&field.to_owned()), "{field} in {problem}");
        }
        assert_eq!(problem["type"], "/api/docs#problem-validation");

        // A field of the wrong type, an unknown field, a missing field.
        for (body, field) in [
            (
                json!({"first_name": 7, "last_name": "Lee", "email": "sam@riverside.example"}),
                "first_name",
            ),
            (
                json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "role": "x"}),
                "role",
            ),
            (json!({"first_name": "Sam", "last_name": "Lee"}), "email"),
            (
                json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "kind": "robot"}),
                "kind",
            ),
        ] {
            let response = send(&app, Method::POST, "/api/v1/users", &token, body.clone()).await;
            let problem = api_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(problem_fields(&problem), vec![field], "{body}: {problem}");
        }
        // The email of an account of the organisation.
        let same_email = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({"first_name": "Sam", "last_name": "Lee", "email": "SIAN.OBRIEN@riverside.example"}),
        )
        .await;
        let problem = api_problem(same_email, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["email"]);
        // Nothing was created.
        let list = api_json(get(&app, "/api/v1/users", &token).await, StatusCode::OK).await;
        assert_eq!(list["total"]["count"], 2, "Siân and HR Sync: {list}");
    }
);

both_backends!(
    async fn users_are_listed_searched_filtered_and_paged_with_a_cursor(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        for (first, last, email) in [
            ("Zoë", "Ångström", ZOE_EMAIL),
            ("Amara", "Okafor", "amara.okafor@riverside.example"),
            ("Ben", "Carter", "ben.carter@riverside.example"),
            ("Chloé", "Dubois", "chloe.dubois@riverside.example"),
            ("Dev", "Patel", "dev.patel@riverside.example"),
        ] {
            create(
                &app,
                &token,
                json!({"first_name": first, "last_name": last, "email": email}),
            )
            .await;
        }
        // Seven accounts (Siân, HR Sync and five people), two a page.
        let mut seen = Vec::new();
        let mut path = "/api/v1/users?limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page = api_json(get(&app, &path, &token).await, StatusCode::OK).await;
            pages += 1;
            assert_eq!(page["total"], json!({"count": 7, "exact": true}));
            let items = page["items"].as_array().expect("items");
            assert!(items.len() <= 2);
            seen.extend(
                items
                    .iter()
                    .map(|u| u["last_name"].as_str().expect("name").to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
                None => break,
            }
            assert!(pages < 10, "the cursor does not advance");
        }
        assert_eq!(pages, 4);
        assert_eq!(
            seen,
            vec![
                "Ångström",
                "Carter",
                "Dubois",
                "O’Brien",
                "Okafor",
                "Patel",
                "Sync"
            ],
            "by last name, accents ignored, each once"
        );

        // Descending by username, across pages.
        let first = api_json(
            get(&app, "/api/v1/users?sort=username&dir=desc&limit=3", &token).await,
            StatusCode::OK,
        )
        .await;
        let usernames: Vec<&str> = first["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(usernames, vec!["zoe.angstrom", "sian.obrien", "hr.sync"]);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        // That cursor is for that order only.
        let wrong = get(&app, &format!("/api/v1/users?cursor={cursor}"), &token).await;
        let problem = api_problem(wrong, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem_fields(&problem), vec!["cursor"]);

        // Search, accents and case ignored; filters.
        let found = api_json(
            get(&app, "/api/v1/users?q=ZOE", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(found["total"]["count"], 1);
        assert_eq!(found["items"][0]["email"], ZOE_EMAIL);
        let api_users = api_json(
            get(&app, "/api/v1/users?kind=api", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(api_users["total"]["count"], 1);
        assert_eq!(api_users["items"][0]["kind"], "api");
        let active = api_json(
            get(&app, "/api/v1/users?state=active&sort=first_name", &token).await,
            StatusCode::OK,
        )
        .await;
        let active_names: Vec<&str> = active["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|u| u["first_name"].as_str())
            .collect();
        assert_eq!(active_names, vec!["HR", "Siân"]);
        let nobody = api_json(
            get(&app, "/api/v1/users?state=deactivated", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(nobody["items"], json!([]));
        assert_eq!(nobody["next_cursor"], Value::Null);
    }
);

both_backends!(
    async fn unreadable_queries_bodies_and_cursors_are_400_problems(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        for (query, field) in [
            ("state=bogus", Some("state")),
            ("kind=robot", Some("kind")),
            ("sort=shoe_size", Some("sort")),
            ("dir=sideways", Some("dir")),
            ("limit=many", Some("limit")),
            ("limit=0", Some("limit")),
            ("limit=101", Some("limit")),
            ("cursor=not-hex", Some("cursor")),
            ("cursor=7b7d", Some("cursor")),
            ("colour=blue", None),
        ] {
            let response = get(&app, &format!("/api/v1/users?{query}"), &token).await;
            let problem = api_problem(response, StatusCode::BAD_REQUEST).await;
            assert_eq!(problem["type"], "/api/docs#problem-bad-request");
            if let Some(field) = field {
                assert_eq!(problem_fields(&problem), vec![field], "{query}: {problem}");
            }
        }
        // A body that is not JSON at all, or cut short.
        for body in ["{", "first_name=Zoë", "{\"first_name\": \"Zoë\",}"] {
            let response = app
                .api(Method::POST, "/api/v1/users", Some(&token))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request");
            let problem = api_problem(response, StatusCode::BAD_REQUEST).await;
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("not valid JSON")),
                "{body}: {problem}"
            );
        }
    }
);

both_backends!(
    async fn unknown_foreign_and_non_numeric_ids_and_unknown_endpoints_are_404_problems(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let (_tomasz_browser, _) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        let (hillside_teacher,): (i64,) = sqlx::query_as(
            "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
             WHERE u.id = $1 AND r.name = 'Teacher'",
        )
        .bind(tomasz)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("role");
        let sian = app.user_id("sian.obrien").await;
        for (method, path) in [
            (Method::GET, format!("/api/v1/users/{tomasz}")),
            (Method::GET, "/api/v1/users/999999".to_owned()),
            (Method::GET, "/api/v1/users/abc".to_owned()),
            (Method::GET, "/api/v1/users/1.5".to_owned()),
            (Method::POST, format!("/api/v1/users/{tomasz}/deactivate")),
            (Method::POST, format!("/api/v1/users/{tomasz}/reactivate")),
            (
                Method::PUT,
                format!("/api/v1/users/{sian}/roles/{hillside_teacher}"),
            ),
            (
                Method::PUT,
                format!("/api/v1/users/{tomasz}/roles/{hillside_teacher}"),
            ),
            (
                Method::DELETE,
                format!("/api/v1/users/{sian}/profiles/999999"),
            ),
            (Method::GET, "/api/v1/nothing-here".to_owned()),
            (Method::GET, "/api/v2/users".to_owned()),
        ] {
            let response = app
                .api(method.clone(), &path, Some(&token))
                .send()
                .await
                .expect("request");
            let problem = api_problem(response, StatusCode::NOT_FOUND).await;
            assert!(
                !problem.to_string().contains("Tomasz"),
                "{method} {path}: {problem}"
            );
        }
        let patch = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{tomasz}"),
            &token,
            json!({"first_name": "Changed"}),
        )
        .await;
        api_problem(patch, StatusCode::NOT_FOUND).await;
        let (first_name,): (String,) = sqlx::query_as("SELECT first_name FROM users WHERE id = $1")
            .bind(tomasz)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("Tomasz");
        assert_eq!(first_name, "Tomasz");
    }
);

both_backends!(
    async fn a_pending_account_is_changed_and_an_activated_one_answers_409(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoe", "last_name": "Angstrom", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let changed = api_json(
            send(
                &app,
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &token,
                json!({"first_name": "Zoë", "last_name": "Ångström"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["first_name"], "Zoë");
        assert_eq!(changed["last_name"], "Ångström");
        assert_eq!(changed["email"], ZOE_EMAIL, "left out, left as it was");
        assert_eq!(changed["username"], zoe["username"]);
        // An invalid change is a field error and changes nothing.
        let invalid = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &token,
            json!({"email": "nope"}),
        )
        .await;
        let problem = api_problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["email"]);

        // After activation the details are the person's own.
        let (amara, _) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let activated = api_json(
            get(&app, &format!("/api/v1/users/{amara}"), &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(activated["state"], "active");
        assert_eq!(activated["details_editable"], false);
        let refused = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{amara}"),
            &token,
            json!({"first_name": "Changed"}),
        )
        .await;
        let problem = api_problem(refused, StatusCode::CONFLICT).await;
        assert_eq!(problem["type"], "/api/docs#problem-conflict");
        let after = api_json(
            get(&app, &format!("/api/v1/users/{amara}"), &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["first_name"], "Amara");
    }
);

both_backends!(
    async fn emails_are_sent_to_people_only(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let queued = api_json(
            send(
                &app,
                Method::POST,
                &format!("/api/v1/users/{id}/emails"),
                &token,
                json!({"kind": "welcome"}),
            )
            .await,
            StatusCode::ACCEPTED,
        )
        .await;
        assert!(queued["link_expires_at"].is_string(), "{queued}");
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len(), 1);
        let to_api_user = send(
            &app,
            Method::POST,
            &format!("/api/v1/users/{sync}/emails"),
            &token,
            json!({"kind": "set_password"}),
        )
        .await;
        api_problem(to_api_user, StatusCode::CONFLICT).await;
        let unknown_kind = send(
            &app,
            Method::POST,
            &format!("/api/v1/users/{id}/emails"),
            &token,
            json!({"kind": "birthday"}),
        )
        .await;
        let problem = api_problem(unknown_kind, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["kind"]);
    }
);

both_backends!(
    async fn accounts_are_deactivated_and_reactivated(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let (amara, browser) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let path = format!("/api/v1/users/{amara}/deactivate");
        let deactivated = api_json(
            call(&app, Method::POST, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(deactivated["state"], "deactivated");
        assert!(deactivated["deactivated_at"].is_string());
        assert!(app.whoami_as(&browser).await.is_none(), "her session ended");
        // Again: nothing changes, still 200.
        let again = app
            .api(Method::POST, &path, Some(&token))
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), StatusCode::OK);
        // A deactivated account's details cannot be changed.
        let patch = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{amara}"),
            &token,
            json!({"first_name": "X"}),
        )
        .await;
        api_problem(patch, StatusCode::CONFLICT).await;
        let reactivated = api_json(
            app.api(
                Method::POST,
                &format!("/api/v1/users/{amara}/reactivate"),
                Some(&token),
            )
            .send()
            .await
            .expect("request"),
            StatusCode::OK,
        )
        .await;
        assert_eq!(reactivated["state"], "active");
        assert_eq!(reactivated["deactivated_at"], Value::Null);
        let actions = app.audit_actions_for(amara).await;
        assert_eq!(
            actions
                .iter()
                .filter(|a| *a == "account.deactivated")
                .count(),
            1,
            "{actions:?}"
        );
        assert!(actions.contains(&"account.reactivated".to_owned()));
        // An API user cannot deactivate itself.
        let itself = app
            .api(
                Method::POST,
                &format!("/api/v1/users/{sync}/deactivate"),
                Some(&token),
            )
            .send()
            .await
            .expect("request");
        api_problem(itself, StatusCode::CONFLICT).await;
        assert_eq!(app.account_row(sync).await.0, "active");
    }
);

both_backends!(
    async fn roles_and_profiles_are_listed_given_and_taken_away(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let roles = api_json(get(&app, "/api/v1/roles", &token).await, StatusCode::OK).await;
        let role_names = names(&roles);
        for name in [
            "Administrator",
            "User administrator",
            "Teacher",
            "Office staff",
        ] {
            assert!(role_names.contains(&name.to_owned()), "{name} in {roles}");
        }
        let teacher = roles
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["name"] == "Teacher")
            .expect("Teacher");
        for key in ["pupils.view", "pupils.edit", "reports.view"] {
            assert!(
                teacher["permissions"]
                    .as_array()
                    .expect("permissions")
                    .contains(&json!(key)),
                "{key}: {teacher}"
            );
        }
        let profiles = api_json(get(&app, "/api/v1/profiles", &token).await, StatusCode::OK).await;
        let teaching = profiles
            .as_array()
            .expect("profiles")
            .iter()
            .find(|p| p["name"] == "Teaching staff")
            .expect("Teaching staff");
        assert_eq!(names(&teaching["roles"]), vec!["Teacher"]);

        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let teacher = role_id(&app, &token, "Teacher").await;
        let path = format!("/api/v1/users/{id}/roles/{teacher}");
        let given = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&given["roles"]), vec!["Teacher"]);
        assert!(
            given["permissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("pupils.view")),
            "{given}"
        );
        // Giving it again changes nothing.
        let again = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&again["roles"]), vec!["Teacher"]);
        let taken = api_json(
            call(&app, Method::DELETE, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(taken["roles"], json!([]));
        assert_eq!(taken["permissions"], json!([]));

        let office = profile_id(&app, &token, "Office administrator").await;
        let path = format!("/api/v1/users/{id}/profiles/{office}");
        let given = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&given["profiles"]), vec!["Office administrator"]);
        assert!(
            given["permissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("users.manage")),
            "{given}"
        );
        let taken = api_json(
            call(&app, Method::DELETE, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(taken["profiles"], json!([]));
        let actions = app.audit_actions_for(id).await;
        assert_eq!(
            actions.iter().filter(|a| *a == "access.granted").count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "access.removed").count(),
            2,
            "{actions:?}"
        );
    }
);

// ---------------------------------------------------------------------------
// Tokens: who may call, and with what.

both_backends!(
    async fn missing_unknown_expired_and_revoked_tokens_are_401_problems(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        // Expires at the end of today (START is 09:00 UTC).
        let expiring = app.create_token(sync, "Until tonight", "2026-11-23").await;
        let revoked = app.create_token(sync, "Old laptop", "").await;
        for working in [&token, &expiring, &revoked] {
            assert_eq!(
                get(&app, "/api/v1/whoami", working).await.status(),
                StatusCode::OK
            );
        }
        let revoked_id = token_id(&app, &revoked).await;
        let response = app
            .call(
                "revoke_api_token",
                &[
                    ("id", &sync.to_string()),
                    ("token_id", &revoked_id.to_string()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        app.clock.advance(15 * 3600);
        // Siân's session has timed out meanwhile.
        app.sign_in("sian.obrien", PASSWORD).await;

        let unknown = format!("gat_{}", "0".repeat(64));
        let cases: [(Option<&str>, &str); 6] = [
            (None, "Send an API token"),
            (Some(""), "Send an API token"),
            (Some(&unknown), "not valid"),
            (Some("sk_live_something"), "not valid"),
            (Some(&expiring), "expired"),
            (Some(&revoked), "revoked"),
        ];
        for (bearer, says) in cases {
            let response = app
                .api(Method::GET, "/api/v1/users", bearer)
                .send()
                .await
                .expect("request");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(challenge.starts_with("Bearer"), "{bearer:?}: {challenge}");
            let problem = api_problem(response, StatusCode::UNAUTHORIZED).await;
            assert!(
                problem["detail"].as_str().is_some_and(|d| d.contains(says)),
                "{bearer:?}: {problem}"
            );
        }
        // Basic authentication is not a bearer token.
        let basic = app
            .api(Method::GET, "/api/v1/whoami", None)
            .basic_auth("hr.sync", Some(PASSWORD))
            .send()
            .await
            .expect("request");
        api_problem(basic, StatusCode::UNAUTHORIZED).await;
        // The token without expiry still works.
        assert_eq!(
            get(&app, "/api/v1/whoami", &token).await.status(),
            StatusCode::OK
        );
        // The list says which is which.
        let section = api_json(
            app.call("api_tokens", &[("id", &sync.to_string())]).await,
            StatusCode::OK,
        )
        .await;
        let statuses: Vec<(String, String, bool)> = section["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().expect("name").to_owned(),
                    t["status"].as_str().expect("status").to_owned(),
                    t["live"].as_bool().expect("live"),
                )
            })
            .collect();
        assert_eq!(statuses.len(), 3, "{statuses:?}");
        assert_eq!(statuses[0].0, "Old laptop");
        assert!(statuses[0].1.starts_with("Revoked"), "{statuses:?}");
        assert_eq!(
            statuses[1],
            ("Until tonight".into(), "Expired".into(), false)
        );
        assert_eq!(statuses[2], ("HR import".into(), "Active".into(), true));
        let actions = app.audit_actions_for(sync).await;
        assert!(
            actions.contains(&"api_token.revoked".to_owned()),
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "api_token.created").count(),
            3
        );
    }
);

both_backends!(
    async fn an_api_user_without_the_permission_gets_403_problems(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, token) = app
            .api_user_with_token(
                "Pupil",
                "Portal",
                "pupil.portal@riverside.example",
                "PP",
                &["Teacher"],
                "Portal",
            )
            .await;
        let sian = app.user_id("sian.obrien").await;
        // Who it is needs no permission.
        let me = api_json(get(&app, "/api/v1/whoami", &token).await, StatusCode::OK).await;
        assert!(
            !me["permissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("users.view"))
        );
        for (method, path, body) in [
            (Method::GET, "/api/v1/users".to_owned(), None),
            (Method::GET, format!("/api/v1/users/{sian}"), None),
            (Method::GET, "/api/v1/roles".to_owned(), None),
            (Method::GET, "/api/v1/profiles".to_owned(), None),
            (
                Method::POST,
                "/api/v1/users".to_owned(),
                Some(json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL})),
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{sian}"),
                Some(json!({"first_name": "Changed"})),
            ),
            (
                Method::POST,
                format!("/api/v1/users/{sian}/deactivate"),
                None,
            ),
        ] {
            let mut request = app.api(method.clone(), &path, Some(&token));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("request");
            let problem = api_problem(response, StatusCode::FORBIDDEN).await;
            assert_eq!(
                problem["type"], "/api/docs#problem-forbidden",
                "{method} {path}"
            );
        }
        assert_eq!(app.account_row(sian).await.0, "active");
        let (created,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE email_normalized = $1")
                .bind(ZOE_EMAIL)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        assert_eq!(created, 0, "nobody was created");
    }
);

both_backends!(
    |settings| settings.api_requests_per_minute = 3,
    async fn a_token_making_too_many_requests_a_minute_gets_429_with_retry_after(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        // START is on a minute boundary; move 20 s into the minute.
        app.clock.advance(20);
        for _ in 0..3 {
            assert_eq!(
                get(&app, "/api/v1/whoami", &token).await.status(),
                StatusCode::OK
            );
        }
        let refused = get(&app, "/api/v1/whoami", &token).await;
        let retry_after = refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .expect("Retry-After in seconds");
        assert_eq!(retry_after, 40, "until the minute ends");
        let problem = api_problem(refused, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(problem["type"], "/api/docs#problem-rate-limited");
        // Another token of the same API user has its own allowance.
        let other = app.create_token(sync, "Second", "").await;
        assert_eq!(
            get(&app, "/api/v1/whoami", &other).await.status(),
            StatusCode::OK
        );
        // The next minute, the token works again.
        app.clock.advance(retry_after);
        assert_eq!(
            get(&app, "/api/v1/whoami", &token).await.status(),
            StatusCode::OK
        );
    }
);

both_backends!(
    async fn last_used_is_written_at_most_once_a_minute(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let id = token_id(&app, &token).await;
        let last_used = || async {
            let (at,): (Option<i64>,) =
                sqlx::query_as("SELECT last_used_at FROM api_tokens WHERE id = $1")
                    .bind(id)
                    .fetch_one(&app.state.db.pool)
                    .await
                    .expect("token");
            at
        };
        assert_eq!(last_used().await, None, "not used yet");
        app.clock.advance(5);
        get(&app, "/api/v1/whoami", &token).await;
        assert_eq!(last_used().await, Some(START + 5));
        app.clock.advance(30);
        get(&app, "/api/v1/whoami", &token).await;
        get(&app, "/api/v1/users", &token).await;
        assert_eq!(last_used().await, Some(START + 5), "same minute");
        app.clock.advance(30);
        get(&app, "/api/v1/whoami", &token).await;
        assert_eq!(last_used().await, Some(START + 65), "the next minute");
        let section = api_json(
            app.call(
                "api_tokens",
                &[("id", &app.user_id_by_email(SYNC_EMAIL).await.to_string())],
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(section["tokens"][0]["last_used"].is_string(), "{section}");
    }
);

both_backends!(
    async fn deactivation_holds_at_once_on_another_instance_and_reactivation_revives_no_token(
        app: TestApp,
    ) {
        let (sync, token) = administrator_token(&app).await;
        let replica = app.second_instance().await;
        let on_replica = |token: String| {
            let request = app.api_at(&replica, Method::GET, "/api/v1/whoami", Some(&token));
            async move { request.send().await.expect("request") }
        };
        assert_eq!(on_replica(token.clone()).await.status(), StatusCode::OK);
        let id = sync.to_string();
        let response = app
            .call("set_user_active", &[("id", &id), ("active", "false")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let problem = api_problem(on_replica(token.clone()).await, StatusCode::UNAUTHORIZED).await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("revoked")),
            "{problem}"
        );
        // A deactivated API user gets no new token.
        let refused = app
            .call(
                "create_api_token",
                &[("id", &id), ("name", "Again"), ("expires_on", "")],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);

        let response = app
            .call("set_user_active", &[("id", &id), ("active", "true")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(app.account_row(sync).await.0, "active");
        api_problem(on_replica(token.clone()).await, StatusCode::UNAUTHORIZED).await;
        let (reason,): (Option<String>,) =
            sqlx::query_as("SELECT revoke_reason FROM api_tokens WHERE user_id = $1")
                .bind(sync)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("token");
        assert_eq!(reason.as_deref(), Some("account_deactivated"));
        // A new token works, on both instances.
        let fresh = app.create_token(sync, "After reactivation", "").await;
        assert_eq!(on_replica(fresh.clone()).await.status(), StatusCode::OK);
        assert_eq!(
            get(&app, "/api/v1/whoami", &fresh).await.status(),
            StatusCode::OK
        );
    }
);

both_backends!(
    async fn a_person_cannot_hold_a_token_and_an_api_user_cannot_sign_in(app: TestApp) {
        let (sync, _) = administrator_token(&app).await;
        let sian = app.user_id("sian.obrien").await.to_string();
        let zoe = app
            .add_person(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await
            .to_string();
        for person in [&sian, &zoe] {
            let refused = app
                .call(
                    "create_api_token",
                    &[("id", person), ("name", "Sneaky"), ("expires_on", "")],
                )
                .await;
            assert_eq!(refused.status(), StatusCode::CONFLICT, "{person}");
            let listing = app.call("api_tokens", &[("id", person)]).await;
            assert_eq!(listing.status(), StatusCode::CONFLICT, "{person}");
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(count, 1, "only HR Sync's");

        let (_, _, username, _) = app.account_row(sync).await;
        for password in [PASSWORD, "another password entirely"] {
            let browser = app.new_browser();
            let response = app
                .call_as(
                    &browser,
                    "sign_in",
                    &[("login", &username), ("password", password)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(error_of(response).await, "InvalidCredentials");
            assert!(app.whoami_as(&browser).await.is_none());
        }
        let (detail,): (String,) = sqlx::query_as(
            "SELECT detail FROM audit_log WHERE action = 'sign_in.failed' AND target_user_id = $1
             ORDER BY id DESC LIMIT 1",
        )
        .bind(sync)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("an audited failure");
        assert!(detail.contains("reason=api_user"), "{detail}");
    }
);

both_backends!(
    async fn token_management_needs_api_users_manage(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let (zoe, browser) = app
            .add_and_activate(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await;
        // Office staff look people up, nothing more.
        let office = role_id(&app, &token, "Office staff").await;
        api_json(
            app.api(
                Method::PUT,
                &format!("/api/v1/users/{zoe}/roles/{office}"),
                Some(&token),
            )
            .send()
            .await
            .expect("request"),
            StatusCode::OK,
        )
        .await;
        let id = sync.to_string();
        let token_id = token_id(&app, &token).await.to_string();
        for (function, args) in [
            ("api_tokens", vec![("id", id.as_str())]),
            (
                "create_api_token",
                vec![("id", id.as_str()), ("name", "Mine"), ("expires_on", "")],
            ),
            (
                "revoke_api_token",
                vec![("id", id.as_str()), ("token_id", token_id.as_str())],
            ),
        ] {
            let response = app.call_as(&browser, function, &args).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
            let anonymous = app.call_as(&app.new_browser(), function, &args).await;
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{function}");
        }
        assert_eq!(
            get(&app, "/api/v1/whoami", &token).await.status(),
            StatusCode::OK,
            "still not revoked"
        );
    }
);

// ---------------------------------------------------------------------------
// The audit trail.

/// `(action, actor_user_id, actor_token_id, target_user_id)` of an entry.
type AuditEntry = (String, Option<i64>, Option<i64>, Option<i64>);

both_backends!(
    async fn every_write_through_the_api_is_audited_with_its_token(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let token_id = token_id(&app, &token).await;
        let before: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM audit_log")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("audit");
        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoe", "last_name": "Angstrom", "email": ZOE_EMAIL, "send_welcome_email": true}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let user = format!("/api/v1/users/{id}");
        send(
            &app,
            Method::PATCH,
            &user,
            &token,
            json!({"first_name": "Zoë"}),
        )
        .await;
        let teacher = role_id(&app, &token, "Teacher").await;
        let teaching = profile_id(&app, &token, "Teaching staff").await;
        for (method, path) in [
            (Method::PUT, format!("{user}/roles/{teacher}")),
            (Method::DELETE, format!("{user}/roles/{teacher}")),
            (Method::PUT, format!("{user}/profiles/{teaching}")),
            (Method::DELETE, format!("{user}/profiles/{teaching}")),
            (Method::POST, format!("{user}/deactivate")),
            (Method::POST, format!("{user}/reactivate")),
        ] {
            let response = app
                .api(method.clone(), &path, Some(&token))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
        }
        send(
            &app,
            Method::POST,
            &format!("{user}/emails"),
            &token,
            json!({"kind": "welcome"}),
        )
        .await;

        let entries: Vec<AuditEntry> = sqlx::query_as(
            "SELECT action, actor_user_id, actor_token_id, target_user_id FROM audit_log
             WHERE id > $1 ORDER BY id",
        )
        .bind(before.0)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        for action in [
            "account.created",
            "email.queued",
            "account.details_changed",
            "access.granted",
            "access.removed",
            "account.deactivated",
            "account.reactivated",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(
            actions.iter().filter(|a| **a == "email.queued").count() >= 2,
            "{actions:?}"
        );
        for (action, actor, token_used, target) in &entries {
            assert_eq!(*actor, Some(sync), "{action}");
            assert_eq!(
                *token_used,
                Some(token_id),
                "{action} was made with the token"
            );
            assert_eq!(*target, Some(id), "{action}");
        }
        // Reading changes nothing in the log.
        let count = entries.len();
        get(&app, &user, &token).await;
        get(&app, "/api/v1/users", &token).await;
        let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE id > $1")
            .bind(before.0)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("audit");
        assert_eq!(after, i64::try_from(count).expect("count"));

        // The Audit log page says which token.
        let page = api_json(
            app.call("audit_log", &[("target", ZOE_EMAIL)]).await,
            StatusCode::OK,
        )
        .await;
        let rows = page["rows"].as_array().expect("rows");
        assert!(!rows.is_empty());
        for row in rows {
            let actor = row["actor"].as_str().expect("actor");
            assert!(
                actor.starts_with("HR Sync (") && actor.ends_with(" with token “HR import”"),
                "{actor}"
            );
        }
        // Siân's own actions carry no token.
        let (_, _) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let page = api_json(
            app.call("audit_log", &[("target", "amara.okafor@riverside.example")])
                .await,
            StatusCode::OK,
        )
        .await;
        let created = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["what"] == "Account created")
            .expect("created");
        assert_eq!(created["actor"], "Siân O’Brien (sian.obrien)");
    }
);

both_backends!(
    async fn the_openapi_document_is_served_without_a_token(app: TestApp) {
        let response = app
            .api(Method::GET, "/api/v1/openapi.json", None)
            .send()
            .await
            .expect("request");
        let document = api_json(response, StatusCode::OK).await;
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(
            document,
            serde_json::to_value(backend::rest::document()).expect("json"),
            "the document served is the one the routes make"
        );
    }
);
