//! What an application may know about a person, and whether the person may
//! use it at all.
//!
//! `sub` is the account's id: stable for ever, since accounts are never
//! deleted and ids never reused, and already what the REST API names the
//! account by. Names and the username come with scope `profile`, the email
//! address with `email` (always verified: people activate from a link sent
//! to it, and a new address counts only once confirmed from itself), the
//! person's roles with `roles`. The organisation comes always.

use super::applications::Application;
use domain::AppError;
use serde_json::{Map, Value, json};

/// Whether the person may sign in to the application: an active person of
/// its organisation, holding one of its chosen roles or profiles (directly
/// or, for roles, through a profile) unless it is open to everyone.
pub async fn may_use(
    conn: &mut sqlx::AnyConnection,
    application: &Application,
    user_id: i64,
) -> Result<bool, AppError> {
    let allowed: Option<(i64,)> = sqlx::query_as(
        "SELECT u.id FROM users u
         WHERE u.id = $1 AND u.organisation_id = $2 AND u.state = 'active' AND u.kind = 'person'
           AND ($3 = 'everyone'
                OR EXISTS (SELECT 1 FROM application_roles ar
                           WHERE ar.application_id = $4
                             AND (ar.role_id IN (SELECT role_id FROM user_roles WHERE user_id = u.id)
                                  OR ar.role_id IN (SELECT pr.role_id FROM user_profiles up
                                                    JOIN profile_roles pr ON pr.profile_id = up.profile_id
                                                    WHERE up.user_id = u.id)))
                OR EXISTS (SELECT 1 FROM application_profiles ap
                           JOIN user_profiles up ON up.profile_id = ap.profile_id
                           WHERE ap.application_id = $4 AND up.user_id = u.id))",
    )
    .bind(user_id)
    .bind(application.organisation_id)
    .bind(application.audience.as_str())
    .bind(application.id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(allowed.is_some())
}

/// The person's roles for the application: those among its chosen roles
/// when it names some, otherwise all of them; direct or through a profile,
/// by name, once each.
async fn roles_for(
    conn: &mut sqlx::AnyConnection,
    application: &Application,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT r.name FROM roles r
         WHERE (r.id IN (SELECT role_id FROM user_roles WHERE user_id = $1)
                OR r.id IN (SELECT pr.role_id FROM user_profiles up
                            JOIN profile_roles pr ON pr.profile_id = up.profile_id
                            WHERE up.user_id = $1))
           AND ($2 = 'everyone'
                OR NOT EXISTS (SELECT 1 FROM application_roles WHERE application_id = $3)
                OR r.id IN (SELECT role_id FROM application_roles WHERE application_id = $3))
         ORDER BY r.name",
    )
    .bind(user_id)
    .bind(application.audience.as_str())
    .bind(application.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(name,)| name).collect())
}

#[derive(sqlx::FromRow)]
struct Person {
    first_name: String,
    last_name: String,
    username: String,
    email: String,
    organisation_id: i64,
    organisation_name: String,
    updated_at: i64,
}

/// The claims about the person that `scope` (space-separated) allows:
/// for UserInfo, and in the ID token.
pub async fn about(
    conn: &mut sqlx::AnyConnection,
    application: &Application,
    user_id: i64,
    scope: &str,
) -> Result<Map<String, Value>, AppError> {
    let person: Person = sqlx::query_as(
        "SELECT u.first_name, u.last_name, u.username, u.email, u.organisation_id,
                o.name AS organisation_name, u.updated_at
         FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    let scopes: Vec<&str> = scope.split(' ').collect();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user_id.to_string()));
    claims.insert(
        "organisation_id".into(),
        json!(person.organisation_id.to_string()),
    );
    claims.insert("organisation_name".into(), json!(person.organisation_name));
    if scopes.contains(&"profile") {
        claims.insert(
            "name".into(),
            json!(format!("{} {}", person.first_name, person.last_name)),
        );
        claims.insert("given_name".into(), json!(person.first_name));
        claims.insert("family_name".into(), json!(person.last_name));
        claims.insert("preferred_username".into(), json!(person.username));
        claims.insert("updated_at".into(), json!(person.updated_at));
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), json!(person.email));
        claims.insert("email_verified".into(), json!(true));
    }
    if scopes.contains(&"roles") {
        claims.insert(
            "roles".into(),
            json!(roles_for(conn, application, user_id).await?),
        );
    }
    Ok(claims)
}
