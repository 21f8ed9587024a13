//! Secrets at rest and on the way: recovery codes under a keyed hash,
//! delivered mail without its link, no caching of pages, the audit log
//! beyond TRUNCATE, and platform administrators held to two-factor
//! authentication like any administrator.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn recovery_codes_are_stored_under_a_keyed_hash_and_still_sign_in(app: TestApp) {
        app.set_up_first_administrator().await;
        let codes: Vec<String> = app
            .call("recovery_codes", &[])
            .await
            .json::<serde_json::Value>()
            .await
            .expect("json")["codes"]
            .as_array()
            .expect("codes shown once after enrolment")
            .iter()
            .map(|c| c.as_str().expect("code").to_owned())
            .collect();
        let stored: Vec<(String, i64)> =
            sqlx::query_as("SELECT code_hash, keyed FROM recovery_codes")
                .fetch_all(&app.state.db.pool)
                .await
                .expect("rows");
        assert_eq!(stored.len(), 10);
        let sian = app.user_id("sian.obrien").await;
        for code in &codes {
            let compact = code.replace('-', "");
            let bare = backend::crypto::tokens::hash(&compact);
            assert!(
                stored
                    .iter()
                    .all(|(hash, keyed)| *hash != bare && *keyed == 1),
                "a bare SHA-256 of a code is stored"
            );
            let keyed = backend::crypto::tokens::keyed_hash(
                &app.state.settings,
                "recovery-code",
                &format!("{sian}:{compact}"),
            )
            .expect("keyed hash");
            assert!(
                stored.contains(&(keyed, 1)),
                "{code} is stored as its keyed hash, bound to the account"
            );
        }
        // And a code still works, once.
        let browser = app.new_browser();
        let password_step = app
            .call_raw_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", PASSWORD)],
            )
            .await;
        assert!(
            location(&password_step)
                .expect("code step")
                .starts_with("/sign-in/code")
        );
        let accepted = app
            .call_raw_as(&browser, "sign_in_code", &[("code", &codes[0])])
            .await;
        assert_eq!(accepted.status(), StatusCode::OK);

        // A code made before keyed hashes (its bare SHA-256, `keyed = 0`)
        // still works, once.
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, keyed, created_at) VALUES ($1, $2, 0, $3)",
        )
        .bind(sian)
        .bind(backend::crypto::tokens::hash("abcdefghjk"))
        .bind(app.state.now())
        .execute(&app.state.db.pool)
        .await
        .expect("a legacy code");
        for expected in [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY] {
            let browser = app.new_browser();
            app.call_raw_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", PASSWORD)],
            )
            .await;
            let answer = app
                .call_raw_as(&browser, "sign_in_code", &[("code", "abcde-fghjk")])
                .await;
            assert_eq!(answer.status(), expected);
        }
    }
);

both_backends!(
    async fn a_delivered_email_keeps_no_readable_link_in_the_database(app: TestApp) {
        app.set_up_first_administrator().await;
        app.add_user(&with(
            &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
            "send_welcome_email",
            "on",
        ))
        .await;
        let (queued,): (String,) = sqlx::query_as(
            "SELECT body_text FROM email_outbox WHERE recipient LIKE '%zoe@riverside.example%'",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .expect("queued");
        assert!(queued.contains("/activate/"), "queued with its link");
        let link = app.link_in_last_email("zoe@riverside.example").await;
        let token = link.rsplit('/').next().expect("token").to_owned();
        let rows: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT body_text, body_html, sent_at FROM email_outbox")
                .fetch_all(&app.state.db.pool)
                .await
                .expect("rows");
        for (text, html, sent_at) in rows {
            assert!(sent_at.is_some(), "delivered");
            assert!(
                !text.contains(&token) && !html.contains(&token),
                "a delivered email's link is still in the outbox"
            );
        }
        // Housekeeping forgets sent mail after a while.
        backend::mail::outbox::forget_sent_before(&app.state.db, app.state.now() + 1)
            .await
            .expect("forgotten");
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM email_outbox")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(left, 0);
    }
);

both_backends!(
    async fn pages_and_answers_are_never_cached_but_built_files_may_be(app: TestApp) {
        let setup = app.setup_token().await;
        for path in [format!("/setup/{setup}"), "/sign-in".to_owned()] {
            let response = app.get(&path).await;
            assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        }
        app.set_up_first_administrator().await;
        for path in ["/profile", "/users", "/two-factor/recovery-codes"] {
            let response = app.get(path).await;
            assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        }
        let answer = app.call("whoami", &[]).await;
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let asset = app.get("/favicon.svg").await;
        assert_ne!(
            asset
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    }
);

both_backends!(
    async fn a_platform_administrator_must_use_two_factor_authentication_without_any_role(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let sian = app.user_id("sian.obrien").await;
        // No role at all, and no second factor: still a platform administrator.
        for query in [
            "DELETE FROM user_roles WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM two_factor WHERE user_id = $1",
        ] {
            sqlx::query(query)
                .bind(sian)
                .execute(&app.state.db.pool)
                .await
                .expect(query);
        }
        let browser = app.new_browser();
        let response = app
            .call_raw_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(location(&response).as_deref(), Some("/two-factor/enrol"));
        let organisations = app.call_raw_as(&browser, "organisations", &[]).await;
        assert_eq!(organisations.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_of(organisations).await, "TwoFactorEnrolmentRequired");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_refuses_truncate_on_postgresql() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    app.set_up_first_administrator().await;
    let refused = sqlx::query("TRUNCATE audit_log CASCADE")
        .execute(&app.state.db.pool)
        .await;
    assert!(refused.is_err(), "TRUNCATE went through");
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert!(count > 0);
}
