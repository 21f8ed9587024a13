use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn people_change_their_own_names_and_initials(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .call(
                "update_my_details",
                &[
                    ("first_name", "Siân Mair"),
                    ("last_name", "O’Brien-Jones"),
                    ("initials", "smoj"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let me = app.whoami().await.expect("signed in");
        assert_eq!(me["first_name"], "Siân Mair");
        assert_eq!(me["last_name"], "O’Brien-Jones");
        assert_eq!(me["initials"], "SMOJ");
        assert!(
            app.audit_actions()
                .await
                .contains(&"account.details_changed".to_owned())
        );
    }
);

both_backends!(
    async fn invalid_own_details_are_refused_field_by_field(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .call(
                "update_my_details",
                &[
                    ("first_name", "R2D2"),
                    ("last_name", ""),
                    ("initials", "TOOLONG"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        let fields: Vec<&str> = body["Validation"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["first_name", "last_name", "initials"]);
        assert_eq!(app.whoami().await.expect("signed in")["first_name"], "Siân");
    }
);

both_backends!(
    async fn changing_the_password_needs_the_current_one(app: TestApp) {
        app.set_up_first_administrator().await;
        let new = "a different long passphrase 7";
        let wrong = app
            .call(
                "change_my_password",
                &[
                    ("current_password", "not my password at all"),
                    ("new_password", new),
                ],
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            error_of(wrong).await["Validation"][0]["field"],
            "current_password"
        );
        let weak = app
            .call(
                "change_my_password",
                &[("current_password", PASSWORD), ("new_password", "short")],
            )
            .await;
        assert_eq!(
            error_of(weak).await["Validation"][0]["field"],
            "new_password"
        );
        let ok = app
            .call(
                "change_my_password",
                &[("current_password", PASSWORD), ("new_password", new)],
            )
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
        let browser = app.new_browser();
        let old = app
            .call_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        let fresh = app
            .call_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", new)],
            )
            .await;
        assert_eq!(fresh.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn a_password_change_can_end_every_other_session_but_this_one(app: TestApp) {
        app.set_up_first_administrator().await;
        let laptop = app.new_browser();
        app.call_as(
            &laptop,
            "sign_in",
            &[("login", "sian.obrien"), ("password", PASSWORD)],
        )
        .await;
        let phone = app.new_browser();
        app.call_as(
            &phone,
            "sign_in",
            &[("login", "sian.obrien"), ("password", PASSWORD)],
        )
        .await;
        let response = app
            .call(
                "change_my_password",
                &[
                    ("current_password", PASSWORD),
                    ("new_password", "a different long passphrase 7"),
                    ("end_other_sessions", "on"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(app.whoami().await.is_some(), "this session stays");
        assert!(app.whoami_as(&laptop).await.is_none());
        assert!(app.whoami_as(&phone).await.is_none());
    }
);

both_backends!(
    async fn people_see_and_end_their_own_sessions_only(app: TestApp) {
        app.set_up_first_administrator().await;
        let other = app.new_browser();
        app.call_as(
            &other,
            "sign_in",
            &[("login", "sian.obrien"), ("password", PASSWORD)],
        )
        .await;
        let profile: serde_json::Value = app.call("profile", &[]).await.json().await.expect("json");
        let sessions = profile["sessions"].as_array().expect("sessions");
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        let other_id = sessions
            .iter()
            .find(|s| s["current"] == false)
            .and_then(|s| s["id"].as_i64())
            .expect("the other session");
        let ended = app
            .call("end_my_session", &[("id", &other_id.to_string())])
            .await;
        assert_eq!(ended.status(), StatusCode::OK);
        assert!(app.whoami_as(&other).await.is_none());
        assert!(app.whoami().await.is_some());
        // Someone else's session id is answered as not found.
        let (stranger_session,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM sessions")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("a session");
        let mut tx = app.state.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE sessions SET user_id = user_id WHERE id = $1")
            .bind(stranger_session)
            .execute(&mut *tx)
            .await
            .expect("touch");
        tx.commit().await.expect("commit");
        let again = app
            .call("end_my_session", &[("id", &other_id.to_string())])
            .await;
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn my_profile_needs_a_session(app: TestApp) {
        for function in [
            "profile",
            "update_my_details",
            "change_my_email",
            "change_my_password",
            "end_my_session",
        ] {
            let response = app.call(function, &[]).await;
            assert!(
                matches!(
                    response.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
                ),
                "{function}: {}",
                response.status()
            );
        }
        let response = app.call("profile", &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

const ZOE_EMAIL: &str = "zoe@riverside.example";
const ZOE_NEW: &str = "zoe.angstrom@elsewhere.example";

/// Zoë, activated (no roles, so no second factor), signed in on the
/// returned browser; her id.
async fn zoe(app: &TestApp) -> (i64, reqwest::Client) {
    app.set_up_first_administrator().await;
    app.add_and_activate(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
        .await
}

async fn change_email(
    app: &TestApp,
    browser: &reqwest::Client,
    password: &str,
    code: &str,
) -> reqwest::Response {
    app.call_as(
        browser,
        "change_my_email",
        &[
            ("email", ZOE_NEW),
            ("current_password", password),
            ("code", code),
        ],
    )
    .await
}

/// Zoë, signed in on `here`, asks to move to `ZOE_NEW`; the tokens of the
/// confirmation link sent there and of the undo link sent to her old address.
async fn request_change(app: &TestApp, here: &reqwest::Client) -> (String, String) {
    let asked = change_email(app, here, PASSWORD, "").await;
    assert_eq!(asked.status(), StatusCode::OK);
    (
        app.token_in_last_email(ZOE_NEW).await,
        app.token_in_last_email(ZOE_EMAIL).await,
    )
}

async fn email_of(app: &TestApp, user_id: i64) -> String {
    let (email,): (String,) = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("email");
    email
}

both_backends!(
    async fn changing_the_email_needs_the_password_and_a_code_once_enrolled(app: TestApp) {
        app.set_up_first_administrator().await;
        let sian = app.user_id("sian.obrien").await;
        let request = |password: &'static str, code: String| {
            let app = &app;
            async move {
                app.call(
                    "change_my_email",
                    &[
                        ("email", "sian@elsewhere.example"),
                        ("current_password", password),
                        ("code", &code),
                    ],
                )
                .await
            }
        };
        let wrong_password = request("not my password", String::new()).await;
        assert_eq!(
            field_message(&error_of(wrong_password).await, "current_password").as_deref(),
            Some("Your password is not right")
        );
        let no_code = request(PASSWORD, String::new()).await;
        assert!(field_message(&error_of(no_code).await, "code").is_some());
        let wrong_code = request(PASSWORD, "000000".into()).await;
        assert!(field_message(&error_of(wrong_code).await, "code").is_some());
        assert!(app.emails_to("sian@elsewhere.example").await.is_empty());

        app.clock.advance(30);
        let code = app.current_code(sian).await;
        let accepted = request(PASSWORD, code).await;
        assert_eq!(accepted.status(), StatusCode::OK);
        let (subject, _) = app.last_email_to("sian@elsewhere.example").await;
        assert!(
            subject.starts_with("Confirm your new email address"),
            "{subject}"
        );
        // The old address is told, and named the new one, with a way back.
        let (subject, text) = app.last_email_to("sian.obrien@riverside.example").await;
        assert!(subject.contains("is being changed"), "{subject}");
        assert!(text.contains("sian@elsewhere.example"), "{text}");
        assert!(
            first_link(&text)
                .expect("a link")
                .contains("/undo-email-change/")
        );
        let audit = app.audit_actions().await;
        assert!(audit.contains(&"current_password.failed".to_owned()));
        assert!(audit.contains(&"two_factor.failed".to_owned()));
    }
);

both_backends!(
    async fn confirming_a_new_address_ends_other_sessions_and_password_links(app: TestApp) {
        let (zoe, here) = zoe(&app).await;
        let elsewhere = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        // A set-password link waits in the old mailbox.
        app.call_as(
            &app.new_browser(),
            "forgotten_password",
            &[("login", ZOE_EMAIL)],
        )
        .await;
        let password_token = app.token_in_last_email(ZOE_EMAIL).await;
        let (confirm, _) = request_change(&app, &here).await;
        let confirmed = app
            .call_as(&here, "confirm_email", &[("token", &confirm)])
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        assert_eq!(email_of(&app, zoe).await, ZOE_NEW);
        assert!(app.whoami_as(&here).await.is_some(), "this browser stays");
        assert!(app.whoami_as(&elsewhere).await.is_none(), "others end");
        let link = app
            .call_as(
                &app.new_browser(),
                "password_link",
                &[("token", &password_token)],
            )
            .await;
        assert_eq!(
            link.status(),
            StatusCode::GONE,
            "the old mailbox's link is dead"
        );
    }
);

both_backends!(
    async fn the_old_address_undoes_a_change_before_or_after_it_is_made(app: TestApp) {
        let (zoe, here) = zoe(&app).await;
        // Before: the change is cancelled, its confirmation link dies.
        let (confirm, undo) = request_change(&app, &here).await;
        let page: serde_json::Value = app
            .call_as(
                &app.new_browser(),
                "email_change_undo_link",
                &[("token", &undo)],
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(page["keep"], ZOE_EMAIL);
        assert_eq!(page["moving_to"], ZOE_NEW);
        let undone = app
            .call_as(&app.new_browser(), "undo_email_change", &[("token", &undo)])
            .await;
        assert_eq!(undone.status(), StatusCode::OK);
        assert!(
            app.whoami_as(&here).await.is_none(),
            "signed out everywhere"
        );
        let late = app
            .call_as(&app.new_browser(), "confirm_email", &[("token", &confirm)])
            .await;
        assert_eq!(late.status(), StatusCode::GONE);
        assert_eq!(email_of(&app, zoe).await, ZOE_EMAIL);

        // After: the address is put back.
        let here = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        let (confirm, undo) = request_change(&app, &here).await;
        app.call_as(&here, "confirm_email", &[("token", &confirm)])
            .await;
        assert_eq!(email_of(&app, zoe).await, ZOE_NEW);
        let undone = app
            .call_as(&app.new_browser(), "undo_email_change", &[("token", &undo)])
            .await;
        assert_eq!(undone.status(), StatusCode::OK);
        assert_eq!(email_of(&app, zoe).await, ZOE_EMAIL);
        assert!(app.whoami_as(&here).await.is_none());
        let (details,): (String,) = sqlx::query_as(
            "SELECT detail FROM audit_log WHERE action = 'email_address.change_undone'
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .expect("audit");
        assert_eq!(details, "address=restored");
        // A used undo link works once.
        let again = app
            .call_as(&app.new_browser(), "undo_email_change", &[("token", &undo)])
            .await;
        assert_eq!(again.status(), StatusCode::GONE);
    }
);

both_backends!(
    async fn a_second_change_does_not_take_away_the_first_ones_undo_link(app: TestApp) {
        let (zoe, here) = zoe(&app).await;
        let (confirm, undo) = request_change(&app, &here).await;
        app.call_as(&here, "confirm_email", &[("token", &confirm)])
            .await;
        // Whoever holds the session now moves the address on again...
        let again = app
            .call_as(
                &here,
                "change_my_email",
                &[
                    ("email", "zoe@third.example"),
                    ("current_password", PASSWORD),
                    ("code", ""),
                ],
            )
            .await;
        assert_eq!(again.status(), StatusCode::OK);
        // ...and the first undo link still brings the first address back.
        let undone = app
            .call_as(&app.new_browser(), "undo_email_change", &[("token", &undo)])
            .await;
        assert_eq!(undone.status(), StatusCode::OK);
        assert_eq!(email_of(&app, zoe).await, ZOE_EMAIL);
        let late = app
            .call_as(
                &app.new_browser(),
                "confirm_email",
                &[("token", &app.token_in_last_email("zoe@third.example").await)],
            )
            .await;
        assert_eq!(
            late.status(),
            StatusCode::GONE,
            "the pending change is cancelled"
        );
    }
);
