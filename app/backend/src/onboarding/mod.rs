//! Email links for people: welcome (activation), set-password (also the
//! forgotten-password flow) and email-address confirmation. Each email is
//! queued in the outbox in the same transaction as the link it carries.

pub mod links;
pub mod setup;

use crate::accounts::users::{self, Account, AccountState};
use crate::acting::{Acting, Write};
use crate::audit::{ActedBy, Action, Subject};
use crate::clock::{UnixTime, format_utc};
use crate::mail::{self, OutgoingEmail, templates};
use crate::state::AppState;
use domain::AppError;
use domain::{Email, Password, PasswordContext};
use links::{LinkPurpose, NewLink};

/// Issues a fresh link of `purpose` for `account` (replacing older ones of
/// that kind) and queues its email. Returns when the link expires.
pub async fn send_link(
    write: &mut Write<'_>,
    state: &AppState,
    account: &Account,
    purpose: LinkPurpose,
) -> Result<UnixTime, AppError> {
    send_link_to(write, state, account, &Delivery::of(purpose)).await
}

/// How long the old address may undo an email change: longer than the
/// change takes, since people read mail late.
const UNDO_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;

/// An email change: a link confirming the new address, sent there, and a
/// notice to the current address with a link that undoes the change.
/// Returns when the confirmation link expires.
pub async fn send_email_change_links(
    write: &mut Write<'_>,
    state: &AppState,
    account: &Account,
    new_email: &Email,
) -> Result<UnixTime, AppError> {
    let current = Email::parse(&account.email)?;
    let undo = Delivery {
        to: Some(&current),
        moving_to: Some(new_email),
        ..Delivery::of(LinkPurpose::EmailChangeUndo)
    };
    send_link_to(write, state, account, &undo).await?;
    let confirm = Delivery {
        to: Some(new_email),
        ..Delivery::of(LinkPurpose::EmailChange)
    };
    send_link_to(write, state, account, &confirm).await
}

/// Which link email goes out, and where.
struct Delivery<'e> {
    purpose: LinkPurpose,
    /// The address to send to, when not the account's. It is also the
    /// link's `new_email` for the email-change purposes: the address to
    /// confirm, or (undo) the one to keep.
    to: Option<&'e Email>,
    /// The new address, named in the notice to the old one.
    moving_to: Option<&'e Email>,
    /// Instead of the purpose's usual lifetime.
    lifetime_override_seconds: Option<i64>,
}

impl Delivery<'_> {
    fn of(purpose: LinkPurpose) -> Self {
        Delivery {
            purpose,
            to: None,
            moving_to: None,
            lifetime_override_seconds: None,
        }
    }
}

/// Issues a link and queues its email, in `write`.
async fn send_link_to(
    write: &mut Write<'_>,
    state: &AppState,
    account: &Account,
    delivery: &Delivery<'_>,
) -> Result<UnixTime, AppError> {
    let Delivery {
        purpose,
        to,
        moving_to,
        lifetime_override_seconds,
    } = *delivery;
    let now = write.now();
    let by = write.acting.by;
    let new_email = to;
    let (default_lifetime_seconds, path) = match purpose {
        LinkPurpose::Welcome => (account.welcome_link_hours * 3600, "activate"),
        LinkPurpose::SetPassword => (account.password_link_minutes * 60, "set-password"),
        LinkPurpose::EmailChange => (account.password_link_minutes * 60, "confirm-email"),
        LinkPurpose::EmailChangeUndo => (UNDO_LIFETIME_SECONDS, "undo-email-change"),
        LinkPurpose::PlatformSetup | LinkPurpose::OrganisationSetup => {
            return Err(crate::db::internal("setup links are not emailed"));
        }
    };
    let lifetime_seconds = lifetime_override_seconds.unwrap_or(default_lifetime_seconds);
    let token = links::issue(
        &mut *write,
        now,
        &NewLink {
            purpose,
            organisation_id: Some(account.organisation_id),
            user_id: Some(account.id),
            new_email: new_email.map(|e| e.as_ref().to_owned()),
            lifetime_seconds,
            issued_by: by.user_id.filter(|issuer| *issuer != account.id),
        },
    )
    .await?;
    let expires_at = now + lifetime_seconds;
    let link = state.settings.link(&format!("/{path}/{token}"));
    let person_name = account.full_name();
    let facts = templates::LinkEmail {
        organisation_name: &account.organisation_name,
        person_name: &person_name,
        link: &link,
        expires_at,
        new_address: moving_to.map(|e| e.as_ref()),
    };
    let content = match purpose {
        LinkPurpose::Welcome => templates::welcome(&facts),
        LinkPurpose::SetPassword => templates::set_password(&facts),
        LinkPurpose::EmailChangeUndo => templates::email_change_undo(&facts),
        _ => templates::email_change(&facts),
    }
    .map_err(crate::db::internal)?;
    let to = match new_email {
        Some(address) => address.clone(),
        None => Email::parse(&account.email)?,
    };
    mail::enqueue(
        &mut *write,
        now,
        &OutgoingEmail::new(
            Some(account.organisation_id),
            to,
            person_name.clone(),
            content,
        )
        .about(account.id, purpose.as_str()),
    )
    .await?;
    write
        .audit(
            Action::EmailQueued,
            Subject::Account(account.id),
            format!(
                "kind={} expires={}",
                purpose.as_str(),
                format_utc(expires_at)
            ),
        )
        .await?;
    Ok(expires_at)
}

/// What a person opening an activation or set-password link sees.
#[derive(Debug, Clone)]
pub struct PasswordLink {
    pub link_id: i64,
    pub account: Account,
    pub is_welcome: bool,
}

pub(crate) const PASSWORD_PURPOSES: [LinkPurpose; 2] =
    [LinkPurpose::Welcome, LinkPurpose::SetPassword];

/// The live welcome or set-password link for `token`, for a usable account.
pub async fn password_link(state: &AppState, token: &str) -> Result<PasswordLink, AppError> {
    let link = links::find_live(&state.db.pool, state.now(), token, &PASSWORD_PURPOSES)
        .await?
        .ok_or(AppError::LinkExpired)?;
    let account = match link.user_id {
        Some(id) => users::find(&state.db, id).await?,
        None => None,
    }
    .filter(|a| a.state != AccountState::Deactivated && a.is_person())
    .ok_or(AppError::LinkExpired)?;
    // An administrator's link works only while the account is still within
    // their reach: it may have gone to an address they chose.
    if let Some(issuer) = link.issued_by {
        let mut conn = state.db.pool.acquire().await?;
        if let Some(reason) = crate::access::refusal_for(&mut conn, issuer, &account).await? {
            tracing::info!(link_id = link.id, %reason, "a link outgrown by its account refused");
            return Err(AppError::LinkExpired);
        }
    }
    Ok(PasswordLink {
        link_id: link.id,
        account,
        is_welcome: link.purpose == LinkPurpose::Welcome,
    })
}

/// Sets the password chosen from a link; activates a pending account. The
/// link is consumed in the same transaction. Returns the account id.
pub async fn complete_password_link(
    state: &AppState,
    token: &str,
    password: &str,
    client_address: &str,
) -> Result<i64, AppError> {
    let link = password_link(state, token).await?;
    let account = &link.account;
    let password = Password::parse(
        password,
        &PasswordContext {
            first_name: &account.first_name,
            last_name: &account.last_name,
            username: &account.username,
            email: &account.email,
        },
    )?;
    let hash = state.hasher.hash(&password).await?;
    let now = state.now();
    let mut write = Acting::new(now, ActedBy::user(account.id), client_address)
        .begin(&state.db)
        .await?;
    if !links::consume(&mut write, now, link.link_id).await? {
        return Err(AppError::LinkExpired);
    }
    let activating = account.state == AccountState::Pending;
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2,
                state = CASE WHEN state = 'pending' THEN 'active' ELSE state END,
                activated_at = COALESCE(activated_at, $2)
         WHERE id = $3 AND state <> 'deactivated'",
    )
    .bind(&hash)
    .bind(now)
    .bind(account.id)
    .execute(&mut *write)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(AppError::LinkExpired);
    }
    // A new password ends every session that the old one may have opened,
    // and any other welcome or set-password link still in the mailbox: the
    // password it would set has been chosen.
    crate::auth::sessions::end_all_for_user(&mut write, now, account.id, "password_changed")
        .await?;
    links::revoke_for_user(&mut write, now, account.id, &PASSWORD_PURPOSES).await?;
    let actions: &[Action] = if activating {
        &[Action::AccountActivated, Action::PasswordChanged]
    } else {
        &[Action::PasswordChanged]
    };
    for action in actions {
        write
            .audit(
                *action,
                Subject::Account(account.id),
                format!(
                    "via={}",
                    if link.is_welcome {
                        "welcome_link"
                    } else {
                        "set_password_link"
                    }
                ),
            )
            .await?;
    }
    write.commit().await?;
    // Whoever guessed at the old password is back at the start of the
    // account's delays, and so is its owner.
    crate::auth::throttle::succeeded(
        &state.db,
        &[crate::auth::throttle::Counter::sign_in_account(account.id)],
    )
    .await?;
    Ok(account.id)
}

/// How long the forgotten-password answer takes, whatever happened, so the
/// time gives nothing away (sending is well within it).
pub const FORGOTTEN_PASSWORD_ANSWER_TIME: std::time::Duration =
    std::time::Duration::from_millis(400);

/// Handles a forgotten-password request: throttled per account key and per
/// client address; over a limit it silently sends nothing.
pub async fn forgotten_password(
    state: &AppState,
    login_key: &str,
    client_address: &str,
) -> Result<(), AppError> {
    use crate::auth::throttle::{self, Counter};
    // The client's first: one already refused uses up nobody's allowance.
    let counters = [
        Counter::password_reset_client(client_address),
        Counter::password_reset_login(login_key),
    ];
    if throttle::admit(&state.db, &counters, state.now())
        .await?
        .is_err()
    {
        tracing::warn!(client = %client_address, "forgotten-password requests throttled");
        return Ok(());
    }
    request_password_reset(state, login_key, client_address).await
}

/// Forgotten password: sends a set-password link (or, for an account never
/// activated, a fresh activation link) to every usable person account whose
/// username or email matches. The caller answers the same whatever happens.
async fn request_password_reset(
    state: &AppState,
    login_key: &str,
    client_address: &str,
) -> Result<(), AppError> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM users WHERE (lower(username) = $1 OR email_normalized = $1)
           AND kind = 'person' AND state <> 'deactivated'",
    )
    .bind(login_key)
    .fetch_all(&state.db.pool)
    .await?;
    for (id,) in ids {
        let Some(account) = users::find(&state.db, id).await? else {
            continue;
        };
        let now = state.now();
        let purpose = if account.activated_at.is_none() {
            LinkPurpose::Welcome
        } else {
            LinkPurpose::SetPassword
        };
        let mut write = Acting::new(now, ActedBy::NOBODY, client_address)
            .begin(&state.db)
            .await?;
        write
            .audit(
                Action::PasswordResetRequested,
                Subject::Account(account.id),
                "",
            )
            .await?;
        // Whatever its kind, a link asked for on the forgotten-password form
        // lasts as long as a set-password link (an hour by default), also
        // when it activates a pending account (SPEC, *Email links*).
        let delivery = Delivery {
            lifetime_override_seconds: Some(account.password_link_minutes * 60),
            ..Delivery::of(purpose)
        };
        send_link_to(&mut write, state, &account, &delivery).await?;
        write.commit().await?;
    }
    Ok(())
}
