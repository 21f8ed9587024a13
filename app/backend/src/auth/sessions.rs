//! Server-side sessions. The browser holds a random token in an HttpOnly
//! cookie; the database holds its hash. Every request looks the session up,
//! so ending it (sign-out, deactivation, an administrator) holds at once on
//! every replica.
//!
//! A session has a stage. A person who has enrolled in two-factor
//! authentication gets a session that only waits for their code; one who
//! must enrol (their permissions require it) can only enrol. The second is
//! worked out from the database on every request, so gaining such a
//! permission takes effect at the next click.

use crate::access::actor::Actor;
use crate::accounts::users::{AccountKind, AccountState};
use crate::clock::UnixTime;
use crate::config::CheckedSettings;
use crate::crypto::tokens;
use crate::db::Db;
use cookie::{Cookie, SameSite};

/// Throttles the `last_seen_at` write to one a minute per session.
const LAST_SEEN_RESOLUTION_SECONDS: i64 = 60;

/// How long the authentication code may take after the password.
pub const CODE_STEP_TIMEOUT_SECONDS: i64 = 10 * 60;

/// How far a session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fully signed in.
    Complete,
    /// The password was right; the authentication code is still to come.
    CodeRequired,
    /// Signed in, but holding a permission that requires two-factor
    /// authentication without having enrolled: only enrolment is open.
    EnrolmentRequired,
}

impl TryFrom<String> for Stage {
    type Error = String;

    /// From `sessions.stage` (enrolment required is never stored).
    fn try_from(stored: String) -> Result<Self, Self::Error> {
        match stored.as_str() {
            "complete" => Ok(Stage::Complete),
            "code_required" => Ok(Stage::CodeRequired),
            other => Err(format!("unknown session stage {other}")),
        }
    }
}

/// The person behind a request, as resolved from a live session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedIn {
    pub session_id: i64,
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    #[sqlx(flatten)]
    pub actor: Actor,
}

/// A session's person is its actor: `admin.user_id`, and `&SignedIn` where
/// an `&Actor` is wanted.
impl std::ops::Deref for SignedIn {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    signed_in: SignedIn,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    #[sqlx(try_from = "String")]
    state: AccountState,
    #[sqlx(try_from = "String")]
    kind: AccountKind,
    two_factor_enrolled: i64,
    /// The permission keys of the person's roles, and of their profiles'
    /// roles, comma-separated (NULL for none).
    role_permissions: Option<String>,
    profile_permissions: Option<String>,
    rotation_due: i64,
    /// 1 when the cookie holds the current token, 0 for the replaced one
    /// during its grace.
    current_token: i64,
}

/// How long a replaced session token still works after rotation.
const ROTATION_GRACE_SECONDS: i64 = 60;

/// A live session and, when its id was just rotated, the token the browser
/// must be given instead of the one it sent.
pub struct Resolved {
    pub signed_in: SignedIn,
    pub new_token: Option<String>,
}

#[derive(Clone)]
pub struct ClientInfo {
    pub address: String,
    pub user_agent: String,
    /// The browser's cookies as sent (for the device cookie at sign-in).
    /// They hold the session token: never printed.
    pub cookie_header: String,
}

impl std::fmt::Debug for ClientInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInfo")
            .field("address", &self.address)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// A session about to start.
pub struct NewSession<'a> {
    pub user_id: i64,
    /// Only the authentication code is still to come.
    pub awaiting_code: bool,
    /// The person proved a second factor (an authentication or recovery
    /// code) to get it.
    pub second_factor: bool,
    pub client: &'a ClientInfo,
    /// Recovery codes just made (sealed), for their page to show once.
    pub recovery_codes_to_show: Option<Vec<u8>>,
}

/// Starts a session; returns the token for the cookie.
pub async fn start<'c, E>(
    executor: E,
    settings: &CheckedSettings,
    now: UnixTime,
    session: NewSession<'_>,
) -> Result<String, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let token = tokens::generate();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, client_address, user_agent, stage, recovery_codes_to_show, second_factor)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tokens::hash(&token))
    .bind(session.user_id)
    .bind(now)
    .bind(now + settings.session_absolute_timeout_seconds)
    .bind(&session.client.address)
    .bind(truncate(&session.client.user_agent, 300))
    .bind(if session.awaiting_code {
        "code_required"
    } else {
        "complete"
    })
    .bind(session.recovery_codes_to_show)
    .bind(i64::from(session.second_factor))
    .execute(executor)
    .await?;
    Ok(token)
}

/// Finds the live session for a cookie token, ending it if it has timed out
/// or its account can no longer be used. One query, plus the person's
/// permissions when they have not enrolled in two-factor authentication.
pub async fn resolve(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
    token: &str,
) -> Result<Option<Resolved>, sqlx::Error> {
    // The session, its person and everything they hold, in one statement.
    let held_columns = crate::access::held_columns(db.backend);
    let row: Option<SessionRow> = sqlx::query_as(&format!(
        "SELECT s.id AS session_id, s.user_id, u.organisation_id, o.name AS organisation_name,
                u.username, u.first_name, u.last_name, u.email, u.initials, u.is_platform_admin,
                COALESCE(w.id, o.id) AS working_organisation_id,
                COALESCE(w.name, o.name) AS working_organisation_name, s.stage,
                s.created_at, s.last_seen_at, s.expires_at, u.state, u.kind,
                CASE WHEN t.enrolled_at IS NULL THEN 0 ELSE 1 END AS two_factor_enrolled,
                {held_columns},
                s.rotation_due, CASE WHEN s.token_hash = $1 THEN 1 ELSE 0 END AS current_token
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         JOIN organisations o ON o.id = u.organisation_id
         LEFT JOIN organisations w ON w.id = s.working_organisation_id AND u.is_platform_admin = 1
         LEFT JOIN two_factor t ON t.user_id = u.id
         WHERE (s.token_hash = $1 OR (s.previous_token_hash = $1 AND s.previous_token_until > $2))
           AND s.ended_at IS NULL"
    ))
    .bind(tokens::hash(token))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let session_id = row.signed_in.session_id;
    let end_reason = if row.state != AccountState::Active || row.kind != AccountKind::Person {
        Some("account_not_active")
    } else if row.signed_in.stage == Stage::CodeRequired
        && now - row.created_at >= CODE_STEP_TIMEOUT_SECONDS
    {
        Some("code_timeout")
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
    let new_token = if row.rotation_due == 1 && row.current_token == 1 {
        rotate(db, now, session_id, token).await?
    } else {
        None
    };
    let held = crate::access::held_from(
        row.role_permissions.as_deref(),
        row.profile_permissions.as_deref(),
    );
    let mut signed_in = row.signed_in;
    if signed_in.stage == Stage::Complete
        && row.two_factor_enrolled == 0
        && crate::auth::two_factor::requires_2fa(signed_in.is_platform_admin(), &held)
    {
        signed_in.stage = Stage::EnrolmentRequired;
    }
    signed_in.actor.held = Some(held);
    Ok(Some(Resolved {
        signed_in,
        new_token,
    }))
}

/// Gives the session a new token, keeping the old one for a short grace.
/// `None` when a parallel request rotated it first (its response carries
/// the new cookie).
async fn rotate(
    db: &Db,
    now: UnixTime,
    session_id: i64,
    old_token: &str,
) -> Result<Option<String>, sqlx::Error> {
    let token = tokens::generate();
    let rotated = sqlx::query(
        "UPDATE sessions SET token_hash = $1, previous_token_hash = $2, previous_token_until = $3, rotation_due = 0
         WHERE id = $4 AND token_hash = $2 AND rotation_due = 1",
    )
    .bind(tokens::hash(&token))
    .bind(tokens::hash(old_token))
    .bind(now + ROTATION_GRACE_SECONDS)
    .bind(session_id)
    .execute(&db.pool)
    .await?;
    Ok((rotated.rows_affected() == 1).then_some(token))
}

/// Whose sessions a change of access concerns.
#[derive(Debug, Clone, Copy)]
pub enum AccessHolders {
    User(i64),
    /// Everyone holding the role, directly or through a profile.
    Role(i64),
    Profile(i64),
}

/// Asks every live session of `holders` for a new id at its next request:
/// what the person may do has changed. Runs in the caller's transaction.
pub async fn rotate_after_access_change(
    conn: &mut sqlx::AnyConnection,
    holders: AccessHolders,
) -> Result<(), sqlx::Error> {
    let (people, id) = match holders {
        AccessHolders::User(id) => ("SELECT $1", id),
        AccessHolders::Role(id) => (
            "SELECT user_id FROM user_roles WHERE role_id = $1
             UNION SELECT up.user_id FROM user_profiles up
                   JOIN profile_roles pr ON pr.profile_id = up.profile_id WHERE pr.role_id = $1",
            id,
        ),
        AccessHolders::Profile(id) => (
            "SELECT user_id FROM user_profiles WHERE profile_id = $1",
            id,
        ),
    };
    sqlx::query(&format!(
        "UPDATE sessions SET rotation_due = 1 WHERE ended_at IS NULL AND user_id IN ({people})"
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
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

/// The id of the session whose cookie holds `token`.
pub async fn id_of<'c, E>(executor: E, token: &str) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM sessions WHERE token_hash = $1")
        .bind(tokens::hash(token))
        .fetch_one(executor)
        .await?;
    Ok(id)
}

/// Ends `previous` now that this browser holds the new session `token`
/// (a sign-in). When both are the same person's, the applications they
/// signed in to from the old session stay signed in, under the new one: a
/// second sign-in (an application asking for a fresh one, say) is not a
/// sign-out.
pub async fn replace(
    db: &Db,
    now: UnixTime,
    previous: &SignedIn,
    token: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let (new_id, user_id): (i64, i64) =
        sqlx::query_as("SELECT id, user_id FROM sessions WHERE token_hash = $1")
            .bind(tokens::hash(token))
            .fetch_one(&mut *tx)
            .await?;
    if user_id == previous.user_id {
        crate::oidc::sign_ins::carry_over(&mut tx, previous.session_id, new_id).await?;
    }
    end_once(&mut *tx, now, previous.session_id, reason).await?;
    tx.commit().await
}

pub async fn end(db: &Db, now: UnixTime, session_id: i64, reason: &str) -> Result<(), sqlx::Error> {
    end_once(&db.pool, now, session_id, reason).await?;
    Ok(())
}

/// Ends a session; false if it had already ended (someone else got there
/// first), so a step that replaces a session happens once.
pub async fn end_once<'c, E>(
    executor: E,
    now: UnixTime,
    session_id: i64,
    reason: &str,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2, recovery_codes_to_show = NULL, api_token_to_show = NULL, application_secret_to_show = NULL
         WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(executor)
    .await?;
    Ok(ended.rows_affected() == 1)
}

/// Ends every session of a user, e.g. on deactivation. Runs inside the
/// caller's transaction so the state change and the revocation land together.
pub async fn end_all_for_user(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2, recovery_codes_to_show = NULL, api_token_to_show = NULL, application_secret_to_show = NULL WHERE user_id = $3 AND ended_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// Takes the recovery codes waiting to be shown in this session (sealed):
/// they are shown once.
pub async fn take_recovery_codes_to_show(
    db: &Db,
    session_id: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let waiting: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT recovery_codes_to_show FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some(codes) = waiting.and_then(|(codes,)| codes) else {
        return Ok(None);
    };
    // Only the request that clears them shows them.
    let cleared = sqlx::query(
        "UPDATE sessions SET recovery_codes_to_show = NULL
         WHERE id = $1 AND recovery_codes_to_show IS NOT NULL",
    )
    .bind(session_id)
    .execute(&db.pool)
    .await?;
    Ok((cleared.rows_affected() == 1).then_some(codes))
}

/// Leaves recovery codes to be shown once in a live session.
pub async fn keep_recovery_codes_to_show(
    conn: &mut sqlx::AnyConnection,
    session_id: i64,
    sealed: Vec<u8>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET recovery_codes_to_show = $1 WHERE id = $2")
        .bind(sealed)
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(())
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
