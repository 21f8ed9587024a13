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
    AccountReactivated,
    AccountDetailsChanged,
    AccountActivated,
    PasswordChanged,
    EmailQueued,
    PasswordResetRequested,
    EmailAddressChanged,
    SessionEnded,
    OrganisationSettingsChanged,
    OrganisationEntered,
    RoleCreated,
    RoleChanged,
    ProfileCreated,
    ProfileChanged,
    AccessGranted,
    AccessRemoved,
    TwoFactorEnrolled,
    TwoFactorReset,
    TwoFactorFailed,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    SessionsEndedByAdministrator,
}

impl Action {
    /// What the entry says to a person reading the log.
    pub fn describe(action: &str) -> &'static str {
        match action {
            "sign_in.succeeded" => "Signed in",
            "sign_in.failed" => "Sign-in failed",
            "sign_in.throttled" => "Sign-in refused: too many attempts",
            "sign_out" => "Signed out",
            "organisation.created" => "Organisation created",
            "account.created" => "Account created",
            "setup_link.created" => "Setup link created",
            "account.deactivated" => "Account deactivated",
            "account.reactivated" => "Account reactivated",
            "account.details_changed" => "Details changed",
            "account.activated" => "Account activated",
            "password.changed" => "Password set",
            "email.queued" => "Email sent",
            "password_reset.requested" => "Password reset requested",
            "email_address.changed" => "Email address changed",
            "session.ended" => "Session ended",
            "organisation.settings_changed" => "Organisation settings changed",
            "organisation.entered" => "Platform administrator started working here",
            "role.created" => "Role created",
            "role.changed" => "Role changed",
            "profile.created" => "Profile created",
            "profile.changed" => "Profile changed",
            "access.granted" => "Role or profile given",
            "access.removed" => "Role or profile taken away",
            "two_factor.enrolled" => "Two-factor authentication set up",
            "two_factor.reset" => "Two-factor authentication reset",
            "two_factor.failed" => "Wrong authentication code",
            "two_factor.recovery_code_used" => "Signed in with a recovery code",
            "two_factor.recovery_codes_regenerated" => "New recovery codes made",
            "sessions.ended_by_administrator" => "All sessions ended by an administrator",
            _ => "Other",
        }
    }

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
            Action::AccountReactivated => "account.reactivated",
            Action::AccountDetailsChanged => "account.details_changed",
            Action::AccountActivated => "account.activated",
            Action::PasswordChanged => "password.changed",
            Action::EmailQueued => "email.queued",
            Action::PasswordResetRequested => "password_reset.requested",
            Action::EmailAddressChanged => "email_address.changed",
            Action::SessionEnded => "session.ended",
            Action::OrganisationSettingsChanged => "organisation.settings_changed",
            Action::OrganisationEntered => "organisation.entered",
            Action::RoleCreated => "role.created",
            Action::RoleChanged => "role.changed",
            Action::ProfileCreated => "profile.created",
            Action::ProfileChanged => "profile.changed",
            Action::AccessGranted => "access.granted",
            Action::AccessRemoved => "access.removed",
            Action::TwoFactorEnrolled => "two_factor.enrolled",
            Action::TwoFactorReset => "two_factor.reset",
            Action::TwoFactorFailed => "two_factor.failed",
            Action::RecoveryCodeUsed => "two_factor.recovery_code_used",
            Action::RecoveryCodesRegenerated => "two_factor.recovery_codes_regenerated",
            Action::SessionsEndedByAdministrator => "sessions.ended_by_administrator",
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub action: Action,
    /// `None` files it under the target account's organisation.
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
         VALUES ($1, COALESCE($2, (SELECT organisation_id FROM users WHERE id = $4)), $3, $4, $5, $6, $7)",
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

/// Records what a signed-in person did to an account of their organisation
/// (possibly their own).
pub async fn record_by(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    actor: &super::sessions::SignedIn,
    target_user_id: i64,
    action: Action,
    detail: String,
    client_address: &str,
) -> Result<(), sqlx::Error> {
    record(
        conn,
        now,
        Entry {
            action,
            // The target's: a platform administrator acts across organisations.
            organisation_id: None,
            actor_user_id: Some(actor.user_id),
            target_user_id: Some(target_user_id),
            detail,
            client_address,
        },
    )
    .await
}
