//! Redirects after sign-in, request bodies and the password-hashing queue:
//! no value sends anyone off the origin, no body is read past its limit,
//! and a burst of sign-ins is answered 503 with `Retry-After` rather than
//! queued without end.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where signing in as Zoë (no roles, so no second factor) with `next` sends her.
async fn after_sign_in(app: &TestApp, next: &str) -> String {
    let browser = app.new_browser();
    let response = app
        .call_raw_as(
            &browser,
            "sign_in",
            &[
                ("login", "zoe.angstrom"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{next:?}");
    location(&response).expect("a redirect")
}

both_backends!(
    async fn sign_in_follows_next_only_to_a_path_of_its_own_origin(app: TestApp) {
        app.set_up_first_administrator().await;
        app.add_and_activate(&person_form(
            "Zoë",
            "Ångström",
            "zoe@riverside.example",
            "ZA",
        ))
        .await;
        assert_eq!(after_sign_in(&app, "/profile").await, "/profile");
        assert_eq!(
            after_sign_in(&app, "/users?q=ab&state=active").await,
            "/users?q=ab&state=active"
        );
        // Longer than any address Gatehouse makes (an application's
        // authorization request with a long state included: 16 KiB).
        let long = format!("/{}", "a".repeat(20_000));
        for hostile in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "/\r\n/evil.example",
            "/%2F%2Fevil.example",
            "/%5Cevil.example",
            "/.//evil.example",
            "javascript:alert(1)",
            "profile",
            long.as_str(),
        ] {
            assert_eq!(after_sign_in(&app, hostile).await, "/", "{hostile:?}");
        }
        // Through the code step too: Siân's next rides along to it.
        let browser = app.new_browser();
        let password_step = app
            .call_raw_as(
                &browser,
                "sign_in",
                &[
                    ("login", "sian.obrien"),
                    ("password", PASSWORD),
                    ("next", "//evil.example"),
                ],
            )
            .await;
        let code_page = location(&password_step).expect("the code step");
        assert!(code_page.starts_with("/sign-in/code"), "{code_page}");
        let sian = app.user_id("sian.obrien").await;
        // A code works once: the next 30-second step's.
        app.clock.advance(30);
        let code = app.current_code(sian).await;
        let done = app
            .call_raw_as(
                &browser,
                "sign_in_code",
                &[("code", code.as_str()), ("next", "//evil.example")],
            )
            .await;
        assert_eq!(location(&done).as_deref(), Some("/"));
    }
);

/// Sends `body` as a chunked request (no length given) and returns the
/// status line of the answer.
async fn post_chunked(app: &TestApp, path: &str, body: &[u8]) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.chunks(8 * 1024) {
        let sent = stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .and(stream.write_all(chunk).await)
            .and(stream.write_all(b"\r\n").await);
        // The server may answer and close before reading everything.
        if sent.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

both_backends!(
    async fn a_body_over_64_kib_is_refused_on_every_route(app: TestApp) {
        app.set_up_first_administrator().await;
        let huge = format!("login=sian.obrien&password={}", "x".repeat(70 * 1024));

        // With its length declared: a server function, a page, the REST API.
        let declared = app
            .new_browser()
            .post(format!("{}/fn/sign_in", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(huge.clone())
            .send()
            .await
            .expect("request");
        let message = refusal(declared, StatusCode::PAYLOAD_TOO_LARGE, "BadRequest").await;
        assert!(message.contains("64 KiB"), "{message}");
        let page = app
            .new_browser()
            .post(format!("{}/sign-in", app.address))
            .body(huge.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(page.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let (_, token) = app
            .api_user_with_token(
                "HR",
                "Sync",
                "hr.sync@riverside.example",
                "HS",
                &["User administrator"],
                "Import",
            )
            .await;
        let rest = app
            .api(reqwest::Method::POST, "/api/v1/users", Some(&token))
            .header("content-type", "application/json")
            .body(format!("{{\"first_name\":\"{}\"}}", "x".repeat(70 * 1024)))
            .send()
            .await
            .expect("request");
        let problem = typed_problem(rest, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(problem.problem_type, "/api/docs#problem-too-large");

        // Streamed without a length: cut off at the limit all the same.
        let status = post_chunked(&app, "/fn/sign_in", huge.as_bytes()).await;
        assert!(status.contains(" 413 "), "{status}");
        // A small streamed body still works.
        let status = post_chunked(&app, "/fn/whoami", b"").await;
        assert!(status.contains(" 200 "), "{status}");

        let failures: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM audit_log WHERE action = 'sign_in.failed'")
                .fetch_all(&app.state.db.pool)
                .await
                .expect("audit");
        assert!(failures.is_empty(), "no oversized attempt was even judged");
    }
);

both_backends!(
    |s| s.password_queue = 0,
    async fn a_burst_of_sign_ins_beyond_the_hashing_queue_is_answered_503(app: TestApp) {
        app.set_up_first_administrator().await;
        let attempts = (0..24).map(|i| {
            let app = &app;
            async move {
                app.new_browser()
                    .post(format!("{}/fn/sign_in", app.address))
                    .header("x-forwarded-for", format!("198.51.100.{i}"))
                    .form(&[
                        ("login", format!("nobody{i}")),
                        ("password", "a wrong one".into()),
                    ])
                    .send()
                    .await
                    .expect("request")
            }
        });
        let answers = futures::future::join_all(attempts).await;
        let mut busy = 0;
        for answer in answers {
            match answer.status() {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::SERVICE_UNAVAILABLE => {
                    busy += 1;
                    assert_eq!(answer.headers()["retry-after"], "2");
                    let error = error_of(answer).await;
                    assert!(error["Busy"].is_object(), "{error}");
                }
                other => panic!("{other}: {}", answer.text().await.unwrap_or_default()),
            }
        }
        assert!(busy > 0, "the hashing threads' queue filled up");
        // Places are given back: once the burst is over, sign-in works.
        let response = app.sign_in("sian.obrien", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn losing_the_database_is_answered_503_with_retry_after_never_500(app: TestApp) {
        app.set_up_first_administrator().await;
        let token = app.office_staff_api_token().await;
        // As when the database restarts or fails over and no connection
        // can be had: nothing can be read or written.
        app.state.db.pool.close().await;

        let page = app.get("/users").await;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        let added = app
            .call(
                "add_user",
                &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
            )
            .await;
        assert_eq!(added.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(added.headers()["retry-after"], "5");
        let body: serde_json::Value = added.json().await.expect("json");
        assert_eq!(
            body["error"],
            "Gatehouse cannot reach its database just now. Wait a few seconds and try again"
        );
        let read = app
            .api(reqwest::Method::GET, "/api/v1/users", Some(&token))
            .send()
            .await
            .expect("request");
        assert_eq!(read.headers()["retry-after"], "5");
        let problem = api_problem(read, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(
            problem["type"].as_str().map(|t| t.ends_with("unavailable")),
            Some(true)
        );
    }
);

/// After PostgreSQL restarts (here: every connection of the pool but one
/// is dropped by the server), the pool's connections are dead; one that sat
/// unused is checked before it is handed out, so the next requests succeed
/// on new ones instead of failing 503. (SQLite has no server to lose.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_dropped_are_replaced_before_use() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    app.set_up_first_administrator().await;
    let pool = &app.state.db.pool;
    // Several connections, all open and idle.
    let held = futures::future::join_all((0..4).map(|_| pool.acquire())).await;
    drop(held);
    let (dropped,): (i64,) = sqlx::query_as(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(pool)
    .await
    .expect("terminate");
    assert!(dropped >= 3, "dropped {dropped} connections");
    // Longer than a connection may sit unused before it is checked.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    for _ in 0..6 {
        assert_eq!(app.get("/users").await.status(), StatusCode::OK);
    }
}

/// A request whose client goes away while its transaction's `BEGIN` is on
/// the wire leaves no connection inside a transaction. sqlx 0.8's
/// PostgreSQL `begin` is not cancel-safe (sqlx issue 2054): the pool
/// handed such a connection to the next request, whose writes then ran
/// inside a transaction that nothing would commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cancelled_while_it_begins_leaves_no_connection_in_a_transaction() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    let db = &app.state.db;
    // Open connections, idle in the pool, so that a write's first step
    // takes one at once and sends BEGIN.
    drop(futures::future::join_all((0..4).map(|_| db.pool.acquire())).await);
    // Longest moments first: a write that completes rolls back on its
    // connection whatever was left open there, so the last ones are short.
    for step in (0..300).rev() {
        // Stopped after a moment, as a request is when its client goes:
        // before, during or after the BEGIN's round trip.
        let db = db.clone();
        let write = tokio::spawn(async move { db.begin_write().await.map(drop) });
        for _ in 0..step % 100 {
            tokio::task::yield_now().await;
        }
        write.abort();
        let _ = write.await;
    }
    let in_transaction = || async {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'idle in transaction'",
        )
        .fetch_one(&db.pool)
        .await
        .expect("count");
        count
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut left = in_transaction().await;
    while left > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = in_transaction().await;
    }
    assert_eq!(left, 0, "connections left inside a transaction");
}
