//! Work the server does on its own, in passes: delivering mail and
//! back-channel logout notices.

use crate::db::Db;
use crate::metrics::{Outbox, Undelivered};
use std::future::Future;
use std::time::Duration;
use tokio::time::MissedTickBehavior;

/// Time between passes.
pub const PASS_INTERVAL: Duration = Duration::from_secs(2);

/// Runs `pass` every [`PASS_INTERVAL`] until `shutdown` completes (pass
/// `std::future::pending()` to run for ever), straight away again while a
/// pass says there may be more (it took a full batch). Errors are logged,
/// never fatal; a pass that panicked is logged and the next one runs. A
/// pass under way is finished, not cut.
pub async fn repeat<P, F>(what: &'static str, shutdown: impl Future<Output = ()> + Send, pass: P)
where
    P: Fn() -> F,
    F: Future<Output = Result<bool, String>> + Send + 'static,
{
    let mut interval = tokio::time::interval(PASS_INTERVAL);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = interval.tick() => {}
        }
        loop {
            match tokio::spawn(pass()).await {
                Ok(Ok(true)) => continue,
                Ok(Ok(false)) => break,
                Ok(Err(error)) => {
                    tracing::error!(%error, "{what}: pass failed");
                    break;
                }
                Err(error) => {
                    tracing::error!(%error, "{what}: pass panicked");
                    break;
                }
            }
        }
    }
    tracing::info!("{what} stopped");
}

/// How many messages of `outbox` wait for their first attempt, are being
/// retried, or were given up on, for the metrics. Both outboxes keep these
/// columns alike.
pub async fn undelivered(
    db: &Db,
    outbox: Outbox,
) -> Result<Vec<(Outbox, Undelivered, i64)>, sqlx::Error> {
    let table = match outbox {
        Outbox::Mail => "email_outbox",
        Outbox::Logout => "logout_outbox",
    };
    let counts: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT CAST(CASE WHEN given_up_at IS NOT NULL THEN 2 WHEN attempts > 0 THEN 1 ELSE 0 END AS BIGINT),
                COUNT(*)
         FROM {table} WHERE sent_at IS NULL GROUP BY 1"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(counts
        .into_iter()
        .map(|(state, count)| {
            let state = match state {
                2 => Undelivered::Failed,
                1 => Undelivered::Retrying,
                _ => Undelivered::Waiting,
            };
            (outbox, state, count)
        })
        .collect())
}
