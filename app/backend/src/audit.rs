//! The append-only audit log (the database refuses updates and deletes).
//! Entries never hold a password, token or code.

use crate::access::actor::Actor;
use crate::clock::UnixTime;

/// What happened. Stored as the string on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    CurrentPasswordFailed,
    CurrentPasswordThrottled,
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
    EmailChangeUndone,
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
    ApiTokenCreated,
    ApiTokenRevoked,
}

impl Action {
    /// Every action, in the order the audit page offers them.
    pub const ALL: [Action; 35] = [
        Action::SignInSucceeded,
        Action::SignInFailed,
        Action::SignInThrottled,
        Action::CurrentPasswordFailed,
        Action::CurrentPasswordThrottled,
        Action::SignedOut,
        Action::OrganisationCreated,
        Action::AccountCreated,
        Action::SetupLinkCreated,
        Action::AccountDeactivated,
        Action::AccountReactivated,
        Action::AccountDetailsChanged,
        Action::AccountActivated,
        Action::PasswordChanged,
        Action::EmailQueued,
        Action::PasswordResetRequested,
        Action::EmailAddressChanged,
        Action::EmailChangeUndone,
        Action::SessionEnded,
        Action::OrganisationSettingsChanged,
        Action::OrganisationEntered,
        Action::RoleCreated,
        Action::RoleChanged,
        Action::ProfileCreated,
        Action::ProfileChanged,
        Action::AccessGranted,
        Action::AccessRemoved,
        Action::TwoFactorEnrolled,
        Action::TwoFactorReset,
        Action::TwoFactorFailed,
        Action::RecoveryCodeUsed,
        Action::RecoveryCodesRegenerated,
        Action::SessionsEndedByAdministrator,
        Action::ApiTokenCreated,
        Action::ApiTokenRevoked,
    ];

    /// What the entry says to a person reading the log.
    pub fn describe(action: &str) -> &'static str {
        match action {
            "sign_in.succeeded" => "Signed in",
            "sign_in.failed" => "Sign-in failed",
            "sign_in.throttled" => "Sign-in refused: too many attempts",
            "current_password.failed" => "Wrong current password on My profile",
            "current_password.throttled" => "Current password refused: too many attempts",
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
            "email_address.change_undone" => "Email address change undone from the old address",
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
            "api_token.created" => "API token created",
            "api_token.revoked" => "API token revoked",
            _ => "Other",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignInSucceeded => "sign_in.succeeded",
            Action::SignInFailed => "sign_in.failed",
            Action::SignInThrottled => "sign_in.throttled",
            Action::CurrentPasswordFailed => "current_password.failed",
            Action::CurrentPasswordThrottled => "current_password.throttled",
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
            Action::EmailChangeUndone => "email_address.change_undone",
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
            Action::ApiTokenCreated => "api_token.created",
            Action::ApiTokenRevoked => "api_token.revoked",
        }
    }
}

/// Who an entry is by: an account, and the API token it used, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActedBy {
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
}

impl ActedBy {
    /// Nobody signed in (a failed sign-in, a forgotten-password request).
    pub const NOBODY: ActedBy = ActedBy {
        user_id: None,
        token_id: None,
    };

    /// A person acting for themselves, in a browser.
    pub fn user(user_id: i64) -> ActedBy {
        ActedBy {
            user_id: Some(user_id),
            token_id: None,
        }
    }
}

impl From<&Actor> for ActedBy {
    fn from(actor: &Actor) -> ActedBy {
        ActedBy {
            user_id: Some(actor.user_id),
            token_id: actor.token.as_ref().map(|token| token.id),
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub action: Action,
    /// `None` files it under the target account's organisation.
    pub organisation_id: Option<i64>,
    pub by: ActedBy,
    pub target_user_id: Option<i64>,
    pub detail: String,
    pub client_address: &'a str,
}

pub async fn record<'c, E>(executor: E, now: UnixTime, entry: Entry<'_>) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, organisation_id, actor_user_id, target_user_id, action, detail, client_address, actor_token_id)
         VALUES ($1, COALESCE($2, (SELECT organisation_id FROM users WHERE id = $4)), $3, $4, $5, $6, $7, $8)",
    )
    .bind(now)
    .bind(entry.organisation_id)
    .bind(entry.by.user_id)
    .bind(entry.target_user_id)
    .bind(entry.action.as_str())
    .bind(entry.detail)
    .bind(entry.client_address)
    .bind(entry.by.token_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records what an actor did to an account of their organisation
/// (possibly their own).
pub async fn record_by(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    actor: &Actor,
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
            by: ActedBy::from(actor),
            target_user_id: Some(target_user_id),
            detail,
            client_address,
        },
    )
    .await
}

/// The Audit log page's filters, as typed (all optional).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Username or email of who acted.
    pub actor: String,
    /// Username or email of the account acted on.
    pub target: String,
    /// An action key (`Action::as_str`).
    pub action: String,
    /// First and last day, `YYYY-MM-DD` (UTC), both included.
    pub from: String,
    pub to: String,
    /// The page after this cursor (`AuditPage::next`).
    pub after: String,
}

/// One line of the audit log page.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: UnixTime,
    pub action: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub client_address: String,
}

pub const AUDIT_PAGE_SIZE: i64 = 50;

/// A page of an organisation's audit log, newest first, and the cursor of
/// the next page. Bad filters are field errors.
pub async fn search(
    pool: &sqlx::AnyPool,
    organisation_id: i64,
    filter: &AuditFilter,
) -> Result<(Vec<AuditRow>, Option<String>), domain::AppError> {
    use crate::clock::parse_day;
    use domain::FieldError;
    let mut errors = Vec::new();
    let action = filter.action.trim();
    if !action.is_empty() && !Action::ALL.iter().any(|a| a.as_str() == action) {
        errors.push(FieldError::new("action", "Choose an action from the list"));
    }
    let mut day = |field: &str, text: &str| match text.trim() {
        "" => None,
        text => parse_day(text)
            .map_err(|_| errors.push(FieldError::new(field, "Enter a date like 2026-11-23")))
            .ok(),
    };
    let from = day("from", &filter.from);
    let to = day("to", &filter.to).map(|start| start + 24 * 3600);
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        errors.push(FieldError::new(
            "to",
            "The last day must not be before the first day",
        ));
    }
    if !errors.is_empty() {
        return Err(domain::AppError::Validation(errors));
    }
    // The cursor is "<at>.<id>" of the last row shown; anything else starts again.
    let (after_at, after_id) = filter
        .after
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.parse::<i64>().ok()?)))
        .unwrap_or((i64::MAX, i64::MAX));
    let person = |text: &str| text.trim().to_lowercase();
    let mut rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.id, a.at, a.action,
                CASE WHEN ua.id IS NULL THEN NULL ELSE ua.first_name || ' ' || ua.last_name || ' (' || ua.username || ')'
                     || CASE WHEN tk.id IS NULL THEN '' ELSE ' with token “' || tk.name || '”' END END AS actor,
                CASE WHEN ut.id IS NULL THEN NULL ELSE ut.first_name || ' ' || ut.last_name || ' (' || ut.username || ')' END AS target,
                a.detail, a.client_address
         FROM audit_log a
         LEFT JOIN users ua ON ua.id = a.actor_user_id
         LEFT JOIN api_tokens tk ON tk.id = a.actor_token_id
         LEFT JOIN users ut ON ut.id = a.target_user_id
         WHERE a.organisation_id = $1
           AND ($2 = '' OR lower(ua.username) = $2 OR ua.email_normalized = $2)
           AND ($3 = '' OR lower(ut.username) = $3 OR ut.email_normalized = $3)
           AND ($4 = '' OR a.action = $4)
           AND a.at >= $5 AND a.at < $6
           AND (a.at < $7 OR (a.at = $7 AND a.id < $8))
         ORDER BY a.at DESC, a.id DESC
         LIMIT $9",
    )
    .bind(organisation_id)
    .bind(person(&filter.actor))
    .bind(person(&filter.target))
    .bind(action)
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .bind(after_at)
    .bind(after_id)
    .bind(AUDIT_PAGE_SIZE + 1)
    .fetch_all(pool)
    .await?;
    let next = (rows.len() as i64 > AUDIT_PAGE_SIZE).then(|| {
        rows.truncate(AUDIT_PAGE_SIZE as usize);
        rows.last().map(|r| format!("{}.{}", r.at, r.id))
    });
    Ok((rows, next.flatten()))
}
