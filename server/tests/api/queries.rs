//! How many SQL statements a signed-in request costs. Each is a round trip
//! (and on PostgreSQL a plan); a signed-in page reads its session with the
//! person's permissions once, then what the page shows.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

/// Sends `request` with a fresh request id; the statements it ran.
async fn statements(request: reqwest::RequestBuilder) -> usize {
    let id = uuid::Uuid::new_v4().to_string();
    let response = request
        .header("x-request-id", &id)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.expect("body");
    for _ in 0..200 {
        if let Some(count) = statements_of(&id) {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("request {id} was never counted");
}

both_backends!(
    async fn a_signed_in_page_reads_its_session_and_permissions_once(app: TestApp) {
        count_statements();
        app.set_up_first_administrator().await;
        let token = app.office_staff_api_token().await;
        let page = |path: &str| {
            app.client
                .get(format!("{}{path}", app.address))
                .header("accept", "text/html")
        };
        // The first request may rotate the session's token; count the next.
        statements(page("/profile")).await;
        let profile = statements(page("/profile")).await;
        let users = statements(page("/users")).await;
        let whoami =
            statements(app.api(reqwest::Method::GET, "/api/v1/whoami", Some(&token))).await;
        let user = statements(app.api(reqwest::Method::GET, "/api/v1/users", Some(&token))).await;
        // /profile: the session with the person and permissions; a pending
        // address change with whether they enrolled; their sessions;
        // two-factor state; their applications. /users: the session, the
        // page of people and its count, the organisations to pick from. The REST API: the token
        // with its person, the request count (a write), permissions, the
        // answer.
        for (what, ran, budget) in [
            ("/profile", profile, 5),
            ("/users", users, 5),
            ("REST whoami", whoami, 4),
            ("REST list of users", user, 4),
        ] {
            assert!(
                ran <= budget,
                "{what} ran {ran} statements, more than {budget}"
            );
        }
    }
);
