//! Password sign-in. Every failure looks the same to the caller and costs the
//! same time, whether the account is unknown, deactivated, an API user or the
//! password is wrong. Failures are throttled per (login, client address) and
//! per client address, stored in the database so the limits hold across
//! replicas; a stranger's failures from elsewhere never lock a user out.

use super::audit::{self, Action, Entry};
use super::sessions::{self, ClientInfo};
use super::state::AppState;
use crate::domain::Login;
use crate::error::AppError;

/// Failures allowed for one login from one client address within the window.
pub const FAILURES_PER_LOGIN_AND_CLIENT: i64 = 5;
/// Failures allowed from one client address (any login) within the window.
pub const FAILURES_PER_CLIENT: i64 = 30;
pub const THROTTLE_WINDOW_SECONDS: i64 = 15 * 60;

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    organisation_id: i64,
    password_hash: Option<String>,
    state: String,
    kind: String,
}

/// Checks the credentials and starts a session; returns its token.
#[tracing::instrument(skip_all, fields(client = %client.address))]
pub async fn sign_in(
    state: &AppState,
    login: &Login,
    password: &str,
    client: &ClientInfo,
) -> Result<String, AppError> {
    let now = state.now();
    let login_key = login.normalized();
    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT id, organisation_id, password_hash, state, kind FROM users
         WHERE lower(username) = $1 OR email_normalized = $1
         ORDER BY id",
    )
    .bind(&login_key)
    .fetch_all(&state.db.pool)
    .await?;

    if let Some(retry_after_minutes) = throttled(state, &login_key, &client.address, now).await? {
        audit::record(
            &state.db.pool,
            now,
            Entry {
                action: Action::SignInThrottled,
                organisation_id: candidates.first().map(|c| c.organisation_id),
                actor_user_id: None,
                target_user_id: candidates.first().map(|c| c.id),
                detail: "factor=password".into(),
                client_address: &client.address,
            },
        )
        .await?;
        return Err(AppError::RateLimited {
            retry_after_minutes,
        });
    }

    // Only active people can sign in here; anyone else is checked against a
    // dummy hash so the time taken gives nothing away.
    let usable: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.state == "active" && c.kind == "person" && c.password_hash.is_some())
        .collect();
    let mut signed_in = None;
    if usable.is_empty() {
        state.hasher.verify(password, None).await?;
    }
    for candidate in usable {
        if state
            .hasher
            .verify(password, candidate.password_hash.clone())
            .await?
        {
            signed_in = Some(candidate);
            break;
        }
    }

    let Some(user) = signed_in else {
        sqlx::query(
            "INSERT INTO sign_in_failures (login_key, client_address, at) VALUES ($1, $2, $3)",
        )
        .bind(&login_key)
        .bind(&client.address)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
        let target = candidates.first();
        audit::record(
            &state.db.pool,
            now,
            Entry {
                action: Action::SignInFailed,
                organisation_id: target.map(|c| c.organisation_id),
                actor_user_id: None,
                target_user_id: target.map(|c| c.id),
                detail: failure_detail(target),
                client_address: &client.address,
            },
        )
        .await?;
        return Err(AppError::InvalidCredentials);
    };

    sqlx::query("DELETE FROM sign_in_failures WHERE login_key = $1 AND client_address = $2")
        .bind(&login_key)
        .bind(&client.address)
        .execute(&state.db.pool)
        .await?;
    let token = sessions::start(&state.db, &state.settings, now, user.id, client).await?;
    audit::record(
        &state.db.pool,
        now,
        Entry {
            action: Action::SignInSucceeded,
            organisation_id: Some(user.organisation_id),
            actor_user_id: Some(user.id),
            target_user_id: Some(user.id),
            detail: "factor=password".into(),
            client_address: &client.address,
        },
    )
    .await?;
    Ok(token)
}

/// Why a sign-in failed, for the audit log only (the caller never sees it).
fn failure_detail(target: Option<&Candidate>) -> String {
    let reason = match target {
        None => "unknown_login",
        Some(c) if c.kind != "person" => "api_user",
        Some(c) if c.state == "deactivated" => "deactivated",
        Some(c) if c.state == "pending" => "not_activated",
        Some(_) => "wrong_password",
    };
    format!("factor=password reason={reason}")
}

/// Minutes until another attempt is allowed, if this one is over a limit.
async fn throttled(
    state: &AppState,
    login_key: &str,
    client: &str,
    now: i64,
) -> Result<Option<u32>, AppError> {
    let since = now - THROTTLE_WINDOW_SECONDS;
    let (for_login,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sign_in_failures WHERE login_key = $1 AND client_address = $2 AND at > $3",
    )
    .bind(login_key)
    .bind(client)
    .bind(since)
    .fetch_one(&state.db.pool)
    .await?;
    let (for_client,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sign_in_failures WHERE client_address = $1 AND at > $2",
    )
    .bind(client)
    .bind(since)
    .fetch_one(&state.db.pool)
    .await?;
    if for_login < FAILURES_PER_LOGIN_AND_CLIENT && for_client < FAILURES_PER_CLIENT {
        return Ok(None);
    }
    let minutes = u32::try_from(THROTTLE_WINDOW_SECONDS / 60).unwrap_or(15);
    Ok(Some(minutes))
}

/// Ends the caller's session (sign-out).
pub async fn sign_out(
    state: &AppState,
    session: &sessions::SignedIn,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let now = state.now();
    sessions::end(&state.db, now, session.session_id, "signed_out").await?;
    audit::record(
        &state.db.pool,
        now,
        Entry {
            action: Action::SignedOut,
            organisation_id: Some(session.organisation_id),
            actor_user_id: Some(session.user_id),
            target_user_id: Some(session.user_id),
            detail: String::new(),
            client_address: &client.address,
        },
    )
    .await?;
    Ok(())
}
