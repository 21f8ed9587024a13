//! Two-factor authentication: TOTP (RFC 6238: HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of clock drift) and single-use recovery codes.
//!
//! Secrets are sealed under the server's key (`crypto::sealing`), bound to
//! their account. A code is accepted once: the
//! last accepted step only moves forward, by a conditional update, so of two
//! requests carrying one code (even at the same moment, on two replicas)
//! exactly one succeeds. Recovery codes are stored as SHA-256 hashes (they
//! are random and long enough not to need a slow hash) and used up the same way.

use crate::access::actor::Actor;
use crate::acting::{Acting, Write};
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::reauthentication::{self, Confirming};
use crate::auth::sessions::{self, ClientInfo, NewSession, SignedIn, Stage};
use crate::auth::throttle::{self, Counter};
use crate::clock::{UnixTime, format_utc};
use crate::config::CheckedSettings;
use crate::crypto::sealing::{Sealed, open, seal};
use crate::crypto::tokens;
use crate::db::internal;
use crate::metrics::{Limit, SignInOutcome, SignInStep};
use crate::state::AppState;
use domain::AppError;
use domain::wire::{AccountSecurity, Enrolment, RecoveryCodesToKeep, SessionLine, TwoFactorState};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The name authenticator apps show above the account.
const ISSUER: &str = "Gatehouse";
const STEP_SECONDS: u64 = 30;
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// How long a re-enrolment confirmed on *My profile* stays open.
const RE_ENROLMENT_WINDOW_SECONDS: i64 = 15 * 60;
const RECOVERY_CODE_COUNT: usize = 10;
/// Letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
const RECOVERY_CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const RECOVERY_CODE_LENGTH: usize = 10;

/// How a person proved the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

/// Where a code was entered, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    SignIn,
    Enrolment,
    /// Confirming who they are on *My profile* before changing the set-up.
    ConfirmIdentity,
}

impl CodeUse {
    fn as_str(self) -> &'static str {
        match self {
            CodeUse::SignIn => "sign_in",
            CodeUse::Enrolment => "enrolment",
            CodeUse::ConfirmIdentity => "confirm_identity",
        }
    }
}

/// The outcome of checking a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted(Factor),
    /// Refused; the reason is for the audit log only.
    Refused(&'static str),
}

fn totp(secret: &[u8], account_name: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP_SECONDS)
        .with_skew(1)
        .with_secret(secret.to_vec())
        .with_account_name(account_name)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(internal)
}

/// The step whose code `code` is, within one step of `now`.
fn matching_step(secret: &[u8], code: &str, now: UnixTime) -> Result<Option<i64>, AppError> {
    let Ok(now) = u64::try_from(now) else {
        return Ok(None);
    };
    Ok(totp(secret, "")?
        .check(code, now)
        .and_then(|step| i64::try_from(step).ok()))
}

/// What someone typed in the code field, tidied: spaces and hyphens are
/// ignored, letters in any case.
enum Typed {
    Totp(String),
    RecoveryCode(String),
    Neither,
}

fn classify(input: &str) -> Typed {
    let compact: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
        Typed::Totp(compact)
    } else if compact.len() == RECOVERY_CODE_LENGTH
        && compact.bytes().all(|b| RECOVERY_CODE_ALPHABET.contains(&b))
    {
        Typed::RecoveryCode(compact)
    } else {
        Typed::Neither
    }
}

/// Ten fresh recovery codes, shown as `abcde-fghjk`.
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let code: String = (0..RECOVERY_CODE_LENGTH)
                .map(|_| {
                    char::from(
                        RECOVERY_CODE_ALPHABET[OsRng.gen_range(0..RECOVERY_CODE_ALPHABET.len())],
                    )
                })
                .collect();
            let (first, second) = code.split_at(RECOVERY_CODE_LENGTH / 2);
            format!("{first}-{second}")
        })
        .collect()
}

/// What is stored for a recovery code of `user_id`: a keyed hash under the
/// server key, so a copy of the database alone cannot test guesses (the
/// codes hold 50 bits: bare hashes would fall to a search).
fn recovery_code_hash(
    settings: &CheckedSettings,
    user_id: i64,
    compact: &str,
) -> Result<String, AppError> {
    tokens::keyed_hash(settings, "recovery-code", &format!("{user_id}:{compact}"))
}

/// Whether `user_id` holds any permission that requires two-factor
/// authentication (read from the database now).
pub async fn required_for(pool: &sqlx::AnyPool, user_id: i64) -> Result<bool, sqlx::Error> {
    // A platform administrator can add organisations and act in each.
    let platform: Option<(i64,)> =
        sqlx::query_as("SELECT is_platform_admin FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    if platform.is_some_and(|(flag,)| flag == 1) {
        return Ok(true);
    }
    Ok(requires_2fa(
        false,
        &crate::access::permissions_of(pool, user_id).await?,
    ))
}

/// Whether an account holding `permissions` must use a second factor.
pub fn requires_2fa(is_platform_admin: bool, permissions: &[domain::Permission]) -> bool {
    is_platform_admin || permissions.iter().any(|p| p.requires_2fa())
}

pub async fn is_enrolled(pool: &sqlx::AnyPool, user_id: i64) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM two_factor WHERE user_id = $1 AND enrolled_at IS NOT NULL",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(count > 0)
}

/// The TOTP secret of an enrolled person, opened with the server's key.
pub async fn enrolled_secret<'c, E>(
    executor: E,
    settings: &CheckedSettings,
    user_id: i64,
) -> Result<Option<Vec<u8>>, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sealed: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT secret FROM two_factor WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(executor)
            .await?;
    match sealed.and_then(|(s,)| s) {
        Some(sealed) => Ok(Some(open(settings, Sealed::Secret, user_id, &sealed)?)),
        None => Ok(None),
    }
}

/// Checks a TOTP or recovery code of an enrolled person and, if it is right,
/// uses it up, inside the caller's transaction.
pub async fn use_code(
    conn: &mut sqlx::AnyConnection,
    settings: &CheckedSettings,
    user_id: i64,
    code: &str,
    now: UnixTime,
) -> Result<CodeCheck, AppError> {
    match classify(code) {
        Typed::Totp(code) => {
            let Some(secret) = enrolled_secret(&mut *conn, settings, user_id).await? else {
                return Ok(CodeCheck::Refused("not_enrolled"));
            };
            let Some(step) = matching_step(&secret, &code, now)? else {
                return Ok(CodeCheck::Refused("wrong_code"));
            };
            let used = sqlx::query(
                "UPDATE two_factor SET last_step = $1
                 WHERE user_id = $2 AND enrolled_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
            )
            .bind(step)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
            Ok(if used.rows_affected() == 1 {
                CodeCheck::Accepted(Factor::Totp)
            } else {
                CodeCheck::Refused("code_already_used")
            })
        }
        Typed::RecoveryCode(code) => {
            // Codes made before migration 0011 keep their bare SHA-256
            // until they are used or replaced.
            let used = sqlx::query(
                "UPDATE recovery_codes SET used_at = $1
                 WHERE user_id = $2 AND used_at IS NULL
                   AND ((keyed = 1 AND code_hash = $3) OR (keyed = 0 AND code_hash = $4))",
            )
            .bind(now)
            .bind(user_id)
            .bind(recovery_code_hash(settings, user_id, &code)?)
            .bind(tokens::hash(&code))
            .execute(&mut *conn)
            .await?;
            Ok(if used.rows_affected() > 0 {
                CodeCheck::Accepted(Factor::RecoveryCode)
            } else {
                CodeCheck::Refused("wrong_or_used_recovery_code")
            })
        }
        Typed::Neither => Ok(CodeCheck::Refused("not_a_code")),
    }
}

pub async fn recovery_codes_left<'c, E>(executor: E, user_id: i64) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(executor)
    .await?;
    Ok(count)
}

/// Counts a code about to be checked (before it is judged, so parallel
/// guesses cannot all pass a count of zero); refuses, and records that it
/// did, once too many were tried.
pub async fn admit_code(
    state: &AppState,
    user_id: i64,
    client: &ClientInfo,
    during: CodeUse,
) -> Result<(), AppError> {
    let now = state.now();
    let Err(wait) = throttle::admit(&state.db, &[Counter::two_factor(user_id)], now).await? else {
        return Ok(());
    };
    state.metrics.throttled(Limit::SecondFactor).inc();
    if during == CodeUse::SignIn {
        state
            .metrics
            .sign_in(SignInStep::SecondFactor, SignInOutcome::Throttled);
    }
    let (action, detail) = match during {
        CodeUse::SignIn => (Action::SignInThrottled, "factor=code".to_owned()),
        other => (
            Action::TwoFactorFailed,
            format!("during={} reason=too_many_attempts", other.as_str()),
        ),
    };
    Acting::new(now, ActedBy::user(user_id), &client.address)
        .audit(&state.db.pool, action, Subject::Account(user_id), detail)
        .await?;
    Err(AppError::RateLimited {
        retry_after_minutes: wait.minutes(),
    })
}

/// Records a refused code and answers with the error shown beside the code
/// field; the reason never reaches the person.
pub async fn refused(
    state: &AppState,
    user_id: i64,
    client: &ClientInfo,
    during: CodeUse,
    reason: &str,
) -> AppError {
    let recorded = Acting::new(state.now(), ActedBy::user(user_id), &client.address)
        .audit(
            &state.db.pool,
            Action::TwoFactorFailed,
            Subject::Account(user_id),
            format!("during={} reason={reason}", during.as_str()),
        )
        .await;
    match recorded {
        Ok(()) => AppError::field(
            "code",
            "That code did not work. Enter the newest code from your authenticator app, or one of your recovery codes",
        ),
        Err(error) => error.into(),
    }
}

/// A right code forgets the codes tried before it.
pub async fn forget_wrong_codes(state: &AppState, user_id: i64) -> Result<(), sqlx::Error> {
    throttle::succeeded(&state.db, &[Counter::two_factor(user_id)]).await
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    enrolled_at: Option<i64>,
    pending_secret: Option<Vec<u8>>,
    pending_since: Option<i64>,
}

impl EnrolmentRow {
    /// The secret waiting for its first code: always usable before enrolling;
    /// after, only for a while once confirmed on *My profile*.
    fn open_pending(&self, now: UnixTime) -> Option<&[u8]> {
        let since = self.pending_since?;
        let usable = self.enrolled_at.is_none() || now - since < RE_ENROLMENT_WINDOW_SECONDS;
        usable.then_some(self.pending_secret.as_deref()).flatten()
    }
}

async fn enrolment_row(
    pool: &sqlx::AnyPool,
    user_id: i64,
) -> Result<Option<EnrolmentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT enrolled_at, pending_secret, pending_since FROM two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

fn fresh_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// What the enrolment page shows: a secret waiting for its first code, made
/// now if there is none (the same one on every visit until confirmed).
pub async fn enrolment(state: &AppState, me: &SignedIn) -> Result<Enrolment, AppError> {
    let now = state.now();
    let pool = &state.db.pool;
    let row = enrolment_row(pool, me.user_id).await?;
    let enrolled = row.as_ref().is_some_and(|r| r.enrolled_at.is_some());
    if row.as_ref().and_then(|r| r.open_pending(now)).is_none() {
        if enrolled {
            return Err(AppError::BadRequest(
                "Two-factor authentication is already set up. To move it to a new device, start from My profile".into(),
            ));
        }
        // Of two pages opened at once, the first secret stored wins.
        let sealed = seal(&state.settings, Sealed::Secret, me.user_id, &fresh_secret())?;
        sqlx::query(
            "INSERT INTO two_factor (user_id, pending_secret, pending_since) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET pending_secret = excluded.pending_secret, pending_since = excluded.pending_since
             WHERE two_factor.enrolled_at IS NULL AND two_factor.pending_secret IS NULL",
        )
        .bind(me.user_id)
        .bind(sealed)
        .bind(now)
        .execute(pool)
        .await?;
    }
    let row = enrolment_row(pool, me.user_id).await?;
    let sealed = row
        .as_ref()
        .and_then(|r| r.open_pending(now))
        .ok_or_else(|| internal("the pending two-factor secret vanished"))?;
    let secret = open(&state.settings, Sealed::Secret, me.user_id, sealed)?;
    let totp = totp(&secret, &me.username)?;
    let uri = totp.to_url().map_err(internal)?;
    Ok(Enrolment {
        key: group_in_fours(&Secret::from(secret).to_base32()),
        qr_code: qr_code_data_url(&uri)?,
        uri,
        issuer: ISSUER.to_owned(),
        account_name: me.username.clone(),
        required: me.stage == Stage::EnrolmentRequired,
        again: enrolled,
    })
}

fn group_in_fours(text: &str) -> String {
    text.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn qr_code_data_url(uri: &str) -> Result<String, AppError> {
    use qrcode::render::svg;
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(internal)?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Ok(data_url("image/svg+xml", &svg))
}

/// A `data:` URL holding `text`, percent-encoded.
fn data_url(media_type: &str, text: &str) -> String {
    let mut url = format!("data:{media_type};charset=utf-8,");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// Confirms enrolment with the first code from the app: the waiting secret
/// becomes the account's, ten recovery codes replace any old ones, and the
/// session is replaced by a fully signed-in one that shows the codes once.
/// Returns the new session's token.
pub async fn confirm_enrolment(
    state: &AppState,
    me: &SignedIn,
    code: &str,
    client: &ClientInfo,
) -> Result<String, AppError> {
    admit_code(state, me.user_id, client, CodeUse::Enrolment).await?;
    let now = state.now();
    let row = enrolment_row(&state.db.pool, me.user_id).await?;
    let Some(row) = row else {
        return Err(start_again());
    };
    let Some(pending) = row.open_pending(now) else {
        return Err(start_again());
    };
    let secret = open(&state.settings, Sealed::Secret, me.user_id, pending)?;
    let step = match classify(code) {
        Typed::Totp(code) => matching_step(&secret, &code, now)?,
        _ => None,
    };
    let Some(step) = step else {
        return Err(refused(state, me.user_id, client, CodeUse::Enrolment, "wrong_code").await);
    };
    let codes = new_recovery_codes();
    let codes_to_show = seal(
        &state.settings,
        Sealed::RecoveryCodes,
        me.user_id,
        codes.join("\n").as_bytes(),
    )?;
    let again = row.enrolled_at.is_some();
    let mut write = Acting::by(me, now, &client.address)
        .begin(&state.db)
        .await?;
    let confirmed = sqlx::query(
        "UPDATE two_factor SET secret = pending_secret, enrolled_at = $1, last_step = $2,
                pending_secret = NULL, pending_since = NULL
         WHERE user_id = $3 AND pending_secret = $4",
    )
    .bind(now)
    .bind(step)
    .bind(me.user_id)
    .bind(pending.to_vec())
    .execute(&mut *write)
    .await?;
    if confirmed.rows_affected() != 1 {
        return Err(start_again());
    }
    replace_recovery_codes(&mut write, &state.settings, now, me.user_id, &codes).await?;
    if !sessions::end_once(&mut *write, now, me.session_id, "two_factor_enrolled").await? {
        return Err(AppError::Unauthorized);
    }
    let token = sessions::start(
        &mut *write,
        &state.settings,
        now,
        NewSession {
            user_id: me.user_id,
            awaiting_code: false,
            second_factor: true,
            client,
            recovery_codes_to_show: Some(codes_to_show),
        },
    )
    .await?;
    let new_id = sessions::id_of(&mut *write, &token).await?;
    crate::oidc::sign_ins::carry_over(&mut write, me.session_id, new_id).await?;
    write
        .audit(
            Action::TwoFactorEnrolled,
            Subject::Account(me.user_id),
            if again { "again" } else { "first" },
        )
        .await?;
    write.commit().await?;
    forget_wrong_codes(state, me.user_id).await?;
    Ok(token)
}

fn start_again() -> AppError {
    AppError::BadRequest(
        "This set-up has expired or was finished elsewhere. Reload the page to start again".into(),
    )
}

async fn replace_recovery_codes(
    conn: &mut sqlx::AnyConnection,
    settings: &CheckedSettings,
    now: UnixTime,
    user_id: i64,
    codes: &[String],
) -> Result<(), AppError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for code in codes {
        let Typed::RecoveryCode(compact) = classify(code) else {
            return Err(internal("a new recovery code does not read as one"));
        };
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, keyed, created_at) VALUES ($1, $2, 1, $3)",
        )
        .bind(user_id)
        .bind(recovery_code_hash(settings, user_id, &compact)?)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The recovery codes just made in this session, once: a second look finds none.
pub async fn recovery_codes_to_show(
    state: &AppState,
    me: &SignedIn,
) -> Result<Option<RecoveryCodesToKeep>, AppError> {
    let Some(sealed) = sessions::take_recovery_codes_to_show(&state.db, me.session_id).await?
    else {
        return Ok(None);
    };
    let text = String::from_utf8(open(
        &state.settings,
        Sealed::RecoveryCodes,
        me.user_id,
        &sealed,
    )?)
    .map_err(internal)?;
    let download = format!(
        "Gatehouse recovery codes for {} ({})\nEach code signs you in once.\n\n{text}\n",
        me.username, me.organisation_name
    );
    Ok(Some(RecoveryCodesToKeep {
        codes: text.lines().map(str::to_owned).collect(),
        download_url: data_url("text/plain", &download),
    }))
}

/// The signed-in person's own two-factor state, for *My profile*.
pub async fn my_state(state: &AppState, me: &Actor) -> Result<TwoFactorState, AppError> {
    let held = crate::access::held(&state.db.pool, me).await?;
    state_with(state, me.user_id, &held).await
}

/// An account's two-factor state, for its administrators.
async fn state_of(state: &AppState, user_id: i64) -> Result<TwoFactorState, AppError> {
    let held = crate::access::permissions_of(&state.db.pool, user_id).await?;
    state_with(state, user_id, &held).await
}

/// The two-factor state of an account holding `permissions`, in one statement.
async fn state_with(
    state: &AppState,
    user_id: i64,
    permissions: &[domain::Permission],
) -> Result<TwoFactorState, AppError> {
    let (enrolled_at, recovery_codes_left, is_platform_admin): (Option<i64>, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT enrolled_at FROM two_factor WHERE user_id = $1),
                    (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL),
                    is_platform_admin
             FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(TwoFactorState {
        enrolled_since: enrolled_at.map(format_utc),
        recovery_codes_left,
        required: requires_2fa(is_platform_admin == 1, permissions),
    })
}

/// What a signed-in person types to confirm a change on *My profile*.
pub struct Confirmation<'a> {
    pub password: &'a str,
    /// The form field the password was typed in, for its error.
    pub password_field: &'a str,
    /// A current code or a recovery code; checked once they have enrolled
    /// (always, for a change to two-factor authentication itself).
    pub code: &'a str,
    pub during: Confirming,
}

/// Confirms it is the person (their password, then a current code once
/// they have enrolled, both throttled and audited) and starts the write of
/// their change, in which the code is used up: the caller makes the change
/// and commits, then calls `forget_wrong_codes`.
pub async fn begin_confirmed_change<'c>(
    state: &AppState,
    me: &SignedIn,
    confirmation: &Confirmation<'_>,
    client: &'c ClientInfo,
) -> Result<Write<'c>, AppError> {
    reauthentication::confirm_password(
        state,
        me,
        confirmation.password,
        confirmation.password_field,
        confirmation.during,
        client,
    )
    .await?;
    let needs_code = confirmation.during == Confirming::TwoFactorChange
        || is_enrolled(&state.db.pool, me.user_id).await?;
    if needs_code {
        if confirmation.code.trim().is_empty() {
            return Err(AppError::field(
                "code",
                "Enter the code from your authenticator app, or a recovery code",
            ));
        }
        admit_code(state, me.user_id, client, CodeUse::ConfirmIdentity).await?;
    }
    let mut write = Acting::by(me, state.now(), &client.address)
        .begin(&state.db)
        .await?;
    if !needs_code {
        return Ok(write);
    }
    let now = write.now();
    let factor = match use_code(
        &mut write,
        &state.settings,
        me.user_id,
        confirmation.code,
        now,
    )
    .await?
    {
        CodeCheck::Accepted(factor) => factor,
        CodeCheck::Refused(reason) => {
            write.rollback().await?;
            return Err(refused(state, me.user_id, client, CodeUse::ConfirmIdentity, reason).await);
        }
    };
    if factor == Factor::RecoveryCode {
        let left = recovery_codes_left(&mut *write, me.user_id).await?;
        write
            .audit(
                Action::RecoveryCodeUsed,
                Subject::Account(me.user_id),
                format!("during=confirm_identity left={left}"),
            )
            .await?;
    }
    Ok(write)
}

/// What an enrolled person changes on *My profile*, after confirming it is them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Opens enrolment again, for a new device; the old one keeps working
    /// until the new one is confirmed.
    NewDevice,
    /// Ten new recovery codes replace the old ones.
    NewRecoveryCodes,
}

/// Confirms it is the person (password and a current code, which is used
/// up), then makes the change.
pub async fn change(
    state: &AppState,
    me: &SignedIn,
    password: &str,
    code: &str,
    change: Change,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let mut write = begin_confirmed_change(
        state,
        me,
        &Confirmation {
            password,
            password_field: "password",
            code,
            during: Confirming::TwoFactorChange,
        },
        client,
    )
    .await?;
    let now = state.now();
    match change {
        Change::NewDevice => {
            let sealed = seal(&state.settings, Sealed::Secret, me.user_id, &fresh_secret())?;
            sqlx::query(
                "UPDATE two_factor SET pending_secret = $1, pending_since = $2
                 WHERE user_id = $3 AND enrolled_at IS NOT NULL",
            )
            .bind(sealed)
            .bind(now)
            .bind(me.user_id)
            .execute(&mut *write)
            .await?;
        }
        Change::NewRecoveryCodes => {
            let codes = new_recovery_codes();
            replace_recovery_codes(&mut write, &state.settings, now, me.user_id, &codes).await?;
            let sealed = seal(
                &state.settings,
                Sealed::RecoveryCodes,
                me.user_id,
                codes.join("\n").as_bytes(),
            )?;
            sessions::keep_recovery_codes_to_show(&mut write, me.session_id, sealed).await?;
            write
                .audit(
                    Action::RecoveryCodesRegenerated,
                    Subject::Account(me.user_id),
                    "",
                )
                .await?;
        }
    }
    write.commit().await?;
    forget_wrong_codes(state, me.user_id).await?;
    Ok(())
}

/// An account's two-factor state and sessions, for its administrators.
pub async fn account_security(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
) -> Result<AccountSecurity, AppError> {
    let account = crate::accounts::administration::account(state, admin, user_id).await?;
    if !account.is_person() {
        return Err(AppError::NotFound("The person".into()));
    }
    let own = state_of(state, user_id).await?;
    let sessions: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT created_at, last_seen_at, client_address, user_agent, stage FROM sessions
         WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .bind(state.now())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(AccountSecurity {
        enrolled_since: own.enrolled_since,
        recovery_codes_left: own.recovery_codes_left,
        required: own.required,
        sessions: sessions
            .into_iter()
            .map(|(started, last_seen, address, agent, stage)| SessionLine {
                device: crate::accounts::profile::describe_device(&agent),
                client_address: address,
                started: format_utc(started),
                last_active: format_utc(last_seen),
                awaiting_code: stage == "code_required",
            })
            .collect(),
    })
}

/// An administrator resets a person's two-factor authentication: secret and
/// recovery codes go, every session ends, and the person enrols again at
/// their next sign-in (if their permissions require it).
pub async fn reset(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let account = crate::accounts::administration::account_to_change(state, admin, user_id).await?;
    // A session alone must not take a second factor away: people change
    // their own on My profile, with their password and a code.
    if account.id == admin.user_id {
        return Err(AppError::Conflict(
            "Change your own two-factor authentication on My profile".into(),
        ));
    }
    let now = state.now();
    let mut write = Acting::by(admin, now, &client.address)
        .begin(&state.db)
        .await?;
    let removed =
        sqlx::query("DELETE FROM two_factor WHERE user_id = $1 AND enrolled_at IS NOT NULL")
            .bind(account.id)
            .execute(&mut *write)
            .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::BadRequest(format!(
            "{} has not set up two-factor authentication",
            account.full_name()
        )));
    }
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(account.id)
        .execute(&mut *write)
        .await?;
    let ended = sessions::end_all_for_user(&mut write, now, account.id, "two_factor_reset").await?;
    write
        .audit(
            Action::TwoFactorReset,
            Subject::Account(account.id),
            format!("sessions_ended={ended}"),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// An administrator ends every session of a person.
pub async fn end_sessions(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let account = crate::accounts::administration::account_to_change(state, admin, user_id).await?;
    let now = state.now();
    let mut write = Acting::by(admin, now, &client.address)
        .begin(&state.db)
        .await?;
    let ended =
        sessions::end_all_for_user(&mut write, now, account.id, "ended_by_administrator").await?;
    write
        .audit(
            Action::SessionsEndedByAdministrator,
            Subject::Account(account.id),
            format!("sessions_ended={ended}"),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sealing::NONCE_BYTES;

    fn settings() -> CheckedSettings {
        CheckedSettings::with_random_key()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_account() {
        let settings = settings();
        let secret = fresh_secret();
        let sealed = seal(&settings, Sealed::Secret, 7, &secret).expect("sealed");
        assert_eq!(sealed.len(), NONCE_BYTES + SECRET_BYTES + 16);
        assert_eq!(
            open(&settings, Sealed::Secret, 7, &sealed).expect("opened"),
            secret
        );
        assert!(open(&settings, Sealed::Secret, 8, &sealed).is_err());
        assert!(open(&settings, Sealed::RecoveryCodes, 7, &sealed).is_err());
        assert!(open(&self::settings(), Sealed::Secret, 7, &sealed).is_err());
        let again = seal(&settings, Sealed::Secret, 7, &secret).expect("sealed");
        assert_ne!(
            sealed[..NONCE_BYTES],
            again[..NONCE_BYTES],
            "a fresh nonce each time"
        );
    }

    #[test]
    fn codes_within_one_step_of_now_match_their_step() {
        // RFC 6238 appendix B: the SHA-1 secret "12345678901234567890" gives
        // 94287082 (8 digits) at 59 s; its 6-digit form is 287082.
        let secret = b"12345678901234567890";
        assert_eq!(
            matching_step(secret, "287082", 59).expect("checked"),
            Some(1)
        );
        assert_eq!(
            matching_step(secret, "287082", 89).expect("checked"),
            Some(1)
        );
        assert_eq!(
            matching_step(secret, "287082", 29).expect("checked"),
            Some(1)
        );
        assert_eq!(matching_step(secret, "287082", 90).expect("checked"), None);
    }

    fn compact_of(code: &str) -> Option<String> {
        match classify(code) {
            Typed::RecoveryCode(compact) => Some(compact),
            _ => None,
        }
    }

    #[test]
    fn recovery_codes_are_stored_as_keyed_hashes_bound_to_their_account() {
        let settings = settings();
        let hash = recovery_code_hash(&settings, 7, "abcdefghjk").expect("hash");
        assert_ne!(hash, tokens::hash("abcdefghjk"), "not the bare SHA-256");
        assert_ne!(
            hash,
            recovery_code_hash(&settings, 8, "abcdefghjk").expect("hash"),
            "another account"
        );
        assert_ne!(
            hash,
            recovery_code_hash(&self::settings(), 7, "abcdefghjk").expect("hash"),
            "another server key"
        );
    }

    #[test]
    fn recovery_codes_are_ten_unambiguous_and_typed_any_way() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert!(matches!(classify(code), Typed::RecoveryCode(_)));
            let typed = format!(" {} ", code.replace('-', "").to_uppercase());
            assert_eq!(compact_of(&typed), compact_of(code));
        }
        assert!(matches!(classify("123 456"), Typed::Totp(_)));
        assert!(matches!(classify("12345"), Typed::Neither));
        assert!(matches!(classify("0o1il-abcde"), Typed::Neither));
    }

    #[test]
    fn the_key_is_shown_in_groups_of_four() {
        assert_eq!(group_in_fours("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }

    #[test]
    fn data_urls_percent_encode_everything_but_plain_characters() {
        assert_eq!(
            data_url("text/plain", "a b\n<c>"),
            "data:text/plain;charset=utf-8,a%20b%0A%3Cc%3E"
        );
    }
}
