//! Accounts in the database: insert, read, change details, deactivate and
//! reactivate. Nothing is ever deleted.

use crate::clock::UnixTime;
use crate::db::{Db, stored_names, violated_constraint};
use domain::AppError;
use domain::{Email, FirstName, Initials, LastName, Username, search_key};

/// A validated account about to be inserted.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub organisation_id: i64,
    pub kind: AccountKind,
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: Email,
    pub username: Username,
    pub initials: Initials,
    pub password_hash: Option<String>,
    pub state: AccountState,
    pub is_platform_admin: bool,
    pub created_by: Option<i64>,
}

stored_names! {
    /// Where an account is in its life: nothing is ever deleted.
    pub enum AccountState {
        Pending = "pending",
        Active = "active",
        Deactivated = "deactivated",
    }
}

stored_names! {
    /// A person, or an API user (programs only); fixed at creation.
    pub enum AccountKind {
        Person = "person",
        Api = "api",
    }
}

/// The editable details of an account, validated.
#[derive(Debug, Clone)]
pub struct Details {
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: Email,
    pub initials: Initials,
}

/// An account as stored (without its password hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    #[sqlx(try_from = "String")]
    pub kind: AccountKind,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub initials: String,
    pub created_at: i64,
    pub created_by_name: Option<String>,
    pub activated_at: Option<i64>,
    pub deactivated_at: Option<i64>,
    pub welcome_link_hours: i64,
    pub password_link_minutes: i64,
    pub is_platform_admin: i64,
}

impl Account {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn is_person(&self) -> bool {
        self.kind == AccountKind::Person
    }

    pub fn is_platform_admin(&self) -> bool {
        self.is_platform_admin == 1
    }
}

const ACCOUNT_COLUMNS: &str = "u.id, u.organisation_id, o.name AS organisation_name, u.kind, u.state, u.first_name,
     u.last_name, u.email, u.username, u.initials, u.created_at,
     CASE WHEN c.id IS NULL THEN NULL ELSE c.first_name || ' ' || c.last_name END AS created_by_name,
     u.activated_at, u.deactivated_at, o.welcome_link_hours, o.password_link_minutes, u.is_platform_admin
     FROM users u JOIN organisations o ON o.id = u.organisation_id LEFT JOIN users c ON c.id = u.created_by";

/// An account of `organisation_id`. Another organisation's id answers
/// `None`, exactly as a missing one does.
pub async fn find_in_organisation(
    db: &Db,
    organisation_id: i64,
    user_id: i64,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} WHERE u.id = $1 AND u.organisation_id = $2"
    ))
    .bind(user_id)
    .bind(organisation_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn find(db: &Db, user_id: i64) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} WHERE u.id = $1"))
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await
}

/// Inserts an account; a uniqueness clash becomes an error on the field it is
/// about, even when two administrators race (the database decides).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    account: &NewAccount,
) -> Result<i64, AppError> {
    let activated_at = (account.state == AccountState::Active).then_some(now);
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (organisation_id, kind, state, first_name, last_name, email, email_normalized, username,
                            initials, password_hash, is_platform_admin, created_at, created_by, activated_at, updated_at,
                            first_name_key, last_name_key, search_text)
         VALUES ($1, $17, $2, $3, $4, $5, $13, $6, $7, $8, $9, $10, $11, $12, $10, $14, $15, $16)
         RETURNING id",
    )
    .bind(account.organisation_id)
    .bind(account.state.as_str())
    .bind(account.first_name.as_ref())
    .bind(account.last_name.as_ref())
    .bind(account.email.as_ref())
    .bind(account.username.as_ref())
    .bind(account.initials.as_ref())
    .bind(account.password_hash.as_deref())
    .bind(i64::from(account.is_platform_admin))
    .bind(now)
    .bind(account.created_by)
    .bind(activated_at)
    .bind(account.email.normalized())
    .bind(search_key(account.first_name.as_ref()))
    .bind(search_key(account.last_name.as_ref()))
    .bind(search_text(&account.first_name, &account.last_name, account.username.as_ref(), &account.email))
    .bind(account.kind.as_str())
    .fetch_one(&mut *conn)
    .await;
    inserted.map(|(id,)| id).map_err(conflict_to_field_error)
}

/// Changes the details of a pending account. After activation the details
/// belong to the person, so this refuses.
pub async fn update_pending_details(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    username: &str,
    details: &Details,
) -> Result<(), AppError> {
    let updated = sqlx::query(
        "UPDATE users SET first_name = $1, last_name = $2, email = $3, email_normalized = $4, initials = $5,
                first_name_key = $6, last_name_key = $7, search_text = $8, updated_at = $9
         WHERE id = $10 AND state = 'pending' AND activated_at IS NULL",
    )
    .bind(details.first_name.as_ref())
    .bind(details.last_name.as_ref())
    .bind(details.email.as_ref())
    .bind(details.email.normalized())
    .bind(details.initials.as_ref())
    .bind(search_key(details.first_name.as_ref()))
    .bind(search_key(details.last_name.as_ref()))
    .bind(search_text(&details.first_name, &details.last_name, username, &details.email))
    .bind(now)
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(conflict_to_field_error)?;
    if updated.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "This account has been activated: its details are now maintained by its owner".into(),
        ))
    }
}

/// Changes a person's own names and initials (My profile).
pub async fn update_own_names(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    first_name: &FirstName,
    last_name: &LastName,
    initials: &Initials,
) -> Result<(), AppError> {
    let current: (String, String) =
        sqlx::query_as("SELECT username, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    let email = Email::parse(&current.1)?;
    sqlx::query(
        "UPDATE users SET first_name = $1, last_name = $2, initials = $3, first_name_key = $4, last_name_key = $5,
                search_text = $6, updated_at = $7
         WHERE id = $8",
    )
    .bind(first_name.as_ref())
    .bind(last_name.as_ref())
    .bind(initials.as_ref())
    .bind(search_key(first_name.as_ref()))
    .bind(search_key(last_name.as_ref()))
    .bind(search_text(first_name, last_name, &current.0, &email))
    .bind(now)
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(conflict_to_field_error)?;
    Ok(())
}

/// Changes a person's email address (after they confirmed the new one).
pub async fn update_email(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    email: &Email,
) -> Result<(), AppError> {
    let current: (String, String, String) =
        sqlx::query_as("SELECT first_name, last_name, username FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    let (first_name, last_name) = (FirstName::parse(&current.0)?, LastName::parse(&current.1)?);
    sqlx::query("UPDATE users SET email = $1, email_normalized = $2, search_text = $3, updated_at = $4 WHERE id = $5")
        .bind(email.as_ref())
        .bind(email.normalized())
        .bind(search_text(&first_name, &last_name, &current.2, email))
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(conflict_to_field_error)?;
    Ok(())
}

/// Everything search matches on, as one string of search keys.
fn search_text(
    first_name: &FirstName,
    last_name: &LastName,
    username: &str,
    email: &Email,
) -> String {
    [
        first_name.as_ref(),
        last_name.as_ref(),
        username,
        email.as_ref(),
    ]
    .map(search_key)
    .join(" ")
}

fn conflict_to_field_error(error: sqlx::Error) -> AppError {
    match violated_users_index(&error).as_deref() {
        Some("users_username_key") => AppError::field("username", "This username is already taken"),
        Some("users_email_key") => AppError::field(
            "email",
            "An account with this email address already exists in the organisation (it may be deactivated)",
        ),
        Some("users_initials_key") => AppError::field(
            "initials",
            "These initials are already used in the organisation (perhaps by a deactivated account)",
        ),
        _ => error.into(),
    }
}

/// The unique index of `users` an error is about. `db::violated_constraint`
/// reads the name from PostgreSQL, and from SQLite's message for expression
/// indexes ("index 'users_username_key'"); for an index on plain columns
/// SQLite names the columns instead ("UNIQUE constraint failed:
/// users.organisation_id, users.email_normalized"), so a clash on email or
/// initials used to surface as a 500. Those column lists are mapped here.
fn violated_users_index(error: &sqlx::Error) -> Option<String> {
    if let Some(name) = violated_constraint(error) {
        return Some(name);
    }
    let db_error = error
        .as_database_error()
        .filter(|e| e.is_unique_violation())?;
    let message = db_error.message();
    [
        ("users.email_normalized", "users_email_key"),
        ("users.initials", "users_initials_key"),
        ("users.username", "users_username_key"),
    ]
    .into_iter()
    .find(|(columns, _)| message.contains(columns))
    .map(|(_, index)| index.to_owned())
}

/// True when no account anywhere has this username (any case).
pub async fn username_is_free(db: &Db, username: &Username) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE lower(username) = $1")
        .bind(username.normalized())
        .fetch_one(&db.pool)
        .await?;
    Ok(count == 0)
}

/// The first `wanted` free usernames among `candidates`, in order.
pub async fn free_usernames(
    db: &Db,
    candidates: &[Username],
    wanted: usize,
) -> Result<Vec<Username>, sqlx::Error> {
    let mut free = Vec::new();
    for candidate in candidates {
        if free.len() == wanted {
            break;
        }
        if username_is_free(db, candidate).await? {
            free.push(candidate.clone());
        }
    }
    Ok(free)
}

/// True when no account of the organisation uses these initials.
pub async fn initials_are_free(
    db: &Db,
    organisation_id: i64,
    initials: &Initials,
) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE organisation_id = $1 AND initials = $2")
            .bind(organisation_id)
            .bind(initials.as_ref())
            .fetch_one(&db.pool)
            .await?;
    Ok(count == 0)
}

/// Deactivates an account: ends every session, revokes its links and API
/// tokens, all in one
/// transaction, so no request can slip through between the steps.
pub async fn deactivate(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE users SET state = 'deactivated', deactivated_at = $1, updated_at = $1 WHERE id = $2 AND state <> 'deactivated'",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    crate::auth::sessions::end_all_for_user(&mut *conn, now, user_id, "account_deactivated")
        .await?;
    crate::onboarding::links::revoke_all_for_user(&mut *conn, now, user_id).await?;
    crate::api_tokens::revoke_all_for_user(&mut *conn, now, user_id, "account_deactivated").await?;
    Ok(changed.rows_affected() == 1)
}

/// Reactivates an account: back to active (or pending, if it was never
/// activated). No old session, token or link comes back.
pub async fn reactivate(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE users SET state = CASE WHEN activated_at IS NULL THEN 'pending' ELSE 'active' END,
                deactivated_at = NULL, updated_at = $1
         WHERE id = $2 AND state = 'deactivated'",
    )
    .bind(now)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_states_and_kinds_read_back_as_written_and_unknown_ones_are_refused() {
        for state in [
            AccountState::Pending,
            AccountState::Active,
            AccountState::Deactivated,
        ] {
            assert_eq!(
                AccountState::try_from(state.as_str().to_owned()).ok(),
                Some(state)
            );
        }
        for kind in [AccountKind::Person, AccountKind::Api] {
            assert_eq!(
                AccountKind::try_from(kind.as_str().to_owned()).ok(),
                Some(kind)
            );
        }
        let unknown = AccountState::try_from("suspended".to_owned()).expect_err("unknown");
        assert_eq!(
            unknown.to_string(),
            "unknown AccountState \"suspended\" in the database"
        );
        assert!(
            AccountKind::try_from("Person".to_owned()).is_err(),
            "names are exact"
        );
    }
}
