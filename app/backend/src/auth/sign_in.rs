//! Password sign-in. Every failure looks the same to the caller and costs the
//! same time, whether the account is unknown, deactivated, an API user or the
//! password is wrong. Attempts are counted before they are judged (see
//! `throttle.rs`): per login from one client, per client, and per account
//! with growing delays whatever the address; a browser the account signed
//! in from before counts on its own allowance instead (`devices.rs`), so
//! a stranger's guesses never lock its owner out.
//!
//! Someone who has enrolled in two-factor authentication gets a session that
//! only waits for their code; the code step then replaces it with a full one.

use crate::accounts::users::{AccountKind, AccountState};
use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::devices::{self, KnownDevice};
use crate::auth::sessions::{self, ClientInfo, NewSession, SignedIn, Stage};
use crate::auth::throttle::{self, Counter};
use crate::auth::two_factor::{self, CodeCheck, CodeUse, Factor};
use crate::metrics::{Limit, SignInOutcome, SignInStep};
use crate::state::AppState;
use domain::AppError;
use domain::Login;

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    password_hash: Option<String>,
    #[sqlx(try_from = "String")]
    state: AccountState,
    #[sqlx(try_from = "String")]
    kind: AccountKind,
}

/// A session just started, and how far it has come.
pub struct Opened {
    pub token: String,
    pub stage: Stage,
    pub user_id: i64,
}

/// Starts a session for someone whose password was just proved (sign-in, a
/// password link, setup). If they have enrolled, it waits for their code:
/// a password alone, even one set from an emailed link, is not enough.
pub async fn open_session(
    state: &AppState,
    user_id: i64,
    client: &ClientInfo,
) -> Result<Opened, AppError> {
    let pool = &state.db.pool;
    let stage = if two_factor::is_enrolled(pool, user_id).await? {
        Stage::CodeRequired
    } else if two_factor::required_for(pool, user_id).await? {
        Stage::EnrolmentRequired
    } else {
        Stage::Complete
    };
    let token = sessions::start(
        pool,
        &state.settings,
        state.now(),
        NewSession {
            user_id,
            awaiting_code: stage == Stage::CodeRequired,
            second_factor: false,
            client,
            recovery_codes_to_show: None,
        },
    )
    .await?;
    Ok(Opened {
        token,
        stage,
        user_id,
    })
}

/// Checks the credentials and starts a session.
#[tracing::instrument(skip_all, fields(client = %client.address))]
pub async fn sign_in(
    state: &AppState,
    login: &Login,
    password: &str,
    client: &ClientInfo,
) -> Result<Opened, AppError> {
    let now = state.now();
    let login_key = login.normalized();
    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT id, password_hash, state, kind FROM users
         WHERE lower(username) = $1 OR email_normalized = $1
         ORDER BY id",
    )
    .bind(&login_key)
    .fetch_all(&state.db.pool)
    .await?;

    let device = devices::from_cookie_header(&state.settings, &client.cookie_header);
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let counters = attempt_counters(&login_key, client, &ids, device.as_ref());
    if let Err(wait) = throttle::admit(&state.db, &counters, now).await? {
        state
            .metrics
            .sign_in(SignInStep::Password, SignInOutcome::Throttled);
        state.metrics.throttled(Limit::SignIn).inc();
        Acting::new(now, ActedBy::NOBODY, &client.address)
            .audit(
                &state.db.pool,
                Action::SignInThrottled,
                candidates
                    .first()
                    .map(|c| c.id)
                    .map_or(Subject::Unknown, Subject::Account),
                "factor=password",
            )
            .await?;
        return Err(AppError::RateLimited {
            retry_after_minutes: wait.minutes(),
        });
    }

    // Only active people can sign in here; anyone else is checked against a
    // dummy hash so the time taken gives nothing away.
    let usable: Vec<(&Candidate, String)> = candidates
        .iter()
        .filter(|c| c.state == AccountState::Active && c.kind == AccountKind::Person)
        .filter_map(|c| c.password_hash.clone().map(|hash| (c, hash)))
        .collect();
    let hashes = usable.iter().map(|(_, hash)| hash.clone()).collect();
    let signed_in = state
        .hasher
        .verify_any(password, hashes)
        .await?
        .and_then(|index| usable.get(index).map(|(candidate, _)| *candidate));

    let Some(user) = signed_in else {
        state
            .metrics
            .sign_in(SignInStep::Password, SignInOutcome::Failure);
        let target = candidates.first();
        Acting::new(now, ActedBy::NOBODY, &client.address)
            .audit(
                &state.db.pool,
                Action::SignInFailed,
                target
                    .map(|c| c.id)
                    .map_or(Subject::Unknown, Subject::Account),
                failure_detail(target),
            )
            .await?;
        return Err(AppError::InvalidCredentials);
    };

    // The account's own delays end with its password proved, from a known
    // browser too (NIST SP 800-63B 5.2.2); other accounts sharing the login
    // keep what was counted for them.
    let mut proved = attempt_counters(&login_key, client, &[user.id], device.as_ref());
    proved.push(Counter::sign_in_account(user.id));
    throttle::succeeded(&state.db, &proved).await?;
    state
        .metrics
        .sign_in(SignInStep::Password, SignInOutcome::Success);
    let opened = open_session(state, user.id, client).await?;
    if opened.stage == Stage::CodeRequired {
        // Signed in only once the code is right (`sign_in_with_code`).
        return Ok(opened);
    }
    Acting::new(now, ActedBy::user(user.id), &client.address)
        .audit(
            &state.db.pool,
            Action::SignInSucceeded,
            Subject::Account(user.id),
            "factor=password",
        )
        .await?;
    Ok(opened)
}

/// The code step: checks the code of the person whose password was right
/// and replaces their waiting session with a full one; returns its token.
/// The code is used up in the same transaction, so it works once.
#[tracing::instrument(skip_all, fields(client = %client.address))]
pub async fn sign_in_with_code(
    state: &AppState,
    waiting: &SignedIn,
    code: &str,
    client: &ClientInfo,
) -> Result<String, AppError> {
    two_factor::admit_code(state, waiting.user_id, client, CodeUse::SignIn).await?;
    let now = state.now();
    let mut write = Acting::by(waiting, now, &client.address)
        .begin(&state.db)
        .await?;
    let factor = match two_factor::use_code(&mut write, &state.settings, waiting.user_id, code, now)
        .await?
    {
        CodeCheck::Accepted(factor) => factor,
        CodeCheck::Refused(reason) => {
            write.rollback().await?;
            state
                .metrics
                .sign_in(SignInStep::SecondFactor, SignInOutcome::Failure);
            return Err(two_factor::refused(
                state,
                waiting.user_id,
                client,
                CodeUse::SignIn,
                reason,
            )
            .await);
        }
    };
    if !sessions::end_once(&mut *write, now, waiting.session_id, "code_accepted").await? {
        return Err(AppError::Unauthorized);
    }
    let token = sessions::start(
        &mut *write,
        &state.settings,
        now,
        NewSession {
            user_id: waiting.user_id,
            awaiting_code: false,
            second_factor: true,
            client,
            recovery_codes_to_show: None,
        },
    )
    .await?;
    let new_id = sessions::id_of(&mut *write, &token).await?;
    crate::oidc::sign_ins::carry_over(&mut write, waiting.session_id, new_id).await?;
    let mut entries = vec![(
        Action::SignInSucceeded,
        format!("factor={}", factor.as_str()),
    )];
    if factor == Factor::RecoveryCode {
        let left = two_factor::recovery_codes_left(&mut *write, waiting.user_id).await?;
        entries.push((
            Action::RecoveryCodeUsed,
            format!("during=sign_in left={left}"),
        ));
    }
    for (action, detail) in entries {
        write
            .audit(action, Subject::Account(waiting.user_id), detail)
            .await?;
    }
    write.commit().await?;
    state
        .metrics
        .sign_in(SignInStep::SecondFactor, SignInOutcome::Success);
    two_factor::forget_wrong_codes(state, waiting.user_id).await?;
    Ok(token)
}

/// What a sign-in attempt is counted on: always the client's (first, so a
/// client already refused makes no counters for the logins it goes on
/// trying); then, from a browser one of the matching accounts signed in
/// from before, that browser's own allowance for that account, otherwise
/// the login's from this client; and the account's of every other
/// matching account. A known browser spares only its own account: a login
/// naming several accounts (an email used as another's username, say)
/// still counts against the others.
fn attempt_counters(
    login_key: &str,
    client: &ClientInfo,
    account_ids: &[i64],
    device: Option<&KnownDevice>,
) -> Vec<Counter> {
    let known = device.filter(|d| account_ids.contains(&d.user_id));
    let mut counters = vec![Counter::sign_in_client(&client.address)];
    counters.push(match known {
        Some(device) => Counter::sign_in_device(&device.id),
        None => Counter::sign_in_login(login_key, &client.address),
    });
    counters.extend(
        account_ids
            .iter()
            .filter(|id| known.is_none_or(|d| d.user_id != **id))
            .map(|id| Counter::sign_in_account(*id)),
    );
    counters
}

/// Why a sign-in failed, for the audit log only (the caller never sees it).
fn failure_detail(target: Option<&Candidate>) -> String {
    let reason = match target {
        None => "unknown_login",
        Some(c) if c.kind != AccountKind::Person => "api_user",
        Some(c) if c.state == AccountState::Deactivated => "deactivated",
        Some(c) if c.state == AccountState::Pending => "not_activated",
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
    Acting::new(now, ActedBy::user(session.user_id), &client.address)
        .audit(
            &state.db.pool,
            Action::SignedOut,
            Subject::Account(session.user_id),
            "",
        )
        .await?;
    Ok(())
}
