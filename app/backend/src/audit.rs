//! The append-only audit log (the database refuses updates and deletes):
//! what an entry says (`Action`, `ActedBy`, `Subject`) and the Audit log
//! page's search. Entries are appended by units of work (`acting.rs`).
//! Entries never hold a password, token or code.

use crate::access::actor::Actor;
use crate::clock::UnixTime;

/// Writes the `Action` enum, its stored names, its descriptions and the
/// list of all of them from one table, so they cannot drift apart.
macro_rules! actions {
    ($($variant:ident = $stored:literal, $description:literal;)+) => {
        /// What happened. Stored as its name (`as_str`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action {
            $($variant,)+
        }

        impl Action {
            /// Every action, in the order the audit page offers them.
            pub const ALL: &[Action] = &[$(Action::$variant,)+];

            /// The name stored in the log.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $stored,)+
                }
            }

            /// What the entry says to a person reading the log, from its
            /// stored name.
            pub fn describe(stored: &str) -> &'static str {
                match stored {
                    $($stored => $description,)+
                    _ => "Other",
                }
            }
        }
    };
}

actions! {
    SignInSucceeded = "sign_in.succeeded", "Signed in";
    SignInFailed = "sign_in.failed", "Sign-in failed";
    SignInThrottled = "sign_in.throttled", "Sign-in refused: too many attempts";
    CurrentPasswordFailed = "current_password.failed", "Wrong current password on My profile";
    CurrentPasswordThrottled = "current_password.throttled", "Current password refused: too many attempts";
    SignedOut = "sign_out", "Signed out";
    OrganisationCreated = "organisation.created", "Organisation created";
    AccountCreated = "account.created", "Account created";
    SetupLinkCreated = "setup_link.created", "Setup link created";
    AccountDeactivated = "account.deactivated", "Account deactivated";
    AccountReactivated = "account.reactivated", "Account reactivated";
    AccountDetailsChanged = "account.details_changed", "Details changed";
    AccountActivated = "account.activated", "Account activated";
    PasswordChanged = "password.changed", "Password set";
    EmailQueued = "email.queued", "Email sent";
    PasswordResetRequested = "password_reset.requested", "Password reset requested";
    EmailAddressChanged = "email_address.changed", "Email address changed";
    EmailChangeUndone = "email_address.change_undone", "Email address change undone from the old address";
    SessionEnded = "session.ended", "Session ended";
    OrganisationSettingsChanged = "organisation.settings_changed", "Organisation settings changed";
    OrganisationEntered = "organisation.entered", "Platform administrator started working here";
    RoleCreated = "role.created", "Role created";
    RoleChanged = "role.changed", "Role changed";
    ProfileCreated = "profile.created", "Profile created";
    ProfileChanged = "profile.changed", "Profile changed";
    AccessGranted = "access.granted", "Role or profile given";
    AccessRemoved = "access.removed", "Role or profile taken away";
    TwoFactorEnrolled = "two_factor.enrolled", "Two-factor authentication set up";
    TwoFactorReset = "two_factor.reset", "Two-factor authentication reset";
    TwoFactorFailed = "two_factor.failed", "Wrong authentication code";
    RecoveryCodeUsed = "two_factor.recovery_code_used", "Signed in with a recovery code";
    RecoveryCodesRegenerated = "two_factor.recovery_codes_regenerated", "New recovery codes made";
    SessionsEndedByAdministrator = "sessions.ended_by_administrator", "All sessions ended by an administrator";
    ApiTokenCreated = "api_token.created", "API token created";
    ApiTokenRevoked = "api_token.revoked", "API token revoked";
    ApplicationRegistered = "application.registered", "Application registered";
    ApplicationChanged = "application.changed", "Application changed";
    ApplicationSecretReplaced = "application.secret_replaced", "Application secret replaced";
    ApplicationDisabled = "application.disabled", "Application disabled";
    ApplicationEnabled = "application.enabled", "Application enabled";
    ApplicationSignedIn = "application.signed_in", "Signed in to an application";
    ApplicationSignedOut = "application.signed_out", "Signed out of an application";
    RefreshTokenReused = "application.refresh_token_reused", "A used refresh token came back: the application session was ended";
    SigningKeysRotated = "signing_keys.rotated", "Token-signing keys rotated";
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

/// What an entry is about, which also says whose log it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An account; filed under its organisation.
    Account(i64),
    /// An organisation as a whole.
    Organisation(i64),
    /// Nothing known (a sign-in attempt for no account); the platform's.
    Unknown,
}

impl Subject {
    pub(crate) fn organisation_id(self) -> Option<i64> {
        match self {
            Subject::Organisation(id) => Some(id),
            Subject::Account(_) | Subject::Unknown => None,
        }
    }

    pub(crate) fn user_id(self) -> Option<i64> {
        match self {
            Subject::Account(id) => Some(id),
            Subject::Organisation(_) | Subject::Unknown => None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_action_has_its_own_stored_name_and_a_description() {
        let names: HashSet<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len(), "two actions share a name");
        for action in Action::ALL {
            assert_ne!(Action::describe(action.as_str()), "Other", "{action:?}");
        }
        assert_eq!(Action::describe("no.such_action"), "Other");
    }
}
