//! Password sign-in. Every failure looks the same to the caller and costs the
//! same time, whether the account is unknown, deactivated, an API user or the
//! password is wrong. Failures are throttled per (login, client address) and
//! per client address, stored in the database so the limits hold across
//! replicas; a stranger's failures from elsewhere never lock a user out.

use super::audit::{self, Action, Entry};
use super::sessions::{self, ClientInfo};
use super::state::AppState;
use super::throttle::{self, Throttle};
use crate::domain::Login;
use crate::error::AppError;

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

    if let Some(retry_after_minutes) = throttle::check(
        &state.db,
        Throttle::SignIn,
        &login_key,
        &client.address,
        now,
    )
    .await?
    {
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
        throttle::record(
            &state.db,
            Throttle::SignIn,
            &login_key,
            &client.address,
            now,
        )
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

    throttle::clear(&state.db, Throttle::SignIn, &login_key, &client.address).await?;
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
