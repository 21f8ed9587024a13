//! Roles, profiles and who holds them, over HTTP: the starter set, adding
//! and editing roles and profiles, unique names, permissions through
//! profiles, changes holding at once on another server, who may edit and
//! who may give, other organisations' ids, the audit log, and the forms as a
//! browser posts them.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

mod editing;
mod forms;
mod granting;
mod organisations;
mod permissions;
mod starter_set;

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

fn zoe() -> Vec<(&'static str, &'static str)> {
    person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA")
}

fn yusuf() -> Vec<(&'static str, &'static str)> {
    person_form("Yusuf", "Demir", "yusuf.demir@riverside.example", "YD")
}

async fn organisation_of(app: &TestApp, username: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT organisation_id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("organisation");
    id
}

async fn id_by_name(app: &TestApp, table: &str, organisation: i64, name: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(&format!(
        "SELECT id FROM {table} WHERE organisation_id = $1 AND name = $2"
    ))
    .bind(organisation)
    .bind(name)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap_or_else(|_| panic!("{table} {name}"));
    id
}

async fn role_id(app: &TestApp, organisation: i64, name: &str) -> i64 {
    id_by_name(app, "roles", organisation, name).await
}

async fn profile_id(app: &TestApp, organisation: i64, name: &str) -> i64 {
    id_by_name(app, "profiles", organisation, name).await
}

/// `(name, description, permission keys)` of a role, straight from the database.
async fn stored_role(app: &TestApp, id: i64) -> (String, String, Vec<String>) {
    let (name, description): (String, String) =
        sqlx::query_as("SELECT name, description FROM roles WHERE id = $1")
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("role");
    let permissions: Vec<(String,)> = sqlx::query_as(
        "SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY permission",
    )
    .bind(id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("permissions");
    (
        name,
        description,
        permissions.into_iter().map(|(p,)| p).collect(),
    )
}

/// `(name, role ids)` of a profile, straight from the database.
async fn stored_profile(app: &TestApp, id: i64) -> (String, Vec<i64>) {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM profiles WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("profile");
    let roles: Vec<(i64,)> =
        sqlx::query_as("SELECT role_id FROM profile_roles WHERE profile_id = $1 ORDER BY role_id")
            .bind(id)
            .fetch_all(&app.state.db.pool)
            .await
            .expect("roles");
    (name, roles.into_iter().map(|(r,)| r).collect())
}

/// The role and profile ids an account holds, straight from the database.
async fn held(app: &TestApp, user_id: i64) -> (Vec<i64>, Vec<i64>) {
    let roles: Vec<(i64,)> =
        sqlx::query_as("SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id")
            .bind(user_id)
            .fetch_all(&app.state.db.pool)
            .await
            .expect("roles");
    let profiles: Vec<(i64,)> = sqlx::query_as(
        "SELECT profile_id FROM user_profiles WHERE user_id = $1 ORDER BY profile_id",
    )
    .bind(user_id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("profiles");
    (
        roles.into_iter().map(|(r,)| r).collect(),
        profiles.into_iter().map(|(p,)| p).collect(),
    )
}

/// The details of every audit entry of `action`, oldest first.
async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit log")
        .into_iter()
        .map(|(d,)| d)
        .collect()
}

/// `fields` plus one `list[]` field per item, as a form with checkboxes posts.
fn with_list(fields: &[(&str, String)], list: &str, items: &[String]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(f, v)| ((*f).to_owned(), v.clone()))
        .chain(items.iter().map(|item| (format!("{list}[]"), item.clone())))
        .collect()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    let form: Vec<(&str, &str)> = form.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    app.call_as(client, function, &form).await
}

async fn add_role(app: &TestApp, client: &reqwest::Client, name: &str) -> reqwest::Response {
    app.call_as(
        client,
        "add_role",
        &[("name", name), ("description", "Added in a test")],
    )
    .await
}

async fn save_role(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    name: &str,
    description: &str,
    permissions: &[&str],
) -> reqwest::Response {
    let form = with_list(
        &[
            ("id", id.to_string()),
            ("name", name.to_owned()),
            ("description", description.to_owned()),
        ],
        "permissions",
        &permissions
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<Vec<_>>(),
    );
    post(app, client, "save_role", &form).await
}

async fn save_profile(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    name: &str,
    roles: &[i64],
) -> reqwest::Response {
    let form = with_list(
        &[
            ("id", id.to_string()),
            ("name", name.to_owned()),
            ("description", String::new()),
        ],
        "roles",
        &roles.iter().map(i64::to_string).collect::<Vec<_>>(),
    );
    post(app, client, "save_profile", &form).await
}

/// Gives `user_id` exactly these roles and profiles.
async fn save_access(
    app: &TestApp,
    client: &reqwest::Client,
    user_id: i64,
    roles: &[i64],
    profiles: &[i64],
) -> reqwest::Response {
    let mut form = with_list(
        &[("id", user_id.to_string())],
        "roles",
        &roles.iter().map(i64::to_string).collect::<Vec<_>>(),
    );
    form.extend(
        profiles
            .iter()
            .map(|p| ("profiles[]".to_owned(), p.to_string())),
    );
    post(app, client, "save_user_access", &form).await
}

async fn ok(response: reqwest::Response) {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[key].as_str().expect("text").to_owned())
        .collect()
}

/// The permissions whoami reports for `client` on the server at `base`.
async fn permissions_at(app: &TestApp, base: &str, client: &reqwest::Client) -> Vec<String> {
    let me = json(app.call_at(base, client, "whoami", &[]).await).await;
    me["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("name").to_owned())
        .collect()
}

/// Siân's organisation, Riverside College, and Zoë, a person in it with no
/// roles, signed in on the returned browser.
async fn riverside_with_zoe(app: &TestApp) -> (i64, i64, reqwest::Client) {
    app.set_up_first_administrator().await;
    let riverside = organisation_of(app, "sian.obrien").await;
    let (zoe, browser) = app.add_and_activate(&zoe()).await;
    (riverside, zoe, browser)
}
