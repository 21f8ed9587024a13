//! Confirming it is the person before a sensitive change on *My profile*
//! (ASVS V7.5.1): their password, checked as sign-in checks it (counted
//! before it is judged, failures and refusals audited). A code, once they
//! have enrolled, is `two_factor::begin_confirmed_change`'s part.

use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::sessions::{ClientInfo, SignedIn};
use crate::auth::throttle::{self, Counter};
use crate::metrics::Limit;
use crate::state::AppState;
use domain::AppError;

/// Where a current password is asked for again on My profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirming {
    PasswordChange,
    TwoFactorChange,
    EmailChange,
}

impl Confirming {
    fn as_str(self) -> &'static str {
        match self {
            Confirming::PasswordChange => "change_password",
            Confirming::TwoFactorChange => "change_two_factor",
            Confirming::EmailChange => "change_email",
        }
    }
}

/// Checks the password a signed-in person typed to confirm a change, as
/// sign-in would: counted before it is judged (five tries in 15 minutes),
/// every failure and refusal audited. A wrong one is a field error on
/// `field`.
pub async fn confirm_password(
    state: &AppState,
    me: &SignedIn,
    password: &str,
    field: &str,
    during: Confirming,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let now = state.now();
    let counter = [Counter::current_password(me.user_id)];
    let acting = Acting::new(now, ActedBy::user(me.user_id), &client.address);
    let record = |action: Action| {
        acting.audit(
            &state.db.pool,
            action,
            Subject::Account(me.user_id),
            format!("during={}", during.as_str()),
        )
    };
    if let Err(wait) = throttle::admit(&state.db, &counter, now).await? {
        state.metrics.throttled(Limit::CurrentPassword).inc();
        record(Action::CurrentPasswordThrottled).await?;
        return Err(AppError::RateLimited {
            retry_after_minutes: wait.minutes(),
        });
    }
    let (hash,): (Option<String>,) =
        sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(me.user_id)
            .fetch_one(&state.db.pool)
            .await?;
    if !state.hasher.verify(password, hash).await? {
        record(Action::CurrentPasswordFailed).await?;
        return Err(AppError::field(field, "Your password is not right"));
    }
    throttle::succeeded(&state.db, &counter).await?;
    Ok(())
}
