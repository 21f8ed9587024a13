use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn a_cross_site_post_is_refused(app: TestApp) {
        app.set_up_first_administrator().await;
        let forged = [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.example"),
            ("origin", "null"),
        ];
        for (header, value) in forged {
            let response = app
                .client
                .post(format!("{}/fn/sign_out", app.address))
                .header(header, value)
                .send()
                .await
                .expect("request");
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{header}: {value}"
            );
        }
        assert!(
            app.whoami().await.is_some(),
            "a forged sign-out ended the session"
        );
    }
);

both_backends!(
    async fn pages_carry_security_headers_and_a_nonce_based_policy(app: TestApp) {
        let page = app.get("/sign-in").await;
        let headers = page.headers().clone();
        let csp = headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert!(headers.contains_key("x-request-id"));
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("nonce");
        let html = page.text().await.expect("html");
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "inline scripts carry the nonce"
        );
    }
);

both_backends!(
    async fn health_and_readiness_answer(app: TestApp) {
        assert_eq!(app.get("/health").await.status(), StatusCode::OK);
        assert_eq!(app.get("/ready").await.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn the_audit_log_refuses_changes(app: TestApp) {
        app.set_up_first_administrator().await;
        assert!(
            sqlx::query("UPDATE audit_log SET action = 'x'")
                .execute(&app.state.db.pool)
                .await
                .is_err()
        );
        assert!(
            sqlx::query("DELETE FROM audit_log")
                .execute(&app.state.db.pool)
                .await
                .is_err()
        );
    }
);

both_backends!(
    async fn no_password_reaches_the_audit_log(app: TestApp) {
        app.set_up_first_administrator().await;
        app.sign_in("sian.obrien", "a wrong password attempt").await;
        let details: Vec<(String,)> = sqlx::query_as("SELECT detail FROM audit_log")
            .fetch_all(&app.state.db.pool)
            .await
            .expect("audit");
        for (detail,) in details {
            assert!(
                !detail.contains(PASSWORD) && !detail.contains("wrong password"),
                "{detail}"
            );
        }
    }
);

/// docs/operations.md: the server runs as a role that does not own the
/// schema; migrations are applied by the owner. That role can neither
/// change nor remove audit entries, nor switch the triggers off, and the
/// server still starts (checking, not running, the migrations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_cannot_undo_the_audit_log() {
    use sqlx::Connection;
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    app.set_up_first_administrator().await;
    let owner_url = app.state.settings.database_url.clone();
    let role = format!(
        "gatehouse_app_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let pool = &app.state.db.pool;
    for statement in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role}"),
    ] {
        sqlx::query(&statement)
            .execute(pool)
            .await
            .expect(&statement);
    }
    let service_url = owner_url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(service_url, owner_url);

    let db = backend::db::Db::connect(&service_url)
        .await
        .expect("the service role connects");
    db.migrate().await.expect("nothing to run, and it says so");
    let mut conn = sqlx::PgConnection::connect(&service_url)
        .await
        .expect("connect");
    for attempt in [
        "UPDATE audit_log SET detail = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_no_change ON audit_log",
    ] {
        assert!(
            sqlx::query(attempt).execute(&mut conn).await.is_err(),
            "the service role could: {attempt}"
        );
    }
    // What the server itself does still works: it signs people in.
    let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .expect("read");
    assert!(before > 0);
    conn.close().await.expect("close");
    db.pool.close().await;
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(&statement)
            .execute(pool)
            .await
            .expect(&statement);
    }
}
