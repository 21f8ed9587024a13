//! An API user's tokens, as the *API tokens* section shows them.

use serde::{Deserialize, Serialize};

/// The token form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    /// `YYYY-MM-DD`, or empty for a token that does not expire.
    pub expires_on: String,
}

/// A line of the API user's token list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenLine {
    pub id: i64,
    pub name: String,
    /// The token's first characters, e.g. `gat_1a2b3c4d`.
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    /// "Active", "Expired", "Revoked …".
    pub status: String,
    /// Still works (neither revoked nor expired): it can be revoked.
    pub live: bool,
}

/// The *API tokens* section of an API user's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokens {
    pub tokens: Vec<ApiTokenLine>,
    /// The token made a moment ago, shown this once.
    pub new_token: Option<String>,
    /// Why the viewer may not create or revoke this API user's tokens (it
    /// holds permissions they do not).
    pub refusal: Option<String>,
}
