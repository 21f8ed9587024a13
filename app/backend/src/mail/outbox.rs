//! The `email_outbox` table: messages are written in the transaction of the
//! change that caused them, claimed by a worker for a while, then marked sent
//! or given a later attempt.

use crate::clock::UnixTime;
use crate::db::{Backend, Db};
use crate::mail::templates::MailContent;
use domain::Email;
use lettre::message::Mailbox;

/// How long a worker holds the messages it claimed before another may take
/// them (if it died mid-batch, say).
pub const LOCK_SECONDS: i64 = 120;

/// The first retry waits this long; each further one twice as long...
const FIRST_RETRY_SECONDS: i64 = 30;
/// ...up to this, and then it keeps trying at this pace, for ever.
const MAX_RETRY_SECONDS: i64 = 3600;

/// A message for one person, ready to be queued.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub organisation_id: Option<i64>,
    /// The recipient's address.
    pub to: Email,
    /// The recipient's name as it should appear in the `To` header (may be empty).
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl OutgoingEmail {
    /// A message with the subject and bodies of a rendered template.
    pub fn new(
        organisation_id: Option<i64>,
        to: Email,
        to_name: impl Into<String>,
        content: MailContent,
    ) -> Self {
        OutgoingEmail {
            organisation_id,
            to,
            to_name: to_name.into(),
            subject: content.subject,
            text: content.text,
            html: content.html,
        }
    }

    /// The `recipient` column: `"Siân O’Brien" <sian@example.org>`, or the
    /// bare address when the name cannot be written so that it reads back.
    fn recipient(&self) -> String {
        let address = self.to.as_str();
        let name = self.to_name.trim();
        if name.is_empty() {
            return address.to_owned();
        }
        let Ok(parsed) = address.parse() else {
            return address.to_owned();
        };
        let mailbox = Mailbox::new(Some(name.to_owned()), parsed).to_string();
        match mailbox.parse::<Mailbox>() {
            Ok(back) if back.name.as_deref() == Some(name) => mailbox,
            _ => address.to_owned(),
        }
    }
}

/// A message a worker has claimed for delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedEmail {
    pub id: i64,
    pub organisation_id: Option<i64>,
    /// An RFC 5322 mailbox: `Name <address>` or a bare address.
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: UnixTime,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// Queues `email` inside the caller's transaction, so it is sent if and only
/// if the change that caused it is committed. Returns the outbox id.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    email: &OutgoingEmail,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO email_outbox
             (organisation_id, recipient, subject, body_text, body_html, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         RETURNING id",
    )
    .bind(email.organisation_id)
    .bind(email.recipient())
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// How many messages are waiting to be sent (for metrics).
pub async fn outbox_depth(db: &Db) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL")
            .fetch_one(&db.pool)
            .await?;
    Ok(count)
}

/// Takes up to `limit` due messages for [`LOCK_SECONDS`], oldest first, so
/// that no other worker takes them meanwhile. On PostgreSQL rows another
/// worker is claiming at this moment are skipped, not waited for; on SQLite
/// the write lock (`BEGIN IMMEDIATE`) makes claims take turns.
pub(crate) async fn claim_due(
    db: &Db,
    now: UnixTime,
    limit: i64,
) -> Result<Vec<QueuedEmail>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE email_outbox SET locked_until = $2
         WHERE id IN (
             SELECT id FROM email_outbox
             WHERE sent_at IS NULL AND next_attempt_at <= $1
               AND (locked_until IS NULL OR locked_until <= $1)
             ORDER BY next_attempt_at, id
             LIMIT $3
             {lock})
         RETURNING id, organisation_id, recipient, subject, body_text, body_html, created_at, attempts"
    );
    let mut tx = db.begin_write().await?;
    let mut claimed: Vec<QueuedEmail> = sqlx::query_as(&sql)
        .bind(now)
        .bind(now + LOCK_SECONDS)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// Marks a message sent and blanks its bodies: once delivered, the link it
/// carried lives only in the recipient's mailbox, not in the database.
pub(crate) async fn mark_sent(db: &Db, id: i64, now: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_outbox SET sent_at = $1, locked_until = NULL, body_text = '', body_html = ''
         WHERE id = $2 AND sent_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Housekeeping: forgets messages sent before `cutoff` (their bodies are
/// blank already; the audit log keeps that each was sent).
pub async fn forget_sent_before(db: &Db, cutoff: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM email_outbox WHERE sent_at IS NOT NULL AND sent_at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records a failed attempt and when to try again; returns that time.
pub(crate) async fn mark_failed(
    db: &Db,
    message: &QueuedEmail,
    now: UnixTime,
    error: &str,
) -> Result<UnixTime, sqlx::Error> {
    let next_attempt_at = now + backoff_seconds(message.attempts + 1);
    sqlx::query(
        "UPDATE email_outbox
         SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, locked_until = NULL
         WHERE id = $3 AND sent_at IS NULL",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(message.id)
    .execute(&db.pool)
    .await?;
    Ok(next_attempt_at)
}

/// Gives a claimed message back untried, for the next pass.
pub(crate) async fn release(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE email_outbox SET locked_until = NULL WHERE id = $1 AND sent_at IS NULL")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, 4 min, …
/// capped at 1 hour.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 16);
    (FIRST_RETRY_SECONDS << doublings).min(MAX_RETRY_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(name: &str) -> OutgoingEmail {
        OutgoingEmail {
            organisation_id: None,
            to: Email::parse("sian@riverside.example").expect("address"),
            to_name: name.into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        }
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(backoff_seconds).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff_seconds(1000), 3600);
        assert_eq!(backoff_seconds(0), 30);
    }

    #[test]
    fn the_recipient_keeps_a_name_that_reads_back_unchanged() {
        for name in [
            "Siân O’Brien",
            "Anne-Marie d'Arcy",
            "Smith, John \"Jr\"",
            "<script>alert(1)</script>",
            "back\\slash",
        ] {
            let recipient = email(name).recipient();
            let mailbox: Mailbox = recipient.parse().expect(&recipient);
            assert_eq!(mailbox.name.as_deref(), Some(name), "{recipient}");
            assert_eq!(mailbox.email.to_string(), "sian@riverside.example");
        }
    }

    #[test]
    fn without_a_name_the_recipient_is_the_bare_address() {
        assert_eq!(email("  ").recipient(), "sian@riverside.example");
    }
}
