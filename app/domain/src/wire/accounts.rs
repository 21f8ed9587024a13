//! People, organisations and setup, as the pages show them.

use crate::{LinkLifetimes, Permission};
use serde::{Deserialize, Serialize};

/// The signed-in person, for the shell and *My profile*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub initials: String,
    pub organisation_name: String,
    /// Where administration happens now (differs from `organisation_name`
    /// only for a platform administrator working elsewhere).
    pub working_organisation_name: String,
    pub is_platform_admin: bool,
    pub permissions: Vec<Permission>,
}

impl CurrentUser {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// What a setup link will create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupLinkInfo {
    pub creates_organisation: bool,
    pub organisation_name: Option<String>,
}

/// The setup form as typed; parsed on the server by the domain types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub organisation_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    /// *Create username from name and surname*: the server derives it from
    /// the names (the browser shows the same result as they type).
    pub generate_username: bool,
    pub initials: String,
    pub password: String,
}

/// Live check of a username on the Add a user form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsernameCheck {
    /// The username checked (generated from the names when that box is ticked).
    pub username: String,
    /// Why it cannot be used as typed, if it cannot.
    pub problem: Option<String>,
    pub available: bool,
    /// Free alternatives, when it is taken.
    pub alternatives: Vec<String>,
}

/// What the Add a user form shows while it is filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserHints {
    /// The username's availability, once there is one to check.
    pub username: Option<UsernameCheck>,
    /// Accounts of the organisation that look like this one.
    pub similar: Vec<UserSummary>,
}

/// An account in a short list (similar accounts, search results).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub state: String,
}

/// Everything the user page shows to an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub initials: String,
    pub is_api_user: bool,
    pub state: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub activated_at: Option<String>,
    pub deactivated_at: Option<String>,
    /// The newest welcome email: when it was sent and when its link expires.
    pub welcome_sent_at: Option<String>,
    pub welcome_expires_at: Option<String>,
    pub welcome_expired: bool,
    /// Where the newest email about the account stands.
    pub last_email: Option<EmailDelivery>,
    /// Details can be edited by administrators only while pending.
    pub details_editable: bool,
    /// The viewer may change this account: they hold `users.manage` and the
    /// account is within their reach.
    pub can_manage: bool,
    /// Why a viewer holding `users.manage` may not change this account.
    pub refusal: Option<String>,
    pub audit: Vec<AuditLine>,
}

/// Where one email stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailDelivery {
    /// What it is: "Welcome email", "Set-password email", …
    pub what: String,
    pub queued_at: String,
    pub state: DeliveryState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Not tried yet.
    Waiting,
    Sent {
        at: String,
    },
    /// Failed; it is tried again at `next_attempt_at`.
    Retrying {
        attempts: i64,
        reason: String,
        next_attempt_at: String,
    },
    /// Given up on at `at`: a new email has to be sent.
    Failed {
        attempts: i64,
        reason: String,
        at: String,
    },
}

/// An email that is failing or failed, for platform administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndeliveredEmail {
    pub organisation: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub delivery: EmailDelivery,
}

/// One line of an account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: String,
    pub what: String,
    pub by: Option<String>,
    pub detail: String,
    pub client_address: String,
}

/// What a person opening a welcome or set-password link sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLinkInfo {
    pub is_welcome: bool,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub organisation_name: String,
}

/// A page of the Users list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListPage {
    pub rows: Vec<UserListItem>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// "1 account", "42 accounts", "1,000+ accounts".
    pub total: String,
    pub can_add: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListItem {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub state: String,
    pub is_api_user: bool,
    pub created_at: String,
}

/// *My profile*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyProfile {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub initials: String,
    pub organisation_name: String,
    /// A new address waiting for its confirmation link to be used.
    pub pending_email: Option<String>,
    /// Changes of the email address then also take an authentication code.
    pub two_factor_enrolled: bool,
    pub sessions: Vec<MySession>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySession {
    pub id: i64,
    pub device: String,
    pub client_address: String,
    pub started: String,
    pub last_active: String,
    /// The session this page is being shown in.
    pub current: bool,
}

/// A line of the platform administrator's Organisations page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationSummary {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub active: i64,
    pub pending: i64,
    pub deactivated: i64,
    /// The organisation this session administers now.
    pub is_working_here: bool,
    /// The platform administrator's own organisation.
    pub is_own: bool,
}

/// The Organisation settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationSettings {
    pub name: String,
    pub lifetimes: LinkLifetimes,
}

/// The page of an undo link sent to the old address on an email change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeUndo {
    /// The address the link was sent to, which it keeps.
    pub keep: String,
    /// The address the change was for (empty when unknown).
    pub moving_to: String,
}
