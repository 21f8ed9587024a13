//! API users' bearer tokens: made by administrators holding
//! `api_users.manage` on the API user's page, shown once, stored as a
//! SHA-256 hash with a short prefix for lists, and checked against the
//! database on every request (so revocation and deactivation hold at once on
//! every replica). Only API users hold tokens; a person never does.
//!
//! A token is `gat_` and 64 hexadecimal characters (256 random bits). Each
//! token may make `api_requests_per_minute` requests per minute, counted in
//! the database per minute window; the first request of a window also writes
//! `last_used_at`, so that column changes at most once a minute.

use crate::access;
use crate::access::actor::{Actor, TokenUse};
use crate::accounts::administration;
use crate::accounts::users::{AccountKind, AccountState};
use crate::acting::Acting;
use crate::audit::{Action, Subject};
use crate::auth::sessions::SignedIn;
use crate::clock::{UnixTime, format_utc, parse_day};
use crate::crypto::sealing::{Sealed, open, seal};
use crate::crypto::tokens;
use crate::db::{Db, violated_constraint};
use crate::state::AppState;
use domain::AppError;
use domain::wire::{ApiTokenLine, ApiTokens, NewApiToken};
use domain::{FieldError, TokenName, collect};

/// What every token starts with, so it is recognisable (in a config file, a
/// secret scanner's report).
pub const TOKEN_PREFIX: &str = "gat_";
/// How much of a token lists show: the prefix and 8 hexadecimal characters.
const SHOWN_CHARS: usize = TOKEN_PREFIX.len() + 8;
const WINDOW_SECONDS: i64 = 60;
/// The furthest ahead a token may expire.
const MAX_LIFETIME_DAYS: i64 = 3 * 366;

/// The API user `user_id` of the actor's organisation, or why not.
async fn api_user(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
) -> Result<crate::accounts::users::Account, AppError> {
    let account = administration::account(state, admin, user_id).await?;
    if account.is_person() {
        return Err(AppError::Conflict(
            "Only API users hold API tokens: a person signs in with a password".into(),
        ));
    }
    Ok(account)
}

/// The expiry typed as a day (`YYYY-MM-DD`, empty for none): the token works
/// until the end of that day (UTC).
fn parse_expiry(text: &str, now: UnixTime) -> Result<Option<UnixTime>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let start = parse_day(text)
        .map_err(|_| FieldError::new("expires_on", "Enter a date like 2027-03-31"))?;
    let end = start + 24 * 3600;
    if end <= now {
        return Err(FieldError::new(
            "expires_on",
            "Choose today or a day in the future",
        ));
    }
    if end - now > MAX_LIFETIME_DAYS * 24 * 3600 {
        return Err(FieldError::new(
            "expires_on",
            "Choose a day at most three years ahead",
        ));
    }
    Ok(Some(end))
}

/// Makes a token for the API user `user_id` and returns it (the only time
/// it exists outside the caller). The API user's first token activates it.
pub async fn create(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    form: &NewApiToken,
    client_address: &str,
) -> Result<String, AppError> {
    let account = api_user(state, admin, user_id).await?;
    access::require_reach(&mut *state.db.pool.acquire().await?, admin, &account).await?;
    if account.state == AccountState::Deactivated {
        return Err(AppError::Conflict(
            "This API user is deactivated: reactivate it before giving it a token".into(),
        ));
    }
    let now = state.now();
    let mut errors = Vec::new();
    let name = collect(&mut errors, TokenName::parse(&form.name));
    let expires_at = collect(&mut errors, parse_expiry(&form.expires_on, now));
    let (Some(name), Some(expires_at)) = (name, expires_at) else {
        return Err(AppError::Validation(errors));
    };
    let token = format!("{TOKEN_PREFIX}{}", tokens::generate());
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    let live: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id)
            .fetch_all(&mut *write)
            .await?;
    let name_taken = || {
        AppError::field(
            TokenName::FIELD,
            format!("This API user already has a token called “{name}”"),
        )
    };
    if live
        .iter()
        .any(|(other,)| other.to_lowercase() == name.folded())
    {
        return Err(name_taken());
    }
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO api_tokens (user_id, organisation_id, name, prefix, token_hash, created_at, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(user_id)
    .bind(account.organisation_id)
    .bind(name.as_str())
    .bind(&token[..SHOWN_CHARS])
    .bind(tokens::hash(&token))
    .bind(now)
    .bind(admin.user_id)
    .bind(expires_at)
    .fetch_one(&mut *write)
    .await;
    let token_id = match inserted {
        Ok((id,)) => id,
        Err(e) if violated_constraint(&e).as_deref() == Some("api_tokens_name_key") => {
            return Err(name_taken());
        }
        Err(e) => return Err(e.into()),
    };
    let activated = sqlx::query(
        "UPDATE users SET state = 'active', activated_at = $1, updated_at = $1
         WHERE id = $2 AND state = 'pending'",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *write)
    .await?;
    write
        .audit(
            Action::ApiTokenCreated,
            Subject::Account(user_id),
            format!(
                "token={} prefix={} expires={}",
                name,
                &token[..SHOWN_CHARS],
                expires_at.map_or("never".to_owned(), format_utc)
            ),
        )
        .await?;
    if activated.rows_affected() == 1 {
        write
            .audit(
                Action::AccountActivated,
                Subject::Account(user_id),
                "first API token",
            )
            .await?;
    }
    tracing::info!(token_id, user_id, "API token created");
    write.commit().await?;
    Ok(token)
}

/// Revokes one token of the API user `user_id`; revoking it again changes nothing.
pub async fn revoke(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    token_id: i64,
    client_address: &str,
) -> Result<(), AppError> {
    let account = api_user(state, admin, user_id).await?;
    access::require_reach(&mut *state.db.pool.acquire().await?, admin, &account).await?;
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let token: Option<(String, String)> =
        sqlx::query_as("SELECT name, prefix FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .fetch_optional(&mut *write)
            .await?;
    let (name, prefix) = token.ok_or_else(|| AppError::NotFound("The token".into()))?;
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoked_by = $2, revoke_reason = 'revoked'
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(admin.user_id)
    .bind(token_id)
    .execute(&mut *write)
    .await?;
    if revoked.rows_affected() == 1 {
        write
            .audit(
                Action::ApiTokenRevoked,
                Subject::Account(user_id),
                format!("token={name} prefix={prefix}"),
            )
            .await?;
    }
    write.commit().await?;
    Ok(())
}

/// Revokes every live token of a user (deactivation), in the caller's transaction.
pub async fn revoke_all_for_user(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(revoked.rows_affected())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: i64,
    created_by_name: Option<String>,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    revoke_reason: Option<String>,
}

/// The API user's page section: its tokens, newest first, and the token made
/// a moment ago in this session (shown this once).
pub async fn list(state: &AppState, admin: &SignedIn, user_id: i64) -> Result<ApiTokens, AppError> {
    let account = api_user(state, admin, user_id).await?;
    let refusal =
        access::refusal_to_act_on(&mut *state.db.pool.acquire().await?, admin, &account).await?;
    let now = state.now();
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT t.id, t.name, t.prefix, t.created_at,
                CASE WHEN c.id IS NULL THEN NULL ELSE c.first_name || ' ' || c.last_name END AS created_by_name,
                t.expires_at, t.last_used_at, t.revoked_at, t.revoke_reason
         FROM api_tokens t LEFT JOIN users c ON c.id = t.created_by
         WHERE t.user_id = $1 ORDER BY t.id DESC",
    )
    .bind(user_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(ApiTokens {
        new_token: take_token_to_show(state, admin, user_id).await?,
        refusal,
        tokens: rows
            .into_iter()
            .map(|row| ApiTokenLine {
                id: row.id,
                name: row.name,
                prefix: row.prefix,
                created: match row.created_by_name {
                    Some(by) => format!("{} by {by}", format_utc(row.created_at)),
                    None => format_utc(row.created_at),
                },
                last_used: row.last_used_at.map(format_utc),
                expires: row.expires_at.map(format_utc),
                status: match (row.revoked_at, row.revoke_reason.as_deref()) {
                    (Some(at), Some("account_deactivated")) => {
                        format!("Revoked {} (API user deactivated)", format_utc(at))
                    }
                    (Some(at), _) => format!("Revoked {}", format_utc(at)),
                    (None, _) if row.expires_at.is_some_and(|at| at <= now) => "Expired".into(),
                    (None, _) => "Active".into(),
                },
                live: row.revoked_at.is_none() && row.expires_at.is_none_or(|at| at > now),
            })
            .collect(),
    })
}

/// Keeps a new token, sealed, for the page the browser is sent to next.
pub async fn keep_token_to_show(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
    token: &str,
) -> Result<(), AppError> {
    let sealed = seal(
        &state.settings,
        Sealed::ApiToken,
        admin.user_id,
        format!("{user_id} {token}").as_bytes(),
    )?;
    sqlx::query("UPDATE sessions SET api_token_to_show = $1 WHERE id = $2")
        .bind(sealed)
        .bind(admin.session_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// The token waiting in this session for the page of `user_id`, once.
async fn take_token_to_show(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
) -> Result<Option<String>, AppError> {
    let waiting: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT api_token_to_show FROM sessions WHERE id = $1")
            .bind(admin.session_id)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(sealed) = waiting.and_then(|(sealed,)| sealed) else {
        return Ok(None);
    };
    // Only the request that clears it shows it.
    let cleared = sqlx::query(
        "UPDATE sessions SET api_token_to_show = NULL WHERE id = $1 AND api_token_to_show IS NOT NULL",
    )
    .bind(admin.session_id)
    .execute(&state.db.pool)
    .await?;
    if cleared.rows_affected() != 1 {
        return Ok(None);
    }
    let plain = String::from_utf8(open(
        &state.settings,
        Sealed::ApiToken,
        admin.user_id,
        &sealed,
    )?)
    .map_err(crate::db::internal)?;
    Ok(plain
        .split_once(' ')
        .filter(|(owner, _)| *owner == user_id.to_string())
        .map(|(_, token)| token.to_owned()))
}

/// Why a bearer token was refused. What is said is the same for a token
/// that never existed and one whose API user is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => "Send an API token in the header Authorization: Bearer <token>",
            Refusal::Unknown => "This API token is not valid",
            Refusal::Expired => "This API token has expired: ask an administrator for a new one",
            Refusal::Revoked => "This API token has been revoked",
        }
    }
}

#[derive(sqlx::FromRow)]
struct BearerRow {
    #[sqlx(flatten)]
    actor: Actor,
    token_id: i64,
    token_name: String,
    token_prefix: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    #[sqlx(try_from = "String")]
    state: AccountState,
    #[sqlx(try_from = "String")]
    kind: AccountKind,
    role_permissions: Option<String>,
    profile_permissions: Option<String>,
}

/// The API user a bearer token stands for, read from the database now.
pub async fn authenticate(
    db: &Db,
    now: UnixTime,
    token: &str,
) -> Result<Result<Actor, Refusal>, sqlx::Error> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(Err(Refusal::Unknown));
    }
    // The token, its API user and what they hold, in one statement.
    let row: Option<BearerRow> = sqlx::query_as(&format!(
        "SELECT u.id AS user_id, u.organisation_id, o.name AS organisation_name, u.username,
                u.first_name, u.last_name, u.email, u.initials, u.is_platform_admin,
                u.organisation_id AS working_organisation_id, o.name AS working_organisation_name,
                t.id AS token_id, t.name AS token_name, t.prefix AS token_prefix, t.expires_at,
                t.revoked_at, u.state, u.kind, {}
         FROM api_tokens t
         JOIN users u ON u.id = t.user_id
         JOIN organisations o ON o.id = u.organisation_id
         WHERE t.token_hash = $1",
        crate::access::held_columns(db.backend)
    ))
    .bind(tokens::hash(token))
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    if row.kind != AccountKind::Api {
        return Ok(Err(Refusal::Unknown));
    }
    if row.revoked_at.is_some() || row.state != AccountState::Active {
        return Ok(Err(Refusal::Revoked));
    }
    if row.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Refusal::Expired));
    }
    let mut actor = row.actor;
    actor.held = Some(crate::access::held_from(
        row.role_permissions.as_deref(),
        row.profile_permissions.as_deref(),
    ));
    actor.token = Some(TokenUse {
        id: row.token_id,
        name: row.token_name,
        prefix: row.token_prefix,
        expires_at: row.expires_at,
    });
    Ok(Ok(actor))
}

/// Counts a request of `token_id`; `Err(seconds)` to wait when the token has
/// used up this minute's `limit`. The first request of a minute also records
/// when the token was last used.
pub async fn count_request(
    db: &Db,
    now: UnixTime,
    token_id: i64,
    limit: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    let window = now - now.rem_euclid(WINDOW_SECONDS);
    let (requests,): (i64,) = sqlx::query_as(
        "INSERT INTO api_request_windows (token_id, window_start, requests) VALUES ($1, $2, 1)
         ON CONFLICT (token_id, window_start) DO UPDATE SET requests = api_request_windows.requests + 1
         RETURNING requests",
    )
    .bind(token_id)
    .bind(window)
    .fetch_one(&db.pool)
    .await?;
    if requests == 1 {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token_id)
            .execute(&db.pool)
            .await?;
    }
    if requests > limit {
        return Ok(Err(window + WINDOW_SECONDS - now));
    }
    Ok(Ok(()))
}

/// Forgets request counts of windows that ended before `cutoff`.
pub async fn forget_windows_before(db: &Db, cutoff: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM api_request_windows WHERE window_start < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_795_424_400; // 2026-11-23 09:00 UTC

    #[test]
    fn no_expiry_day_means_the_token_does_not_expire() {
        assert_eq!(parse_expiry("  ", NOW), Ok(None));
    }

    #[test]
    fn a_token_works_until_the_end_of_its_expiry_day() {
        assert_eq!(
            parse_expiry("2026-11-23", NOW),
            Ok(Some(1_795_478_400)),
            "midnight after 23 November"
        );
    }

    #[test]
    fn a_past_day_a_far_day_and_a_non_date_are_refused_by_field() {
        for text in ["2026-11-22", "2031-01-01", "next week", "2026-13-01"] {
            let error = parse_expiry(text, NOW).expect_err(text);
            assert_eq!(error.field, "expires_on", "{text}");
        }
    }
}
