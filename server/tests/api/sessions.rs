use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn the_session_cookie_is_http_only_same_site_and_not_secure_over_http(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app.sign_in("sian.obrien", PASSWORD).await;
        let header = response.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(header.starts_with("gatehouse_session="), "{header}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(header.contains(attribute), "{attribute} missing: {header}");
        }
        assert!(!header.contains("Secure"), "{header}");
    }
);

both_backends!(
    async fn a_new_session_id_is_issued_at_every_sign_in_and_the_old_one_ends(app: TestApp) {
        app.set_up_first_administrator().await;
        let first = session_cookie(app.sign_in("sian.obrien", PASSWORD).await);
        let second = session_cookie(app.sign_in("sian.obrien", PASSWORD).await);
        assert_ne!(first, second);
        // Signing in again in the same browser ends the session it had.
        assert!(whoami_with_cookie(&app, &first).await.is_none());
        assert!(whoami_with_cookie(&app, &second).await.is_some());
    }
);

both_backends!(
    async fn the_database_holds_only_a_hash_of_the_session_token(app: TestApp) {
        app.set_up_first_administrator().await;
        let cookie = session_cookie(app.sign_in("sian.obrien", PASSWORD).await);
        let token = cookie.split_once('=').expect("name=value").1.to_owned();
        let (matches,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
                .bind(&token)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        assert_eq!(matches, 0);
    }
);

both_backends!(
    async fn a_session_ends_after_thirty_idle_minutes(app: TestApp) {
        app.set_up_first_administrator().await;
        app.clock.advance(29 * 60);
        assert!(
            app.whoami().await.is_some(),
            "still within the idle timeout"
        );
        app.clock.advance(29 * 60);
        assert!(
            app.whoami().await.is_some(),
            "activity restarted the idle timeout"
        );
        app.clock.advance(30 * 60);
        assert!(app.whoami().await.is_none(), "idle for 30 minutes");
        // The newest: enrolling in two-factor authentication replaced the first.
        let (reason,): (String,) =
            sqlx::query_as("SELECT end_reason FROM sessions ORDER BY id DESC LIMIT 1")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("session");
        assert_eq!(reason, "idle_timeout");
    }
);

both_backends!(
    async fn a_session_ends_twelve_hours_after_sign_in_however_active(app: TestApp) {
        app.set_up_first_administrator().await;
        for _ in 0..(12 * 60 / 20 - 1) {
            app.clock.advance(20 * 60);
            assert!(app.whoami().await.is_some());
        }
        app.clock.advance(20 * 60);
        assert!(app.whoami().await.is_none(), "past the absolute timeout");
    }
);

both_backends!(
    async fn a_deactivated_users_open_session_is_refused_at_its_next_request(app: TestApp) {
        app.set_up_first_administrator().await;
        assert!(app.whoami().await.is_some());
        let id = app.user_id("sian.obrien").await;
        app.deactivate(id).await;
        assert!(app.whoami().await.is_none());
        let page = app.get("/profile").await;
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(page.headers()["location"], "/sign-in?next=/profile");
    }
);

both_backends!(
    async fn signed_out_visitors_are_sent_to_sign_in(app: TestApp) {
        let page = app.get("/").await;
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(page.headers()["location"], "/sign-in");
        let sign_in = app.get("/sign-in").await;
        assert_eq!(sign_in.status(), StatusCode::OK);
    }
);

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_prefixed() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.public_url = "https://accounts.riverside.example".parse().expect("url");
    })
    .await;
    let token = app.setup_token().await;
    let mut fields = vec![("token", token.as_str())];
    let form = admin_form();
    fields.extend_from_slice(&form);
    let response = app
        .client
        .post(format!("{}/fn/complete_setup", app.address))
        .header("origin", "https://accounts.riverside.example")
        .form(&fields)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let header = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(header.starts_with("__Host-gatehouse_session="), "{header}");
    assert!(header.contains("Secure"), "{header}");
    assert!(response.headers().contains_key("strict-transport-security"));
}

both_backends!(
    async fn a_change_of_access_gives_the_session_a_new_id_at_its_next_request(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe, _) = app
            .add_and_activate(&person_form(
                "Zoë",
                "Ångström",
                "zoe@riverside.example",
                "ZA",
            ))
            .await;
        let old = session_cookie(
            app.call_as(
                &app.new_browser(),
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await,
        );
        let (me, rotated) = whoami_and_new_cookie(&app, &old).await;
        assert!(me.is_some());
        assert_eq!(rotated, None, "no change, no new id");

        let (office_staff,): (i64,) =
            sqlx::query_as("SELECT id FROM roles WHERE name = 'Office staff'")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("role");
        let response = app
            .call(
                "save_user_access",
                &[
                    ("id", &zoe.to_string()),
                    ("roles[]", &office_staff.to_string()),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );

        // Her next request holds the new permission and carries a new id.
        let (me, new) = whoami_and_new_cookie(&app, &old).await;
        assert_eq!(
            me.expect("still signed in")["permissions"],
            serde_json::json!(["UsersView", "ReportsView"])
        );
        let new = new.expect("a new session id");
        assert_ne!(new, old);
        let (me, again) = whoami_and_new_cookie(&app, &new).await;
        assert!(me.is_some());
        assert_eq!(again, None, "rotated once");
        // Requests already in flight with the old id still work for a moment…
        assert!(whoami_and_new_cookie(&app, &old).await.0.is_some());
        // …and not after.
        app.clock.advance(61);
        assert!(whoami_and_new_cookie(&app, &old).await.0.is_none());
        assert!(whoami_and_new_cookie(&app, &new).await.0.is_some());

        // A change to a role she holds rotates her session too.
        let response = app
            .call(
                "save_role",
                &[
                    ("id", &office_staff.to_string()),
                    ("name", "Office staff"),
                    ("description", ""),
                    ("permissions[]", "users.view"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let (me, newer) = whoami_and_new_cookie(&app, &new).await;
        assert_eq!(
            me.expect("signed in")["permissions"],
            serde_json::json!(["UsersView"])
        );
        assert!(newer.is_some_and(|c| c != new));
    }
);
