//! Accounts in the database.

use super::clock::UnixTime;
use super::db::violated_constraint;
use crate::domain::{Email, FirstName, Initials, LastName, Username, search_key};
use crate::error::AppError;

/// A validated account about to be inserted.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub organisation_id: i64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Pending,
    Active,
    Deactivated,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Active => "active",
            AccountState::Deactivated => "deactivated",
        }
    }
}

/// Inserts an account; a uniqueness clash becomes an error on the field it is
/// about, even when two administrators race (the database decides).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    account: &NewAccount,
) -> Result<i64, AppError> {
    let activated_at = (account.state == AccountState::Active).then_some(now);
    let result: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (organisation_id, kind, state, first_name, last_name, email, email_normalized, username,
                            initials, password_hash, is_platform_admin, created_at, created_by, activated_at, updated_at,
                            first_name_key, last_name_key, search_text)
         VALUES ($1, 'person', $2, $3, $4, $5, $13, $6, $7, $8, $9, $10, $11, $12, $10, $14, $15, $16)
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
    .bind(search_text(account))
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok((id,)) => Ok(id),
        Err(error) => Err(match violated_constraint(&error).as_deref() {
            Some("users_username_key") => {
                AppError::field("username", "This username is already taken")
            }
            Some("users_email_key") => AppError::field(
                "email",
                "An account with this email address already exists in the organisation",
            ),
            Some("users_initials_key") => AppError::field(
                "initials",
                "These initials are already used in the organisation",
            ),
            _ => error.into(),
        }),
    }
}

/// Everything search matches on, as one string of search keys.
fn search_text(account: &NewAccount) -> String {
    [
        account.first_name.as_ref(),
        account.last_name.as_ref(),
        account.username.as_ref(),
        account.email.as_ref(),
    ]
    .map(search_key)
    .join(" ")
}

/// Deactivates an account and ends every one of its sessions in one
/// transaction, so no request can slip through between the two.
pub async fn deactivate(db: &super::db::Db, now: UnixTime, user_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET state = 'deactivated', deactivated_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    super::sessions::end_all_for_user(&mut tx, now, user_id, "account_deactivated").await?;
    tx.commit().await?;
    Ok(())
}
