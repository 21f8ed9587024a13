//! What server functions send to the browser. Nothing secret is in here.

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
    pub is_platform_admin: bool,
}

impl CurrentUser {
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
