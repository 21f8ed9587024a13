//! The `email_outbox` table: messages are written in the transaction of the
//! change that caused them, claimed by a worker for a while, then marked
//! sent, given a later attempt, or given up on: when the server refused the
//! message for good, or after [`GIVE_UP_AFTER_SECONDS`] of failures, when
//! the usual link in it has expired. Where each stands is shown on the
//! account's page and, for every organisation, to platform administrators.

use crate::clock::{UnixTime, format_utc};
use crate::db::{Backend, Db};
use crate::mail::templates::MailContent;
use domain::Email;
use domain::wire::{DeliveryState, EmailDelivery};
use lettre::message::Mailbox;

/// How long a worker holds the messages it claimed before another may take
/// them (if it died mid-batch, say).
pub const LOCK_SECONDS: i64 = 120;

/// The first retry waits this long; each further one twice as long...
const FIRST_RETRY_SECONDS: i64 = 30;
/// ...up to this, and then it keeps trying at this pace...
const MAX_RETRY_SECONDS: i64 = 3600;
/// ...until this long after it was queued: the usual life of a welcome
/// link (72 hours), and far beyond a set-password link's.
pub const GIVE_UP_AFTER_SECONDS: i64 = 72 * 3600;

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
    /// The account the message is about and its kind (`welcome`,
    /// `set_password`, …), for that account's page.
    pub about: Option<(i64, &'static str)>,
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
            about: None,
        }
    }

    /// Marks the message as being about account `user_id`, of `kind`.
    pub fn about(self, user_id: i64, kind: &'static str) -> Self {
        OutgoingEmail {
            about: Some((user_id, kind)),
            ..self
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
             (organisation_id, recipient, subject, body_text, body_html, created_at, next_attempt_at,
              user_id, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
         RETURNING id",
    )
    .bind(email.organisation_id)
    .bind(email.recipient())
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(now)
    .bind(email.about.map(|(user_id, _)| user_id))
    .bind(email.about.map(|(_, kind)| kind))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// How many messages are still to be sent (not sent, not given up on).
pub async fn outbox_depth(db: &Db) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL AND given_up_at IS NULL",
    )
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
             WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1
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

/// How an attempt failed, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The mail server could not be reached, or refused the session.
    Unavailable,
    /// The mail server refused this message.
    Rejected,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Failure::Unavailable => "unavailable",
            Failure::Rejected => "rejected",
        }
    }
}

/// Records a failed attempt: returns when it is tried again, or `None`
/// when it is given up on (the failure is `permanent`, or the message has
/// waited [`GIVE_UP_AFTER_SECONDS`]).
pub(crate) async fn mark_failed(
    db: &Db,
    message: &QueuedEmail,
    now: UnixTime,
    error: &str,
    failure: Failure,
    permanent: bool,
) -> Result<Option<UnixTime>, sqlx::Error> {
    let give_up = permanent || now - message.created_at >= GIVE_UP_AFTER_SECONDS;
    let next_attempt_at = now + backoff_seconds(message.attempts + 1);
    sqlx::query(
        "UPDATE email_outbox
         SET attempts = attempts + 1, last_error = $1, last_failure = $2, next_attempt_at = $3,
             given_up_at = $4, locked_until = NULL
         WHERE id = $5 AND sent_at IS NULL",
    )
    .bind(error)
    .bind(failure.as_str())
    .bind(next_attempt_at)
    .bind(give_up.then_some(now))
    .bind(message.id)
    .execute(&db.pool)
    .await?;
    Ok((!give_up).then_some(next_attempt_at))
}

/// Where one message stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub kind: Option<String>,
    pub created_at: UnixTime,
    pub sent_at: Option<UnixTime>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_failure: Option<String>,
    pub next_attempt_at: UnixTime,
    pub given_up_at: Option<UnixTime>,
}

impl Delivery {
    /// As a page shows it. An organisation's administrators see why the
    /// server refused a message (a wrong address, say), but not the mail
    /// server's own troubles, which are the operator's: `for_operator`
    /// shows those too.
    pub fn shown(&self, for_operator: bool) -> EmailDelivery {
        let what = match self.kind.as_deref() {
            Some("welcome") => "Welcome email",
            Some("set_password") => "Set-password email",
            Some("email_change") => "Email address confirmation",
            Some("email_change_undo") => "Notice of an email address change",
            _ => "Email",
        };
        let server_unavailable =
            self.last_failure.as_deref() == Some(Failure::Unavailable.as_str());
        let reason = match &self.last_error {
            Some(error) if for_operator || !server_unavailable => error.clone(),
            _ => "The mail server could not be reached.".to_owned(),
        };
        let state = match (self.sent_at, self.given_up_at) {
            (Some(at), _) => DeliveryState::Sent { at: format_utc(at) },
            (None, Some(at)) => DeliveryState::Failed {
                attempts: self.attempts,
                reason,
                at: format_utc(at),
            },
            (None, None) if self.attempts == 0 => DeliveryState::Waiting,
            (None, None) => DeliveryState::Retrying {
                attempts: self.attempts,
                reason,
                next_attempt_at: format_utc(self.next_attempt_at),
            },
        };
        EmailDelivery {
            what: what.to_owned(),
            queued_at: format_utc(self.created_at),
            state,
        }
    }
}

/// The columns of [`Delivery`], of `email_outbox m`.
const DELIVERY_COLUMNS: &str = "m.kind, m.created_at, m.sent_at, m.attempts, m.last_error, \
     m.last_failure, m.next_attempt_at, m.given_up_at";

/// The newest message about account `user_id`, if one is still kept.
pub async fn latest_about(db: &Db, user_id: i64) -> Result<Option<Delivery>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM email_outbox m
         WHERE m.user_id = $1 ORDER BY m.id DESC LIMIT 1"
    ))
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await
}

/// A message that failed at least once and is not sent, with who it is for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Failing {
    pub organisation_name: Option<String>,
    pub recipient: String,
    pub subject: String,
    #[sqlx(flatten)]
    pub delivery: Delivery,
}

/// Up to `limit` messages failing now or given up on, newest first, in
/// every organisation.
pub async fn failing(db: &Db, limit: i64) -> Result<Vec<Failing>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT o.name AS organisation_name, m.recipient, m.subject, {DELIVERY_COLUMNS}
         FROM email_outbox m LEFT JOIN organisations o ON o.id = m.organisation_id
         WHERE m.sent_at IS NULL AND m.attempts > 0
         ORDER BY m.id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
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
            about: None,
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
