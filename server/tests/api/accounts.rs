//! Administrators' work on accounts over HTTP: adding people and API users,
//! uniqueness, permissions and organisations, the details lock,
//! deactivation (also across two server instances), the list and the audit
//! log.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

fn zoe() -> Vec<(&'static str, &'static str)> {
    person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA")
}

/// The arguments of every administrators' function, for `id`.
fn users_functions(id: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let s = |v: &str| v.to_owned();
    vec![
        (
            "add_user_hints",
            vec![
                ("first_name", s("Zoë")),
                ("last_name", s("Ångström")),
                ("email", s(ZOE_EMAIL)),
                ("username", s("")),
                ("generate_username", s("true")),
            ],
        ),
        (
            "add_user",
            zoe().into_iter().map(|(f, v)| (f, s(v))).collect(),
        ),
        ("user", vec![("id", s(id))]),
        (
            "update_user",
            vec![
                ("id", s(id)),
                ("first_name", s("Zoë")),
                ("last_name", s("Ångström")),
                ("email", s(ZOE_EMAIL)),
                ("initials", s("ZA")),
            ],
        ),
        (
            "send_user_email",
            vec![("id", s(id)), ("kind", s("welcome"))],
        ),
        (
            "set_user_active",
            vec![("id", s(id)), ("active", s("false"))],
        ),
        ("list_users", vec![("q", s(""))]),
    ]
}

async fn call_with(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    args: &[(&'static str, String)],
) -> reqwest::Response {
    let form: Vec<(&str, &str)> = args.iter().map(|(f, v)| (*f, v.as_str())).collect();
    app.call_as(client, function, &form).await
}

async fn set_active(app: &TestApp, id: i64, active: bool) -> reqwest::Response {
    let id = id.to_string();
    app.call(
        "set_user_active",
        &[
            ("id", &id),
            ("active", if active { "true" } else { "false" }),
        ],
    )
    .await
}

async fn detail(app: &TestApp, id: i64) -> Value {
    let response = app.call("user", &[("id", &id.to_string())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn update(
    app: &TestApp,
    id: i64,
    first: &str,
    last: &str,
    email: &str,
    initials: &str,
) -> reqwest::Response {
    app.call(
        "update_user",
        &[
            ("id", &id.to_string()),
            ("first_name", first),
            ("last_name", last),
            ("email", email),
            ("initials", initials),
        ],
    )
    .await
}

async fn list(app: &TestApp, client: &reqwest::Client, q: &str, after: &str) -> Value {
    let response = app
        .call_as(client, "list_users", &[("q", q), ("after", after)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn usernames(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["username"].as_str().expect("username").to_owned())
        .collect()
}

async fn user_count(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    count
}

// --- Adding accounts -------------------------------------------------------

both_backends!(
    async fn adding_a_person_creates_a_pending_account_with_a_username_made_from_the_names(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&zoe()).await;
        let (state, kind, username, activated_at) = app.account_row(id).await;
        assert_eq!((state.as_str(), kind.as_str()), ("pending", "person"));
        assert_eq!(username, "zoe.angstrom");
        assert_eq!(activated_at, None);
        let page = detail(&app, id).await;
        assert_eq!(page["state"], "pending");
        assert_eq!(page["created_by"], "Siân O’Brien");
        assert_eq!(page["details_editable"], true);
        assert_eq!(app.audit_actions_for(id).await, ["account.created"]);
        assert!(
            app.sent_emails().await.is_empty(),
            "no welcome email was asked for"
        );
        // The hints generate the same way: Siân O’Brien → sian.obrien.
        let hints: Value = app
            .call(
                "add_user_hints",
                &[
                    ("first_name", "Siân"),
                    ("last_name", "O’Brien"),
                    ("email", ""),
                    ("username", ""),
                    ("generate_username", "true"),
                ],
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(hints["username"]["username"], "sian.obrien", "{hints}");
    }
);

both_backends!(
    async fn a_username_taken_in_another_organisation_in_any_case_is_refused_with_free_alternatives(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let (hillside, _) = app.second_organisation().await;
        let sian = person_form("Siân", "O’Brien", "sian@hillside.example", "SO");

        let response = app.call_as(&hillside, "add_user", &sian).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(fields_of(&body), ["username"], "{body}");
        let message = field_message(&body, "username").expect("message");
        assert!(message.contains("sian.obrien"), "{message}");
        assert!(
            message.contains("sian.obrien2"),
            "alternatives offered: {message}"
        );

        let typed = with(
            &without(&sian, "generate_username"),
            "username",
            "SIAN.OBRIEN",
        );
        let response = app.call_as(&hillside, "add_user", &typed).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&error_of(response).await), ["username"]);

        let hints: Value = app
            .call_as(
                &hillside,
                "add_user_hints",
                &[
                    ("first_name", "Siân"),
                    ("last_name", "O’Brien"),
                    ("email", ""),
                    ("username", ""),
                    ("generate_username", "true"),
                ],
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(hints["username"]["available"], false, "{hints}");
        assert_eq!(
            hints["username"]["alternatives"][0], "sian.obrien2",
            "{hints}"
        );
        // Nothing of Hillside's was written by the refused attempts; an
        // offered alternative is taken as typed.
        assert_eq!(user_count(&app).await, 2);
        let alternative = with(
            &without(&sian, "generate_username"),
            "username",
            "sian.obrien2",
        );
        let response = app.call_as(&hillside, "add_user", &alternative).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            app.account_row(app.user_id("sian.obrien2").await).await.0,
            "pending"
        );
    }
);

both_backends!(
    async fn with_the_box_unticked_the_typed_username_is_used(app: TestApp) {
        app.set_up_first_administrator().await;
        let typed = with(
            &without(&zoe(), "generate_username"),
            "username",
            "Zed.Custom_1",
        );
        let id = app.add_person(&typed).await;
        assert_eq!(app.account_row(id).await.2, "Zed.Custom_1");

        let bad = with(
            &without(
                &person_form("Ann", "Other", "ann@riverside.example", "AO"),
                "generate_username",
            ),
            "username",
            "1abc",
        );
        let response = app.add_user(&bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&error_of(response).await), ["username"]);
    }
);

both_backends!(
    async fn an_email_address_is_unique_in_the_organisation_whatever_its_case_even_once_deactivated(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&zoe()).await;
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);

        let same_address = person_form("Zara", "Ahmed", "ZOE.ANGSTROM@Riverside.Example", "ZAH");
        let response = app.add_user(&same_address).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(fields_of(&body), ["email"], "{body}");
        assert!(
            field_message(&body, "email")
                .expect("message")
                .contains("deactivated"),
            "the message explains where the clash may hide: {body}"
        );

        // Another organisation may use the address (and the same initials).
        let (hillside, _) = app.second_organisation().await;
        let response = app
            .call_as(
                &hillside,
                "add_user",
                &person_form("Zoë", "Hill", ZOE_EMAIL, "ZA"),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
);

both_backends!(
    async fn initials_are_unique_in_the_organisation_even_once_deactivated(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&zoe()).await;
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        let response = app
            .add_user(&person_form(
                "Zack",
                "Adams",
                "zack@riverside.example",
                "za",
            ))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(fields_of(&body), ["initials"], "{body}");
    }
);

both_backends!(
    async fn an_api_user_gets_no_welcome_email_even_when_one_is_asked_for(app: TestApp) {
        app.set_up_first_administrator().await;
        let form = with(
            &with(
                &person_form("Timetable", "Sync", "timetable@riverside.example", "TS"),
                "api_user",
                "on",
            ),
            "send_welcome_email",
            "on",
        );
        let id = app.add_person(&form).await;
        let (state, kind, username, _) = app.account_row(id).await;
        assert_eq!((state.as_str(), kind.as_str()), ("pending", "api"));
        assert_eq!(username, "timetable.sync");
        assert!(app.sent_emails().await.is_empty());
        assert_eq!(app.audit_actions_for(id).await, ["account.created"]);
        assert_eq!(detail(&app, id).await["is_api_user"], true);
        let response = app
            .call(
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(app.sent_emails().await.is_empty());
    }
);

both_backends!(
    async fn the_welcome_email_link_is_built_from_the_public_url_whatever_the_host_header(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let form = with(&zoe(), "send_welcome_email", "on");
        let response = app
            .client
            .post(format!("{}/fn/add_user", app.address))
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("origin", &app.address)
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let id = app.user_id("zoe.angstrom").await;

        let sent = app.sent_emails().await;
        assert_eq!(sent.len(), 1, "exactly one email: {sent:?}");
        assert_eq!(sent[0].to, ZOE_EMAIL);
        assert_eq!(sent[0].subject, "Activate your Riverside College account");
        let link = app.link_in_last_email(ZOE_EMAIL).await;
        assert!(
            link.starts_with(&format!("{}/activate/", app.address)),
            "{link}"
        );
        assert!(!sent[0].text.contains("evil"), "{}", sent[0].text);
        let token = link.rsplit('/').next().expect("token");
        assert!(token.len() >= 22, "at least 128 bits: {token}");
        assert_eq!(
            app.audit_actions_for(id).await,
            ["account.created", "email.queued"]
        );
    }
);

both_backends!(
    async fn invalid_fields_of_a_new_account_are_each_named_and_nothing_is_written(app: TestApp) {
        app.set_up_first_administrator().await;
        let form = [
            ("first_name", "R2-D2"),
            ("last_name", "<script>"),
            ("email", "not-an-email"),
            ("username", "1abc"),
            ("initials", ""),
        ];
        let response = app.add_user(&form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        let fields = fields_of(&body);
        for field in ["first_name", "last_name", "email", "username", "initials"] {
            assert!(
                fields.iter().any(|f| f == field),
                "{field} missing from {body}"
            );
        }
        assert_eq!(user_count(&app).await, 1);
    }
);

both_backends!(
    async fn two_administrators_racing_for_one_username_get_one_account_and_one_field_error(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let other_admin = app.signed_in_browser("sian.obrien", PASSWORD).await;
        let rounds = [
            ("Nia", "Jones", "nia.jones"),
            ("Owen", "Price", "owen.price"),
            ("Rhys", "Evans", "rhys.evans"),
            ("Cerys", "Lloyd", "cerys.lloyd"),
        ];
        for (round, (first, last, username)) in rounds.into_iter().enumerate() {
            let (email_a, email_b) = (
                format!("{username}.a@riverside.example"),
                format!("{username}.b@riverside.example"),
            );
            let (initials_a, initials_b) = (format!("RA{round}"), format!("RB{round}"));
            let form = |email: &str, initials: &str| {
                vec![
                    ("first_name", first.to_owned()),
                    ("last_name", last.to_owned()),
                    ("email", email.to_owned()),
                    ("generate_username", "on".to_owned()),
                    ("initials", initials.to_owned()),
                ]
            };
            let (a, b) = (form(&email_a, &initials_a), form(&email_b, &initials_b));
            let (first_answer, second_answer) = tokio::join!(
                call_with(&app, &app.client, "add_user", &a),
                call_with(&app, &other_admin, "add_user", &b),
            );
            let mut answers = Vec::new();
            for response in [first_answer, second_answer] {
                let status = response.status();
                let body = response.text().await.expect("body");
                answers.push((status, body));
            }
            let statuses: HashSet<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
            assert_eq!(
                statuses,
                HashSet::from([StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]),
                "{answers:?}"
            );
            let (_, refused) = answers
                .iter()
                .find(|(s, _)| *s == StatusCode::UNPROCESSABLE_ENTITY)
                .expect("one refused");
            let body: Value = serde_json::from_str(refused).expect("json");
            assert_eq!(fields_of(&body), ["username"], "{body}");
            let (count,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM users WHERE lower(username) = $1")
                    .bind(username)
                    .fetch_one(&app.state.db.pool)
                    .await
                    .expect("count");
            assert_eq!(count, 1);
        }
    }
);

// --- Permissions and organisations ------------------------------------------

both_backends!(
    async fn anonymous_callers_are_refused_every_users_function(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.user_id("sian.obrien").await.to_string();
        let anonymous = app.new_browser();
        for (function, args) in users_functions(&id) {
            let response = call_with(&app, &anonymous, function, &args).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
            assert_eq!(error_of(response).await, "Unauthorized", "{function}");
        }
        assert_eq!(user_count(&app).await, 1);
        assert_eq!(
            app.account_row(app.user_id("sian.obrien").await).await.0,
            "active"
        );
    }
);

both_backends!(
    async fn a_person_without_user_permissions_is_refused_every_users_function(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe_browser) = app.add_and_activate(&zoe()).await;
        let me = app.whoami_as(&zoe_browser).await.expect("signed in");
        assert_eq!(
            me["permissions"],
            Value::Array(vec![]),
            "a new account has no permissions"
        );
        let admin = app.user_id("sian.obrien").await;
        for (function, args) in users_functions(&admin.to_string()) {
            let response = call_with(&app, &zoe_browser, function, &args).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
            assert_eq!(error_of(response).await, "Forbidden", "{function}");
        }
        assert_eq!(app.account_row(admin).await.0, "active");
        assert!(
            app.whoami().await.is_some(),
            "the administrator was not deactivated"
        );
        assert_eq!(user_count(&app).await, 2);
    }
);

both_backends!(
    async fn another_organisations_account_is_answered_as_not_found(app: TestApp) {
        app.set_up_first_administrator().await;
        let (hillside, _) = app.second_organisation().await;
        let theirs = app.user_id("tomasz.nowak").await;
        let (missing,): (i64,) = sqlx::query_as("SELECT MAX(id) + 1000 FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("id");
        for (function, args) in users_functions(&theirs.to_string()) {
            if !matches!(
                function,
                "user" | "update_user" | "send_user_email" | "set_user_active"
            ) {
                continue;
            }
            let response = call_with(&app, &app.client, function, &args).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
            let body = error_of(response).await;
            // Exactly as for an id that does not exist at all.
            let args_missing: Vec<_> = args
                .iter()
                .map(|(f, v)| {
                    (
                        *f,
                        if *f == "id" {
                            missing.to_string()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            let nowhere =
                error_of(call_with(&app, &app.client, function, &args_missing).await).await;
            assert_eq!(body, nowhere, "{function}");
        }
        assert_eq!(app.account_row(theirs).await.0, "active");
        assert!(app.whoami_as(&hillside).await.is_some());
        assert!(
            app.emails_to("tomasz.nowak@hillside.example")
                .await
                .is_empty()
        );
        let (first_name,): (String,) = sqlx::query_as("SELECT first_name FROM users WHERE id = $1")
            .bind(theirs)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("name");
        assert_eq!(first_name, "Tomasz");
    }
);

// --- The details lock ---------------------------------------------------------

both_backends!(
    async fn administrators_edit_details_while_pending_and_not_after_activation(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&zoe()).await;
        let response = update(
            &app,
            id,
            "Zoey",
            "Ångström-Hill",
            "zoey@riverside.example",
            "zah",
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let page = detail(&app, id).await;
        assert_eq!(
            (
                &page["first_name"],
                &page["last_name"],
                &page["email"],
                &page["initials"]
            ),
            (
                &Value::from("Zoey"),
                &Value::from("Ångström-Hill"),
                &Value::from("zoey@riverside.example"),
                &Value::from("ZAH")
            )
        );
        assert_eq!(page["username"], "zoe.angstrom", "the username stays");
        assert!(
            app.audit_actions_for(id)
                .await
                .contains(&"account.details_changed".to_owned())
        );

        // Invalid details are named and change nothing; so is a clash.
        let response = update(&app, id, "", "Ångström", "nope", "").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let fields = fields_of(&error_of(response).await);
        assert_eq!(fields, ["first_name", "email", "initials"]);
        let response = update(
            &app,
            id,
            "Zoey",
            "Ångström-Hill",
            "SIAN.OBRIEN@riverside.example",
            "ZAH",
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&error_of(response).await), ["email"]);
        let response = update(
            &app,
            id,
            "Zoey",
            "Ångström-Hill",
            "zoey@riverside.example",
            "so",
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&error_of(response).await), ["initials"]);

        let sent = app
            .call(
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
        let token = app.token_in_last_email("zoey@riverside.example").await;
        let (_, activated) = app.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(activated.status(), StatusCode::OK);

        let response = update(&app, id, "Someone", "Else", "else@riverside.example", "SE").await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = error_of(response).await;
        let message = body["Conflict"].as_str().expect("a message");
        assert!(message.contains("activated"), "{message}");
        let page = detail(&app, id).await;
        assert_eq!(page["first_name"], "Zoey");
        assert_eq!(page["email"], "zoey@riverside.example");
        assert_eq!(page["details_editable"], false);
        let changes = app
            .audit_actions_for(id)
            .await
            .into_iter()
            .filter(|a| a == "account.details_changed")
            .count();
        assert_eq!(changes, 1);
    }
);

both_backends!(
    async fn a_deactivated_accounts_details_are_not_edited_and_the_refusal_says_why(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&zoe()).await;
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        let response = update(&app, id, "Zoey", "Ångström", ZOE_EMAIL, "ZA").await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = error_of(response).await;
        assert!(
            body["Conflict"]
                .as_str()
                .expect("message")
                .contains("deactivated"),
            "{body}"
        );
        assert_eq!(detail(&app, id).await["first_name"], "Zoë");
    }
);

both_backends!(
    async fn correcting_a_pending_accounts_email_revokes_the_link_sent_to_the_old_address(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let id = app
            .add_person(&with(&zoe(), "send_welcome_email", "on"))
            .await;
        let old_token = app.token_in_last_email(ZOE_EMAIL).await;
        let response = update(&app, id, "Zoë", "Ångström", "zoe@riverside.example", "ZA").await;
        assert_eq!(response.status(), StatusCode::OK);
        let (_, used) = app
            .choose_password_in_new_browser(&old_token, PASSWORD)
            .await;
        assert_eq!(
            used.status(),
            StatusCode::GONE,
            "the link went to the wrong address"
        );
        assert_eq!(app.account_row(id).await.0, "pending");
        // Changing only the names keeps the link.
        app.call(
            "send_user_email",
            &[("id", &id.to_string()), ("kind", "welcome")],
        )
        .await;
        let token = app.token_in_last_email("zoe@riverside.example").await;
        let response = update(&app, id, "Zoe", "Angstrom", "zoe@riverside.example", "ZA").await;
        assert_eq!(response.status(), StatusCode::OK);
        let (_, activated) = app.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(activated.status(), StatusCode::OK);
    }
);

// --- Deactivation -------------------------------------------------------------

both_backends!(
    async fn deactivating_a_person_ends_their_sessions_at_once_and_blocks_sign_in(app: TestApp) {
        app.set_up_first_administrator().await;
        let (id, activated_browser) = app.add_and_activate(&zoe()).await;
        let other_browser = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        assert!(app.whoami_as(&activated_browser).await.is_some());

        let response = set_active(&app, id, false).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(app.whoami_as(&activated_browser).await.is_none());
        assert!(app.whoami_as(&other_browser).await.is_none());
        let (reasons,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND end_reason = 'account_deactivated'",
        )
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("sessions");
        assert_eq!(reasons, 2);

        let refused = app
            .call_as(
                &app.new_browser(),
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(refused).await, "InvalidCredentials");
        let page = detail(&app, id).await;
        assert_eq!(page["state"], "deactivated");
        assert!(page["deactivated_at"].is_string());
        assert_eq!(
            app.audit_actions_for(id).await.last().map(String::as_str),
            Some("sign_in.failed")
        );
        assert!(
            app.audit_actions_for(id)
                .await
                .contains(&"account.deactivated".to_owned())
        );
        // Deactivating twice changes nothing and writes nothing more.
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        let deactivations = app
            .audit_actions_for(id)
            .await
            .into_iter()
            .filter(|a| a == "account.deactivated")
            .count();
        assert_eq!(deactivations, 1);
    }
);

both_backends!(
    async fn deactivation_revokes_pending_links_and_reactivation_brings_none_back(app: TestApp) {
        app.set_up_first_administrator().await;
        let (id, browser) = app.add_and_activate(&zoe()).await;
        let sent = app
            .call(
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "set_password")],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
        let token = app.token_in_last_email(ZOE_EMAIL).await;

        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        let (_, used) = app
            .choose_password_in_new_browser(&token, "a brand new passphrase 7")
            .await;
        assert_eq!(used.status(), StatusCode::GONE);
        // Neither the forgotten-password flow nor an administrator sends a link now.
        let mails_before = app.emails_to(ZOE_EMAIL).await.len();
        let answer = app
            .call_as(
                &app.new_browser(),
                "forgotten_password",
                &[("login", ZOE_EMAIL)],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
        let refused = app
            .call(
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "set_password")],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len(), mails_before);

        assert_eq!(set_active(&app, id, true).await.status(), StatusCode::OK);
        assert_eq!(app.account_row(id).await.0, "active");
        assert!(
            app.whoami_as(&browser).await.is_none(),
            "old sessions stay ended"
        );
        let (_, used) = app
            .choose_password_in_new_browser(&token, "a brand new passphrase 7")
            .await;
        assert_eq!(used.status(), StatusCode::GONE, "old links stay revoked");
        // The password was kept: the person signs in again.
        let again = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        assert!(app.whoami_as(&again).await.is_some());
        let actions = app.audit_actions_for(id).await;
        assert!(
            actions.contains(&"account.reactivated".to_owned()),
            "{actions:?}"
        );
    }
);

both_backends!(
    async fn a_never_activated_account_is_pending_again_after_reactivation(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app
            .add_person(&with(&zoe(), "send_welcome_email", "on"))
            .await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        let page = app
            .get(&format!("/activate/{token}"))
            .await
            .text()
            .await
            .expect("html");
        assert!(
            page.contains("This link has expired or has already been used"),
            "{page}"
        );
        assert_eq!(set_active(&app, id, true).await.status(), StatusCode::OK);
        assert_eq!(app.account_row(id).await.0, "pending");
        let (_, used) = app.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(used.status(), StatusCode::GONE);
    }
);

both_backends!(
    async fn administrators_cannot_deactivate_themselves(app: TestApp) {
        app.set_up_first_administrator().await;
        let me = app.user_id("sian.obrien").await;
        let response = set_active(&app, me, false).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = error_of(response).await;
        assert!(
            body["Conflict"]
                .as_str()
                .expect("message")
                .contains("your own"),
            "{body}"
        );
        assert_eq!(app.account_row(me).await.0, "active");
        assert!(app.whoami().await.is_some());
    }
);

both_backends!(
    async fn a_deactivation_through_one_server_holds_at_once_on_another_sharing_the_database(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let (id, _) = app.add_and_activate(&zoe()).await;

        // A second replica: the same settings (database, public URL), its own port.
        let second = app.second_instance().await;

        let browser = app.new_browser();
        let signed_in = app
            .call_at(
                &second,
                &browser,
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        let whoami = |browser: &reqwest::Client| {
            let (app, second, browser) = (&app, second.clone(), browser.clone());
            async move {
                let body: Value = app
                    .call_at(&second, &browser, "whoami", &[])
                    .await
                    .json()
                    .await
                    .expect("json");
                body
            }
        };
        assert_eq!(whoami(&browser).await["username"], "zoe.angstrom");

        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        assert!(
            whoami(&browser).await.is_null(),
            "refused on the other instance at once"
        );
        let page = browser
            .get(format!("{second}/profile"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("request");
        assert_eq!(page.status(), StatusCode::FOUND);
        let again = app
            .call_at(
                &second,
                &app.new_browser(),
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    }
);

// --- The list -----------------------------------------------------------------

both_backends!(
    async fn the_list_finds_people_without_their_accents_and_only_in_ones_own_organisation(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        app.add_person(&zoe()).await;
        let (hillside, _) = app.second_organisation().await;
        let response = app
            .call_as(
                &hillside,
                "add_user",
                &person_form("Siân", "Hughes", "sian.hughes@hillside.example", "SH"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);

        assert_eq!(
            usernames(&list(&app, &app.client, "sian", "").await),
            ["sian.obrien"]
        );
        assert_eq!(
            usernames(&list(&app, &app.client, "SIAN", "").await),
            ["sian.obrien"]
        );
        assert_eq!(
            usernames(&list(&app, &app.client, "ångström", "").await),
            ["zoe.angstrom"]
        );
        assert_eq!(
            usernames(&list(&app, &app.client, "angstrom", "").await),
            ["zoe.angstrom"]
        );
        assert!(usernames(&list(&app, &app.client, "hughes", "").await).is_empty());
        assert!(usernames(&list(&app, &app.client, "tomasz", "").await).is_empty());
        let everyone = list(&app, &app.client, "", "").await;
        assert_eq!(
            usernames(&everyone),
            ["zoe.angstrom", "sian.obrien"],
            "Ångström before O’Brien"
        );
        assert_eq!(everyone["total"], "2 accounts");

        assert_eq!(
            usernames(&list(&app, &hillside, "sian", "").await),
            ["sian.hughes"]
        );
    }
);

both_backends!(
    async fn the_list_comes_a_page_at_a_time_and_the_cursor_continues_where_it_ended(app: TestApp) {
        app.set_up_first_administrator().await;
        for n in 0..55 {
            let (first, username, email, initials) = (
                format!("Member{}", char::from(b'a' + (n % 26) as u8)),
                format!("member{n:02}"),
                format!("member{n:02}@riverside.example"),
                format!("M{n:02}"),
            );
            let last = format!("Person{}", char::from(b'a' + (n / 26) as u8));
            let form = [
                ("first_name", first.as_str()),
                ("last_name", last.as_str()),
                ("email", email.as_str()),
                ("username", username.as_str()),
                ("initials", initials.as_str()),
            ];
            let response = app.add_user(&form).await;
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{}",
                response.text().await.unwrap_or_default()
            );
        }
        let first_page = list(&app, &app.client, "", "").await;
        assert_eq!(first_page["total"], "56 accounts");
        let first_rows = usernames(&first_page);
        assert_eq!(first_rows.len(), 50);
        let next = first_page["next"].as_str().expect("a next page").to_owned();
        let second_page = list(&app, &app.client, "", &next).await;
        let second_rows = usernames(&second_page);
        assert_eq!(second_rows.len(), 6);
        assert!(second_page["next"].is_null());
        let all: HashSet<&String> = first_rows.iter().chain(&second_rows).collect();
        assert_eq!(all.len(), 56, "no row twice, none missing");
        // The same cursor gives the same page again.
        assert_eq!(
            usernames(&list(&app, &app.client, "", &next).await),
            second_rows
        );
        // A search narrows the pages: "member" matches the 55 usernames.
        let searched = list(&app, &app.client, "member", "").await;
        assert_eq!(searched["total"], "55 accounts");
        let rest = list(
            &app,
            &app.client,
            "member",
            searched["next"].as_str().expect("next"),
        )
        .await;
        assert_eq!(usernames(&rest).len(), 5);
    }
);

// --- The audit log --------------------------------------------------------------

both_backends!(
    async fn every_action_on_an_account_is_in_the_audit_log_with_its_actor(app: TestApp) {
        app.set_up_first_administrator().await;
        let admin = app.user_id("sian.obrien").await;
        let id = app
            .add_person(&with(&zoe(), "send_welcome_email", "on"))
            .await;
        assert_eq!(
            update(&app, id, "Zoë", "Ångström", ZOE_EMAIL, "ZAN")
                .await
                .status(),
            StatusCode::OK
        );
        app.call(
            "send_user_email",
            &[("id", &id.to_string()), ("kind", "welcome")],
        )
        .await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let (_, activated) = app.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(activated.status(), StatusCode::OK);
        let answer = app
            .call_as(
                &app.new_browser(),
                "forgotten_password",
                &[("login", "zoe.angstrom")],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(set_active(&app, id, false).await.status(), StatusCode::OK);
        assert_eq!(set_active(&app, id, true).await.status(), StatusCode::OK);

        let entries: Vec<(String, Option<i64>, Option<i64>, String)> = sqlx::query_as(
            "SELECT action, actor_user_id, organisation_id, client_address FROM audit_log
             WHERE target_user_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit");
        let actions: Vec<(&str, Option<i64>)> = entries
            .iter()
            .map(|(a, actor, _, _)| (a.as_str(), *actor))
            .collect();
        assert_eq!(
            actions,
            [
                ("account.created", Some(admin)),
                ("email.queued", Some(admin)),
                ("account.details_changed", Some(admin)),
                ("email.queued", Some(admin)),
                ("account.activated", Some(id)),
                ("password.changed", Some(id)),
                ("password_reset.requested", None),
                ("email.queued", None),
                ("account.deactivated", Some(admin)),
                ("account.reactivated", Some(admin)),
            ]
        );
        let (organisation,): (i64,) =
            sqlx::query_as("SELECT organisation_id FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("organisation");
        for (action, _, org, client) in &entries {
            assert_eq!(*org, Some(organisation), "{action}");
            assert_eq!(client, "127.0.0.1", "{action}");
        }
        // The account page shows the same history, newest first.
        let page = detail(&app, id).await;
        assert_eq!(page["audit"][0]["what"], "Account reactivated");
        assert_eq!(page["audit"][0]["by"], "Siân O’Brien");
    }
);

both_backends!(
    async fn the_add_user_form_without_javascript_starts_ticked_as_the_live_one(app: TestApp) {
        app.set_up_first_administrator().await;
        let page = app.get("/users/new").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        let checkbox = |id: &str| {
            let start = html
                .find(&format!(r#"id="{id}""#))
                .unwrap_or_else(|| panic!("no {id}"));
            let input = &html[html[..start].rfind("<input").expect("input")..];
            input[..input.find('>').expect("tag ends")].to_owned()
        };
        // A plain post sends what the boxes show: the username made from the
        // names and a welcome email, as in the browser.
        assert!(checkbox("generate_username").contains(" checked"));
        assert!(checkbox("send_welcome_email").contains(" checked"));
        assert!(!checkbox("api_user").contains(" checked"));
    }
);
