//! The append-only audit log (the database refuses updates and deletes).
//! Entries never hold a password, token or code.

use super::clock::UnixTime;

/// What happened. Stored as the string on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    SignedOut,
    OrganisationCreated,
    AccountCreated,
    SetupLinkCreated,
    AccountDeactivated,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignInSucceeded => "sign_in.succeeded",
            Action::SignInFailed => "sign_in.failed",
            Action::SignInThrottled => "sign_in.throttled",
            Action::SignedOut => "sign_out",
            Action::OrganisationCreated => "organisation.created",
            Action::AccountCreated => "account.created",
            Action::SetupLinkCreated => "setup_link.created",
            Action::AccountDeactivated => "account.deactivated",
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub action: Action,
    pub organisation_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub target_user_id: Option<i64>,
    pub detail: String,
    pub client_address: &'a str,
}

pub async fn record<'c, E>(executor: E, now: UnixTime, entry: Entry<'_>) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, organisation_id, actor_user_id, target_user_id, action, detail, client_address)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(entry.organisation_id)
    .bind(entry.actor_user_id)
    .bind(entry.target_user_id)
    .bind(entry.action.as_str())
    .bind(entry.detail)
    .bind(entry.client_address)
    .execute(executor)
    .await?;
    Ok(())
}
