//! The REST API over HTTP on both backends: every endpoint's answers, its
//! problems (statuses, `application/problem+json`, field errors), bearer
//! tokens (missing, unknown, expired, revoked, throttled, replicas), and the
//! audit trail an API user leaves.

use crate::both_backends;
use crate::helpers::*;
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
