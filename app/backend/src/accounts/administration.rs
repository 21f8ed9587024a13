//! What administrators do to the accounts of their organisation. Every
//! function takes the acting administrator and works only inside their
//! organisation: another organisation's account answers "not found".

use crate::access;
use crate::access::actor::Actor;
use crate::accounts::users::{self, Account, AccountKind, AccountState, Details, NewAccount};
use crate::acting::{Acting, Write};
use crate::audit::{Action, Subject};
use crate::clock::{UnixTime, format_utc};
use crate::onboarding;
use crate::onboarding::links::LinkPurpose;
use crate::state::AppState;
use domain::AppError;
use domain::wire::{AuditLine, UserDetail, UserSummary, UsernameCheck};
use domain::{Email, FirstName, Initials, LastName, Person, PersonForm, Username, collect};

/// The Add a user form (or the REST API's new user) as typed.
#[derive(Debug, Clone, Default)]
pub struct AddUserForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `None`: made from the names.
    pub username: Option<String>,
    /// `None`: suggested from the names.
    pub initials: Option<String>,
    pub api_user: bool,
    pub send_welcome_email: bool,
}

impl AddUserForm {
    fn person(&self) -> PersonForm<'_> {
        PersonForm {
            first_name: &self.first_name,
            last_name: &self.last_name,
            email: &self.email,
            username: self.username.as_deref(),
            initials: self.initials.as_deref(),
        }
    }
}

/// Checks the username `person` asks for against every organisation and
/// offers free alternatives.
pub async fn check_username(
    state: &AppState,
    person: &PersonForm<'_>,
) -> Result<UsernameCheck, AppError> {
    let (first, last) = (
        FirstName::parse(person.first_name).ok(),
        LastName::parse(person.last_name).ok(),
    );
    let wanted = match person.wanted_username() {
        None => {
            return Ok(UsernameCheck {
                username: String::new(),
                problem: None,
                available: false,
                alternatives: Vec::new(),
            });
        }
        Some(Err(error)) => {
            return Ok(UsernameCheck {
                username: person.username.unwrap_or_default().to_owned(),
                problem: Some(error.message),
                available: false,
                alternatives: Vec::new(),
            });
        }
        Some(Ok(wanted)) => wanted,
    };
    let available = users::username_is_free(&state.db, &wanted).await?;
    let alternatives = match (available, &first, &last) {
        (false, Some(first), Some(last)) => {
            users::free_usernames(&state.db, &Username::alternatives(first, last), 3)
                .await?
                .into_iter()
                .map(String::from)
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(UsernameCheck {
        username: wanted.into(),
        problem: None,
        available,
        alternatives,
    })
}

/// Accounts of the organisation that look like the one being added: the
/// same email address, or the same last name.
pub async fn similar_accounts(
    state: &AppState,
    admin: &Actor,
    first_name: &str,
    last_name: &str,
    email: &str,
) -> Result<Vec<UserSummary>, AppError> {
    let last_key = domain::search_key(last_name.trim());
    let first_key = domain::search_key(first_name.trim());
    let email_key = Email::parse(email)
        .map(|e| e.normalized())
        .unwrap_or_default();
    if last_key.chars().count() < 2 && email_key.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, first_name, last_name, username, email, state FROM users
         WHERE organisation_id = $1
           AND (email_normalized = $2 OR (last_name_key = $3 AND ($4 = '' OR first_name_key LIKE $5)))
         ORDER BY last_name_key, first_name_key, id
         LIMIT 5",
    )
    .bind(admin.working_organisation_id)
    .bind(&email_key)
    .bind(&last_key)
    .bind(&first_key)
    .bind(format!("{}%", first_key.chars().next().map(String::from).unwrap_or_default()))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last, username, email, state)| UserSummary {
            id,
            name: format!("{first} {last}"),
            username,
            email,
            state,
        })
        .collect())
}

/// A new account's fields, parsed.
pub struct NewUser {
    pub person: Person,
    pub kind: AccountKind,
    pub send_welcome_email: bool,
}

fn parse_new_user(form: &AddUserForm) -> Result<NewUser, AppError> {
    Ok(NewUser {
        person: form.person().parse().map_err(AppError::Validation)?,
        kind: if form.api_user {
            AccountKind::Api
        } else {
            AccountKind::Person
        },
        send_welcome_email: form.send_welcome_email,
    })
}

/// Adds an account to the organisation the administrator works in; with
/// *Send welcome email* the activation email is queued in the same transaction.
pub async fn add_user(
    state: &AppState,
    admin: &Actor,
    form: &AddUserForm,
    client_address: &str,
) -> Result<i64, AppError> {
    let new = parse_new_user(form)?;
    if !users::username_is_free(&state.db, &new.person.username).await? {
        return Err(taken_username(state, &new).await?);
    }
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let created = create_account(&mut write, state, admin.working_organisation_id, &new).await;
    let user_id = match created {
        Ok(id) => id,
        // Another administrator took it a moment ago: say so, with alternatives.
        Err(error) if error.field_message("username").is_some() => {
            write.rollback().await?;
            return Err(taken_username(state, &new).await?);
        }
        Err(error) => return Err(error),
    };
    write.commit().await?;
    Ok(user_id)
}

/// Inserts a pending account into `organisation_id`, audited, and queues its
/// welcome email when asked to; the caller commits.
pub async fn create_account(
    write: &mut Write<'_>,
    state: &AppState,
    organisation_id: i64,
    new: &NewUser,
) -> Result<i64, AppError> {
    let now = write.now();
    let created_by = write.acting.by.user_id;
    let user_id = users::insert(
        &mut *write,
        now,
        &NewAccount {
            organisation_id,
            kind: new.kind,
            first_name: new.person.first_name.clone(),
            last_name: new.person.last_name.clone(),
            email: new.person.email.clone(),
            username: new.person.username.clone(),
            initials: new.person.initials.clone(),
            password_hash: None,
            state: AccountState::Pending,
            is_platform_admin: false,
            created_by,
        },
    )
    .await?;
    write
        .audit(
            Action::AccountCreated,
            Subject::Account(user_id),
            format!("kind={}", new.kind.as_str()),
        )
        .await?;
    if new.send_welcome_email && new.kind == AccountKind::Person {
        let account = account_in_tx(&mut *write, user_id).await?;
        onboarding::send_link(write, state, &account, LinkPurpose::Welcome).await?;
    }
    Ok(user_id)
}

async fn taken_username(state: &AppState, new: &NewUser) -> Result<AppError, AppError> {
    let username = &new.person.username;
    let alternatives = Username::alternatives(&new.person.first_name, &new.person.last_name);
    let free = users::free_usernames(&state.db, &alternatives, 3).await?;
    let offer = free
        .iter()
        .map(|u| u.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    let message = if offer.is_empty() {
        format!(
            "The username {} is already taken. Untick the box and type another",
            username.as_ref()
        )
    } else {
        format!(
            "The username {} is already taken. Free alternatives: {offer}",
            username.as_ref()
        )
    };
    Ok(AppError::field("username", message))
}

pub(crate) async fn account_in_tx(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
) -> Result<Account, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.organisation_id, o.name AS organisation_name, u.kind, u.state, u.first_name, u.last_name,
                u.email, u.username, u.initials, u.created_at, NULL AS created_by_name, u.activated_at,
                u.deactivated_at, o.welcome_link_hours, o.password_link_minutes, u.is_platform_admin
         FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// An account of the administrator's organisation, or "not found".
pub async fn account(state: &AppState, admin: &Actor, user_id: i64) -> Result<Account, AppError> {
    users::find_in_organisation(&state.db, admin.working_organisation_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("The account".into()))
}

/// An account of the administrator's organisation that they may act on
/// (see `access::refusal_to_act_on`), or "not found", or why not.
pub async fn account_to_change(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
) -> Result<Account, AppError> {
    let account = account(state, admin, user_id).await?;
    access::require_reach(&mut *state.db.pool.acquire().await?, admin, &account).await?;
    Ok(account)
}

/// The user page. `manages_users`: the viewer holds `users.manage`; they
/// may change this account only when it is also within their reach.
pub async fn detail(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    manages_users: bool,
) -> Result<UserDetail, AppError> {
    let account = account(state, admin, user_id).await?;
    let refusal = if manages_users {
        access::refusal_to_act_on(&mut *state.db.pool.acquire().await?, admin, &account).await?
    } else {
        None
    };
    let now = state.now();
    let welcome: Option<(i64, i64)> = sqlx::query_as(
        "SELECT created_at, expires_at FROM one_time_links
         WHERE user_id = $1 AND purpose = 'welcome' ORDER BY id DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let audit: Vec<(i64, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT a.at, a.action,
                CASE WHEN u.id IS NULL THEN NULL ELSE u.first_name || ' ' || u.last_name
                     || CASE WHEN tk.id IS NULL THEN '' ELSE ' with token “' || tk.name || '”' END END,
                a.detail, a.client_address
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
         LEFT JOIN api_tokens tk ON tk.id = a.actor_token_id
         WHERE a.target_user_id = $1 AND a.organisation_id = $2
         ORDER BY a.id DESC LIMIT 50",
    )
    .bind(user_id)
    .bind(admin.working_organisation_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(UserDetail {
        id: account.id,
        is_api_user: !account.is_person(),
        details_editable: account.state == AccountState::Pending && account.activated_at.is_none(),
        can_manage: manages_users && refusal.is_none(),
        refusal,
        created_at: format_utc(account.created_at),
        created_by: account.created_by_name,
        activated_at: account.activated_at.map(format_utc),
        deactivated_at: account.deactivated_at.map(format_utc),
        welcome_sent_at: welcome.map(|(sent, _)| format_utc(sent)),
        welcome_expires_at: welcome.map(|(_, expires)| format_utc(expires)),
        welcome_expired: account.state == AccountState::Pending
            && welcome.is_some_and(|(_, expires)| expires <= now),
        last_email: crate::mail::outbox::latest_about(&state.db, user_id)
            .await?
            .map(|delivery| delivery.shown(false)),
        audit: audit
            .into_iter()
            .map(|(at, action, by, detail, client_address)| AuditLine {
                at: format_utc(at),
                what: Action::describe(&action).to_owned(),
                by,
                detail,
                client_address,
            })
            .collect(),
        first_name: account.first_name,
        last_name: account.last_name,
        email: account.email,
        username: account.username,
        initials: account.initials,
        state: account.state.as_str().to_owned(),
    })
}

/// Changes the details of a pending account.
pub async fn update_details(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    first_name: &str,
    last_name: &str,
    email: &str,
    initials: &str,
    client_address: &str,
) -> Result<(), AppError> {
    let account = account_to_change(state, admin, user_id).await?;
    // Say why when the account is not pending: a deactivated account that
    // was never activated is not "maintained by its owner".
    if account.state == AccountState::Deactivated {
        return Err(AppError::Conflict(
            "This account is deactivated: reactivate it to change its details".into(),
        ));
    }
    let mut errors = Vec::new();
    let first = collect(&mut errors, FirstName::parse(first_name));
    let last = collect(&mut errors, LastName::parse(last_name));
    let email = collect(&mut errors, Email::parse(email));
    let initials = collect(&mut errors, Initials::parse(initials));
    let (Some(first_name), Some(last_name), Some(email), Some(initials)) =
        (first, last, email, initials)
    else {
        return Err(AppError::Validation(errors));
    };
    let email_changed = Email::parse(&account.email)
        .map(|old| old.normalized() != email.normalized())
        .unwrap_or(true);
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    users::update_pending_details(
        &mut write,
        now,
        user_id,
        &account.username,
        &Details {
            first_name,
            last_name,
            email,
            initials,
        },
    )
    .await?;
    // A link already emailed went to the old address, typically a mistyped
    // one: whoever got it must not be able to activate the account.
    if email_changed {
        crate::onboarding::links::revoke_all_for_user(&mut write, now, user_id).await?;
    }
    write
        .audit(
            Action::AccountDetailsChanged,
            Subject::Account(user_id),
            if email_changed {
                "email changed; links sent before revoked".to_owned()
            } else {
                String::new()
            },
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// *Send welcome email* or *Send set-password email*.
pub async fn send_email(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    purpose: LinkPurpose,
    client_address: &str,
) -> Result<UnixTime, AppError> {
    let account = account_to_change(state, admin, user_id).await?;
    if !account.is_person() {
        return Err(AppError::Conflict(
            "API users cannot sign in, so they get no emails".into(),
        ));
    }
    match (purpose, account.state) {
        (_, AccountState::Deactivated) => {
            return Err(AppError::Conflict(
                "This account is deactivated: reactivate it first".into(),
            ));
        }
        (LinkPurpose::Welcome, AccountState::Active) => {
            return Err(AppError::Conflict(
                "This account is already active: send a set-password email instead".into(),
            ));
        }
        _ => {}
    }
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let expires = onboarding::send_link(&mut write, state, &account, purpose).await?;
    write.commit().await?;
    Ok(expires)
}

/// Deactivates (`active = false`) or reactivates an account. Deactivation
/// ends every session and revokes every link of the account at once; it
/// may not take away the organisation's last manager of roles and profiles.
pub async fn set_active(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    active: bool,
    client_address: &str,
) -> Result<(), AppError> {
    let account = account_to_change(state, admin, user_id).await?;
    if !active && user_id == admin.user_id {
        return Err(AppError::Conflict(
            "You cannot deactivate your own account".into(),
        ));
    }
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let managers_before = access::role_managers(&mut write, account.organisation_id).await?;
    let (changed, action) = if active {
        (
            users::reactivate(&mut write, now, user_id).await?,
            Action::AccountReactivated,
        )
    } else {
        (
            users::deactivate(&mut write, now, user_id).await?,
            Action::AccountDeactivated,
        )
    };
    if changed {
        write.audit(action, Subject::Account(user_id), "").await?;
    }
    access::keep_a_role_manager(&mut write, account.organisation_id, managers_before).await?;
    write.commit().await?;
    Ok(())
}
