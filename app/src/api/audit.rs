//! The Audit log page's server function (permission `audit.view`).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    crate::backend::audit::{self, Action, AuditFilter},
    crate::backend::clock::format_utc,
    crate::backend::context,
    crate::domain::Permission,
};

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

#[server(prefix = "/fn", endpoint = "audit_log")]
pub async fn audit_log(
    #[server(default)] actor: String,
    #[server(default)] target: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] after: String,
) -> Result<AuditLogPage, AppError> {
    let viewer = context::require(Permission::AuditView).await?;
    let filter = AuditFilter {
        actor,
        target,
        action,
        from,
        to,
        after,
    };
    let (rows, next) = audit::search(
        &context::state()?.db.pool,
        viewer.working_organisation_id,
        &filter,
    )
    .await?;
    Ok(AuditLogPage {
        rows: rows
            .into_iter()
            .map(|row| AuditLogLine {
                at: format_utc(row.at),
                what: Action::describe(&row.action).to_owned(),
                actor: row.actor,
                target: row.target,
                detail: row.detail,
                client_address: row.client_address,
            })
            .collect(),
        next,
        actions: Action::ALL
            .iter()
            .map(|a| {
                (
                    a.as_str().to_owned(),
                    Action::describe(a.as_str()).to_owned(),
                )
            })
            .collect(),
    })
}
