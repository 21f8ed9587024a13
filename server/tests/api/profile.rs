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
