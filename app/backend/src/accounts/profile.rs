//! *My profile*: a person maintains their own details, email address,
//! password and sessions.

use crate::accounts::users;
use crate::accounts::users::AccountState;
use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::reauthentication::{self, Confirming};
use crate::auth::sessions::{ClientInfo, SignedIn};
use crate::clock::{UnixTime, format_utc};
use crate::onboarding;
use crate::onboarding::links::{self, LinkPurpose};
use crate::state::AppState;
use domain::AppError;
use domain::wire::{MyProfile, MySession};
use domain::{Email, FirstName, Initials, LastName, Password, PasswordContext, collect};

pub async fn load(state: &AppState, me: &SignedIn) -> Result<MyProfile, AppError> {
    // The person's details came with the session, read for this request.
    let (pending_email, two_factor_enrolled): (Option<String>, i64) = sqlx::query_as(
        "SELECT
            (SELECT new_email FROM one_time_links
             WHERE user_id = $1 AND purpose = 'email_change' AND used_at IS NULL AND revoked_at IS NULL
               AND expires_at > $2
             ORDER BY id DESC LIMIT 1),
            (SELECT COUNT(*) FROM two_factor WHERE user_id = $1 AND enrolled_at IS NOT NULL)",
    )
    .bind(me.user_id)
    .bind(state.now())
    .fetch_one(&state.db.pool)
    .await?;
    let sessions: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
        "SELECT id, created_at, last_seen_at, client_address, user_agent FROM sessions
         WHERE user_id = $1 AND ended_at IS NULL ORDER BY last_seen_at DESC",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(MyProfile {
        first_name: me.first_name.clone(),
        last_name: me.last_name.clone(),
        email: me.email.clone(),
        username: me.username.clone(),
        initials: me.initials.clone(),
        organisation_name: me.organisation_name.clone(),
        pending_email,
        two_factor_enrolled: two_factor_enrolled > 0,
        sessions: sessions
            .into_iter()
            .map(|(id, started, last_seen, address, agent)| MySession {
                id,
                device: describe_device(&agent),
                client_address: address,
                started: format_utc(started),
                last_active: format_utc(last_seen),
                current: id == me.session_id,
            })
            .collect(),
    })
}

/// "Chrome on Linux" from a User-Agent header, good enough to recognise a device.
pub(crate) fn describe_device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) if user_agent.is_empty() => "Unknown device".to_owned(),
        (None, None) => user_agent.chars().take(60).collect(),
    }
}

pub async fn update_names(
    state: &AppState,
    me: &SignedIn,
    first_name: &str,
    last_name: &str,
    initials: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let first = collect(&mut errors, FirstName::parse(first_name));
    let last = collect(&mut errors, LastName::parse(last_name));
    let initials = collect(&mut errors, Initials::parse(initials));
    let (Some(first), Some(last), Some(initials)) = (first, last, initials) else {
        return Err(AppError::Validation(errors));
    };
    let mut write = Acting::by(me, state.now(), &client.address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    users::update_own_names(&mut write, now, me.user_id, &first, &last, &initials).await?;
    write
        .audit(
            Action::AccountDetailsChanged,
            Subject::Account(me.user_id),
            "by=self",
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// Sends a confirmation link to the new address (the change happens when
/// that link is used) and tells the current address, with a link that
/// undoes it. The person confirms with their password, and a current code
/// once they have enrolled: a session left open somewhere must not be
/// enough to take the account over by its address.
pub async fn request_email_change(
    state: &AppState,
    me: &SignedIn,
    email: &str,
    password: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<UnixTime, AppError> {
    let email = Email::parse(email)?;
    if email.normalized() == me.email.to_lowercase() {
        return Err(AppError::field(
            "email",
            "This is already your email address",
        ));
    }
    let account = users::find(&state.db, me.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut write = crate::auth::two_factor::begin_confirmed_change(
        state,
        me,
        &crate::auth::two_factor::Confirmation {
            password,
            password_field: "current_password",
            code,
            during: Confirming::EmailChange,
        },
        client,
    )
    .await?;
    // Only now, so that whether an address is in use is told to nobody
    // who has not proved who they are.
    let (taken,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE organisation_id = $1 AND email_normalized = $2",
    )
    .bind(me.organisation_id)
    .bind(email.normalized())
    .fetch_one(&mut *write)
    .await?;
    if taken > 0 {
        return Err(AppError::field(
            "email",
            "Another account in your organisation uses this address",
        ));
    }
    let expires = onboarding::send_email_change_links(&mut write, state, &account, &email).await?;
    write.commit().await?;
    crate::auth::two_factor::forget_wrong_codes(state, me.user_id).await?;
    Ok(expires)
}

/// The new address a confirmation link is for (opening it changes nothing).
pub async fn email_change_link(state: &AppState, token: &str) -> Result<String, AppError> {
    let link = links::find_live(
        &state.db.pool,
        state.now(),
        token,
        &[LinkPurpose::EmailChange],
    )
    .await?
    .ok_or(AppError::LinkExpired)?;
    link.new_email.ok_or(AppError::LinkExpired)
}

/// Ends every session of `user_id` but `keep` (the browser using the link,
/// when it is signed in as them) and revokes their password links: whoever
/// changed or restored the address, nobody else goes on with the old state.
async fn close_everything_else(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    keep: Option<i64>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2
         WHERE user_id = $3 AND ended_at IS NULL AND id <> $4",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .bind(keep.unwrap_or(-1))
    .execute(&mut *conn)
    .await?;
    links::revoke_for_user(conn, now, user_id, &onboarding::PASSWORD_PURPOSES).await
}

/// Uses a confirmation link: the account's address becomes the new one;
/// password links sent to the old one stop working and every other
/// session ends. `current_session` is the browser's own, if any.
pub async fn confirm_email_change(
    state: &AppState,
    token: &str,
    current_session: Option<&SignedIn>,
    client_address: &str,
) -> Result<(), AppError> {
    let now = state.now();
    let link = links::find_live(&state.db.pool, now, token, &[LinkPurpose::EmailChange])
        .await?
        .ok_or(AppError::LinkExpired)?;
    let (Some(user_id), Some(new_email)) = (link.user_id, link.new_email) else {
        return Err(AppError::LinkExpired);
    };
    let account = users::find(&state.db, user_id)
        .await?
        .filter(|a| a.state == AccountState::Active)
        .ok_or(AppError::LinkExpired)?;
    let email = Email::parse(&new_email)?;
    let keep = current_session
        .filter(|s| s.user_id == user_id)
        .map(|s| s.session_id);
    let mut write = Acting::new(now, ActedBy::user(account.id), client_address)
        .begin(&state.db)
        .await?;
    if !links::consume(&mut write, now, link.id).await? {
        return Err(AppError::LinkExpired);
    }
    users::update_email(&mut write, now, user_id, &email).await?;
    close_everything_else(&mut write, now, user_id, keep, "email_changed").await?;
    write
        .audit(Action::EmailAddressChanged, Subject::Account(user_id), "")
        .await?;
    write.commit().await?;
    Ok(())
}

/// What an undo link will do: keep `keep` (the address it was sent to)
/// instead of `moving_to` (opening it changes nothing).
pub async fn email_change_undo_link(
    state: &AppState,
    token: &str,
) -> Result<(String, String), AppError> {
    let link = links::find_live(
        &state.db.pool,
        state.now(),
        token,
        &[LinkPurpose::EmailChangeUndo],
    )
    .await?
    .ok_or(AppError::LinkExpired)?;
    let (Some(user_id), Some(keep)) = (link.user_id, link.new_email) else {
        return Err(AppError::LinkExpired);
    };
    // The confirmation link was issued with it, at the same moment.
    let pending: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT new_email FROM one_time_links
         WHERE user_id = $1 AND purpose = 'email_change'
           AND created_at = (SELECT created_at FROM one_time_links WHERE id = $2)
         ORDER BY id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(link.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let moving_to = pending.and_then(|(to,)| to).unwrap_or_default();
    Ok((keep, moving_to))
}

/// Uses an undo link from the old address: the change is cancelled (its
/// confirmation link revoked) or, when already made, reversed; every
/// session ends and password links stop working, since whoever asked for
/// the change may hold both.
pub async fn undo_email_change(
    state: &AppState,
    token: &str,
    client_address: &str,
) -> Result<(), AppError> {
    let now = state.now();
    let link = links::find_live(&state.db.pool, now, token, &[LinkPurpose::EmailChangeUndo])
        .await?
        .ok_or(AppError::LinkExpired)?;
    let (Some(user_id), Some(keep)) = (link.user_id, link.new_email) else {
        return Err(AppError::LinkExpired);
    };
    let account = users::find(&state.db, user_id)
        .await?
        .filter(|a| a.state != AccountState::Deactivated)
        .ok_or(AppError::LinkExpired)?;
    let keep = Email::parse(&keep)?;
    let mut write = Acting::new(now, ActedBy::user(account.id), client_address)
        .begin(&state.db)
        .await?;
    if !links::consume(&mut write, now, link.id).await? {
        return Err(AppError::LinkExpired);
    }
    links::revoke_for_user(&mut write, now, user_id, &[LinkPurpose::EmailChange]).await?;
    let restored =
        Email::parse(&account.email).map_or(true, |e| e.normalized() != keep.normalized());
    if restored {
        users::update_email(&mut write, now, user_id, &keep)
            .await
            .map_err(|error| match error {
                AppError::Validation(_) => AppError::Conflict(
                    "Another account of the organisation now uses this address: ask your administrator".into(),
                ),
                other => other,
            })?;
    }
    close_everything_else(&mut write, now, user_id, None, "email_change_undone").await?;
    write
        .audit(
            Action::EmailChangeUndone,
            Subject::Account(user_id),
            if restored {
                "address=restored"
            } else {
                "address=kept"
            },
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// Changes the password after checking the current one; optionally ends
/// every other session of the person.
pub async fn change_password(
    state: &AppState,
    me: &SignedIn,
    current: &str,
    new: &str,
    end_other_sessions: bool,
    client: &ClientInfo,
) -> Result<(), AppError> {
    reauthentication::confirm_password(
        state,
        me,
        current,
        "current_password",
        Confirming::PasswordChange,
        client,
    )
    .await?;
    let password = Password::parse(
        new,
        &PasswordContext {
            first_name: &me.first_name,
            last_name: &me.last_name,
            username: &me.username,
            email: &me.email,
        },
    )
    .map_err(|e| AppError::field("new_password", e.message))?;
    let new_hash = state.hasher.hash(&password).await?;
    let mut write = Acting::by(me, state.now(), &client.address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(&new_hash)
        .bind(now)
        .bind(me.user_id)
        .execute(&mut *write)
        .await?;
    if end_other_sessions {
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = 'password_changed'
             WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(me.user_id)
        .bind(me.session_id)
        .execute(&mut *write)
        .await?;
    }
    let detail = if end_other_sessions {
        "other_sessions=ended"
    } else {
        "other_sessions=kept"
    };
    write
        .audit(
            Action::PasswordChanged,
            Subject::Account(me.user_id),
            detail,
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// Ends one of the person's own sessions.
pub async fn end_session(
    state: &AppState,
    me: &SignedIn,
    session_id: i64,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let mut write = Acting::by(me, state.now(), &client.address)
        .begin(&state.db)
        .await?;
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'ended_by_owner' WHERE id = $2 AND user_id = $3 AND ended_at IS NULL",
    )
    .bind(write.now())
    .bind(session_id)
    .bind(me.user_id)
    .execute(&mut *write)
    .await?;
    if ended.rows_affected() == 0 {
        return Err(AppError::NotFound("The session".into()));
    }
    write
        .audit(
            Action::SessionEnded,
            Subject::Account(me.user_id),
            format!("session={session_id}"),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_by_browser_and_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(describe_device(chrome), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(iphone), "Safari on iPhone");
        assert_eq!(describe_device(""), "Unknown device");
    }
}
