//! The audit log, as its page shows it.

use serde::{Deserialize, Serialize};

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub rows: Vec<AuditLogLine>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
    /// Every action as `(key, description)`, for the filter.
    pub actions: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogLine {
    pub at: String,
    pub what: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub client_address: String,
}
