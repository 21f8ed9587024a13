//! Server-side sessions. The browser holds a random token in an HttpOnly
//! cookie; the database holds its hash. Every request looks the session up,
//! so ending it (sign-out, deactivation, an administrator) holds at once on
//! every replica.

use super::clock::UnixTime;
use super::config::CheckedSettings;
use super::db::Db;
use super::tokens;
use cookie::{Cookie, SameSite};

/// Throttles the `last_seen_at` write to one a minute per session.
const LAST_SEEN_RESOLUTION_SECONDS: i64 = 60;

/// The person behind a request, as resolved from a live session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedIn {
    pub session_id: i64,
    pub user_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub initials: String,
    pub is_platform_admin: i64,
    /// Where administration happens: the person's own organisation, or the
    /// one a platform administrator chose for this session.
    pub working_organisation_id: i64,
    pub working_organisation_name: String,
}

impl SignedIn {
    pub fn is_platform_admin(&self) -> bool {
        self.is_platform_admin == 1
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    signed_in: SignedIn,
    last_seen_at: i64,
    expires_at: i64,
    state: String,
    kind: String,
}

#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub address: String,
    pub user_agent: String,
}

/// Starts a session for `user_id`; returns the token for the cookie.
pub async fn start(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
    user_id: i64,
    client: &ClientInfo,
) -> Result<String, sqlx::Error> {
    let token = tokens::generate();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, client_address, user_agent)
         VALUES ($1, $2, $3, $3, $4, $5, $6)",
    )
    .bind(tokens::hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + settings.session_absolute_timeout_seconds)
    .bind(&client.address)
    .bind(truncate(&client.user_agent, 300))
    .execute(&db.pool)
    .await?;
    Ok(token)
}

/// Finds the live session for a cookie token, ending it if it has timed out
/// or its account can no longer be used.
pub async fn resolve(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
    token: &str,
) -> Result<Option<SignedIn>, sqlx::Error> {
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, u.organisation_id, o.name AS organisation_name,
                u.username, u.first_name, u.last_name, u.email, u.initials, u.is_platform_admin,
                COALESCE(w.id, o.id) AS working_organisation_id,
                COALESCE(w.name, o.name) AS working_organisation_name,
                s.last_seen_at, s.expires_at, u.state, u.kind
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         JOIN organisations o ON o.id = u.organisation_id
         LEFT JOIN organisations w ON w.id = s.working_organisation_id AND u.is_platform_admin = 1
         WHERE s.token_hash = $1 AND s.ended_at IS NULL",
    )
    .bind(tokens::hash(token))
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let session_id = row.signed_in.session_id;
    let end_reason = if row.state != "active" || row.kind != "person" {
        Some("account_not_active")
    } else if now >= row.expires_at {
        Some("absolute_timeout")
    } else if now - row.last_seen_at >= settings.session_idle_timeout_seconds {
        Some("idle_timeout")
    } else {
        None
    };
    if let Some(reason) = end_reason {
        end(db, now, session_id, reason).await?;
        return Ok(None);
    }
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION_SECONDS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(row.signed_in))
}

/// Makes `organisation_id` where this session administers (platform
/// administrators only; the caller checks).
pub async fn set_working_organisation(
    db: &Db,
    session_id: i64,
    organisation_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET working_organisation_id = $1 WHERE id = $2")
        .bind(organisation_id)
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn end(db: &Db, now: UnixTime, session_id: i64, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Ends every session of a user, e.g. on deactivation. Runs inside the
/// caller's transaction so the state change and the revocation land together.
pub async fn end_all_for_user(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// `__Host-` requires Secure, so the plain name is used over HTTP (development).
pub fn cookie_name(settings: &CheckedSettings) -> &'static str {
    if settings.is_https() {
        "__Host-gatehouse_session"
    } else {
        "gatehouse_session"
    }
}

pub fn session_cookie(settings: &CheckedSettings, token: String) -> String {
    Cookie::build((cookie_name(settings), token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.is_https())
        .max_age(cookie::time::Duration::seconds(
            settings.session_absolute_timeout_seconds,
        ))
        .build()
        .to_string()
}

pub fn clearing_cookie(settings: &CheckedSettings) -> String {
    Cookie::build((cookie_name(settings), ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.is_https())
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The session token from a `Cookie` header, if there is one.
pub fn token_from_cookie_header(settings: &CheckedSettings, header: &str) -> Option<String> {
    let name = cookie_name(settings);
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
