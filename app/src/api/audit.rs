//! The Audit log page's server function (permission `audit.view`).

use domain::AppError;
use domain::wire::AuditLogPage;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context,
    backend::audit::{self, Action, AuditFilter},
    backend::clock::format_utc,
    domain::Permission,
    domain::wire::AuditLogLine,
};

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
