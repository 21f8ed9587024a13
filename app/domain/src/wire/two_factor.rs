//! Two-factor authentication: enrolment, recovery codes and what a person
//! and their administrators see of it.

use serde::{Deserialize, Serialize};

/// What the enrolment page shows. The key is secret: it is shown only to
/// the person enrolling, on this page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// The base32 key in groups of four, to type into an app.
    pub key: String,
    /// `otpauth://totp/…`, which the QR code holds.
    pub uri: String,
    /// The QR code, an SVG drawn on the server, as a `data:` URL.
    pub qr_code: String,
    pub issuer: String,
    pub account_name: String,
    /// The person's permissions require it and nothing else is open until done.
    pub required: bool,
    /// They had enrolled before and are moving to a new device.
    pub again: bool,
}

/// Recovery codes just made, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesToKeep {
    pub codes: Vec<String>,
    /// The codes as a text file, for a download link.
    pub download_url: String,
}

/// A person's two-factor authentication, for *My profile*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorState {
    pub enrolled_since: Option<String>,
    pub recovery_codes_left: i64,
    /// Their permissions require it.
    pub required: bool,
}

/// An account's two-factor authentication and open sessions, for its administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSecurity {
    pub enrolled_since: Option<String>,
    pub recovery_codes_left: i64,
    pub required: bool,
    pub sessions: Vec<SessionLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLine {
    pub device: String,
    pub client_address: String,
    pub started: String,
    pub last_active: String,
    /// Signed in with the password, the authentication code still to come.
    pub awaiting_code: bool,
}
