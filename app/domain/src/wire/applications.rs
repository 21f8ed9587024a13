//! Connected applications, as the *Applications* pages show them.

use crate::ApplicationForm;
use serde::{Deserialize, Serialize};

/// A line of the organisation's application list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationLine {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    /// "Confidential" or "Public".
    pub kind: String,
    /// "Everyone in the organisation", or the chosen roles and profiles.
    pub audience: String,
    pub requires_two_factor: bool,
    pub disabled: bool,
    /// People signed in to it now.
    pub signed_in: i64,
}

/// A role or profile an application may be opened to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceChoice {
    pub id: i64,
    pub name: String,
    pub chosen: bool,
}

/// One application's page: its registration as the form shows it, and
/// what only this page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetail {
    /// `None` on the page that registers a new one.
    pub id: Option<i64>,
    pub client_id: Option<String>,
    pub form: ApplicationForm,
    pub roles: Vec<AudienceChoice>,
    pub profiles: Vec<AudienceChoice>,
    pub disabled: bool,
    /// When the current secret was made (confidential applications).
    pub secret_set: Option<String>,
    /// The secret made a moment ago, shown this once.
    pub new_secret: Option<String>,
    /// Where applications find everything else: the discovery document.
    pub discovery_url: String,
}

/// An application a person is signed in to, on their page or My profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSignIn {
    pub id: i64,
    pub application: String,
    pub since: String,
    pub last_used: String,
}
