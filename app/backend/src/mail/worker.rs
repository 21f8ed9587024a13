//! The delivery worker: every few seconds it claims the messages that are due,
//! sends them, and records each outcome. A failed message waits longer after
//! each failure (30 s doubling to 1 hour); it is given up on, and shown as
//! failed, when the server refuses it for good or after 72 hours
//! ([`outbox::GIVE_UP_AFTER_SECONDS`]), and it is never deleted unseen.

use crate::clock::{Clock, Stopwatch, UnixTime};
use crate::db::Db;
use crate::mail::outbox::{self, Failure, QueuedEmail};
use crate::mail::transport::{Mailer, SendError};
use crate::metrics::{Metrics, Outbox};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Messages claimed by one pass.
pub const BATCH_SIZE: i64 = 20;
/// A pass starts no new send after this long, so it finishes well inside its
/// claim ([`outbox::LOCK_SECONDS`]); the rest is given back for the next pass.
const SEND_BUDGET: Duration = Duration::from_secs(60);
/// From this many failed attempts on, each further failure is logged as an error.
const LOUD_AFTER_ATTEMPTS: i64 = 8;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Attempts that failed (each message is retried later unless given up).
    pub failed: usize,
    /// Of those, messages given up on.
    pub given_up: usize,
    /// Claimed but given back untried (the pass ran out of time).
    pub released: usize,
}

/// One pass: claims up to [`BATCH_SIZE`] due messages, sends them, and
/// records each outcome. When the server is unavailable (no connection,
/// TLS, authentication, timeout) the rest of the batch is not tried and
/// counts as failed with the same error. A rejected message fails alone.
pub async fn deliver_due(
    db: &Db,
    mailer: &Mailer,
    now: UnixTime,
) -> Result<DeliveryReport, sqlx::Error> {
    let claimed = outbox::claim_due(db, now, BATCH_SIZE).await?;
    let started = Stopwatch::start();
    let mut report = DeliveryReport::default();
    let mut outage: Option<SendError> = None;
    for message in &claimed {
        let result = match &outage {
            Some(error) => Err(error.clone()),
            None if started.elapsed() > SEND_BUDGET => {
                outbox::release(db, message.id).await?;
                report.released += 1;
                continue;
            }
            None => mailer.send(message, now).await,
        };
        match result {
            Ok(()) => {
                outbox::mark_sent(db, message.id, now).await?;
                report.sent += 1;
            }
            Err(error) => {
                let failure = if error.server_unavailable {
                    Failure::Unavailable
                } else {
                    Failure::Rejected
                };
                let retry_at =
                    outbox::mark_failed(db, message, now, &error.message, failure, error.permanent)
                        .await?;
                report.failed += 1;
                report.given_up += usize::from(retry_at.is_none());
                if outage.is_none() {
                    log_failure(message, &error, now, retry_at);
                }
                if error.server_unavailable && outage.is_none() {
                    outage = Some(error);
                }
            }
        }
    }
    if let Some(error) = outage {
        let most_attempts = claimed.iter().map(|m| m.attempts + 1).max().unwrap_or(0);
        if most_attempts >= LOUD_AFTER_ATTEMPTS {
            tracing::error!(
                messages = report.failed,
                most_attempts,
                %error,
                "mail server still unavailable; the messages wait and are retried"
            );
        } else {
            tracing::warn!(
                messages = report.failed,
                %error,
                "mail server unavailable; the messages wait and are retried"
            );
        }
    }
    Ok(report)
}

fn log_failure(
    message: &QueuedEmail,
    error: &SendError,
    now: UnixTime,
    retry_at: Option<UnixTime>,
) {
    let attempts = message.attempts + 1;
    let Some(retry_at) = retry_at else {
        tracing::error!(
            outbox_id = message.id,
            attempts,
            %error,
            "mail not delivered and given up on"
        );
        return;
    };
    let retry_in_seconds = retry_at - now;
    if attempts >= LOUD_AFTER_ATTEMPTS {
        tracing::error!(
            outbox_id = message.id,
            attempts,
            retry_in_seconds,
            %error,
            "mail still not delivered"
        );
    } else {
        tracing::warn!(
            outbox_id = message.id,
            attempts,
            retry_in_seconds,
            %error,
            "mail not delivered; will retry"
        );
    }
}

/// Delivers mail until `shutdown` completes (pass `std::future::pending()` to
/// run for ever): see [`crate::background::repeat`].
pub async fn run(
    db: Db,
    mailer: Mailer,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) {
    tracing::info!("mail delivery: {}", mailer.describe());
    crate::background::repeat("mail delivery", shutdown, move || {
        let (db, mailer, now) = (db.clone(), mailer.clone(), clock.now());
        let metrics = metrics.clone();
        async move {
            let report = deliver_due(&db, &mailer, now)
                .await
                .map_err(|e| format!("database: {e}"))?;
            metrics.delivered(Outbox::Mail, report.sent, report.failed);
            if report != DeliveryReport::default() {
                tracing::debug!(?report, "mail delivery pass");
            }
            Ok(i64::try_from(report.sent).unwrap_or(0) >= BATCH_SIZE)
        }
    })
    .await;
}
