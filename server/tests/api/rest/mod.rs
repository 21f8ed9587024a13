//! The REST API over HTTP on both backends: every endpoint's answers, its
//! problems (statuses, `application/problem+json`, field errors), bearer
//! tokens (missing, unknown, expired, revoked, throttled, replicas), and the
//! audit trail an API user leaves.

use crate::both_backends;
use crate::helpers::*;
use backend::rest::users::{AccountKindName, AccountStateName, User};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod audit;
mod openapi;
mod problems;
mod roles_and_profiles;
mod tokens;
mod users;

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

/// A `GET` for tests of the wire itself (statuses, headers, raw JSON); the
/// typed client `Rest` (`app.rest(&token)`) is for everything else.
async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.api(Method::GET, path, Some(token))
        .send()
        .await
        .expect("request")
}

/// A request with a JSON body, for tests of the wire itself.
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

/// The id of the organisation's role called `name`.
async fn role_id(rest: &Rest, name: &str) -> i64 {
    let roles = rest.roles().await.unwrap();
    roles
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.id)
        .unwrap_or_else(|| panic!("no role {name} in {roles:?}"))
}

/// The id of the organisation's profile called `name`.
async fn profile_id(rest: &Rest, name: &str) -> i64 {
    let profiles = rest.profiles().await.unwrap();
    profiles
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("no profile {name} in {profiles:?}"))
}

async fn token_id(app: &TestApp, token: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM api_tokens WHERE token_hash = $1")
        .bind(backend::crypto::tokens::hash(token))
        .fetch_one(&app.state.db.pool)
        .await
        .expect("token row");
    id
}
