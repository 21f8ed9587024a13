//! How a queued message leaves: over SMTP (lettre, pooled connections, TLS by
//! rustls), or, with no SMTP server configured, as an `.eml` file under the
//! data directory (named in the log), so a first run needs no mail server.

use crate::clock::UnixTime;
use crate::config::CheckedSettings;
use crate::mail::outbox::QueuedEmail;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Connecting to the SMTP server may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Sending one message (connection, TLS, every command, the data) may take
/// this long; lettre itself only bounds the connect.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Open connections kept for the next messages.
const POOL_SIZE: u32 = 4;
const POOL_IDLE: Duration = Duration::from_secs(60);
/// `last_error` is kept short.
const MAX_ERROR_CHARS: usize = 300;

/// Delivers messages; cheap to clone (shared connections).
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(Arc<Smtp>),
    Files(PathBuf),
}

struct Smtp {
    /// Kept to build a fresh pool after a send timed out. Holds the password:
    /// never logged, never shown.
    url: Url,
    /// Where the log says mail goes: `host:port`, no credentials.
    server: String,
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
}

/// Why a message was not delivered; short and free of secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// The server could not be reached or refused everything (connection,
    /// TLS, authentication, timeout): the rest of the batch would fail too.
    pub server_unavailable: bool,
    /// Trying again cannot help: the server refused this message for good
    /// (a 5xx reply about it), or it cannot be written at all.
    pub permanent: bool,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl SendError {
    fn message(text: impl std::fmt::Display, permanent: bool) -> Self {
        SendError {
            message: shorten(&text.to_string()),
            server_unavailable: false,
            permanent,
        }
    }

    fn unavailable(text: impl std::fmt::Display) -> Self {
        SendError {
            message: shorten(&text.to_string()),
            server_unavailable: true,
            permanent: false,
        }
    }

    fn from_smtp(error: &lettre::transport::smtp::Error) -> Self {
        // Replies that concern the session rather than this message: service
        // closing (421), TLS unavailable (454), authentication (530, 534, 535, 538).
        let session_reply = error
            .status()
            .is_some_and(|code| matches!(u16::from(code), 421 | 454 | 530 | 534 | 535 | 538));
        let no_reply = error.status().is_none() && !error.is_client();
        if session_reply || no_reply {
            SendError::unavailable(error)
        } else {
            SendError::message(error, error.is_permanent())
        }
    }
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("delivers", &self.describe())
            .finish()
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is set, otherwise `.eml` files in `<data_dir>/mail`.
    /// The sender is the `mail_from` setting, or `Gatehouse <no-reply@HOST>`,
    /// HOST being the public URL's.
    pub fn from_settings(settings: &CheckedSettings) -> Result<Mailer, String> {
        let from = match &settings.mail_from {
            Some(from) => from.clone(),
            None => default_from(&settings.public_url)?,
        };
        match &settings.smtp_url {
            Some(url) => Mailer::smtp(url, from),
            None => Ok(Mailer::files(settings.data_dir.join("mail"), from)),
        }
    }

    /// `smtp://user:pass@host:port` (plain; `?tls=required` or
    /// `?tls=opportunistic` for STARTTLS) or `smtps://…` (TLS from the start).
    /// Call it inside the Tokio runtime: the connection pool lives there.
    pub fn smtp(url: &Url, from: Mailbox) -> Result<Mailer, String> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("the SMTP mailer must be built inside the Tokio runtime".into());
        }
        let server = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port()
                .map_or_else(|| "default port".into(), |p| p.to_string())
        );
        let transport = smtp_transport(url)?;
        Ok(Mailer {
            from,
            transport: Transport::Smtp(Arc::new(Smtp {
                url: url.clone(),
                server,
                transport: Mutex::new(transport),
            })),
        })
    }

    /// Writes each message to `dir` as `<outbox id>-<time>.eml`.
    pub fn files(dir: PathBuf, from: Mailbox) -> Mailer {
        Mailer {
            from,
            transport: Transport::Files(dir),
        }
    }

    /// For the start-up log: where mail goes, without credentials.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(smtp) => format!("SMTP server {}", smtp.server),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    pub fn is_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// The `From` of every message.
    pub fn from_address(&self) -> &Mailbox {
        &self.from
    }

    /// Delivers one queued message; `now` is its `Date`.
    pub async fn send(&self, queued: &QueuedEmail, now: UnixTime) -> Result<(), SendError> {
        let message = self.build(queued, now)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await,
            Transport::Files(dir) => write_file(dir, queued, now, &message).await,
        }
    }

    /// The RFC 5322 message: multipart/alternative (text, then HTML).
    pub fn build(&self, queued: &QueuedEmail, now: UnixTime) -> Result<Message, SendError> {
        let to: Mailbox = queued
            .recipient
            .parse()
            .map_err(|e| SendError::message(format!("recipient address refused: {e}"), true))?;
        let date = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
        // The same id on every attempt, so a receiver can drop a duplicate
        // (a send that succeeded but could not be recorded is sent again).
        let message_id = format!(
            "<gatehouse.{}.{}@{}>",
            queued.id,
            queued.created_at,
            self.from.email.domain().trim_matches(['[', ']'])
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(queued.subject.clone())
            .date(date)
            .message_id(Some(message_id))
            .multipart(MultiPart::alternative_plain_html(
                queued.body_text.clone(),
                queued.body_html.clone(),
            ))
            .map_err(|e| SendError::message(e, true))
    }
}

impl Smtp {
    async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = match self.transport.lock() {
            Ok(transport) => transport.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(SendError::from_smtp(&error)),
            Err(_) => {
                // The connection was left mid-command; start over with new ones.
                self.renew();
                Err(SendError::unavailable(format!(
                    "no answer from {} within {} s",
                    self.server,
                    SEND_TIMEOUT.as_secs()
                )))
            }
        }
    }

    fn renew(&self) {
        if let Ok(fresh) = smtp_transport(&self.url) {
            match self.transport.lock() {
                Ok(mut transport) => *transport = fresh,
                Err(poisoned) => *poisoned.into_inner() = fresh,
            }
        }
    }
}

fn smtp_transport(url: &Url) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    // lettre's messages name no credentials; the URL is not repeated.
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
        .map_err(|e| format!("smtp_url: {e}"))?;
    Ok(builder
        .timeout(Some(CONNECT_TIMEOUT))
        .pool_config(
            PoolConfig::new()
                .max_size(POOL_SIZE)
                .idle_timeout(POOL_IDLE),
        )
        .build())
}

/// `Gatehouse <no-reply@HOST>` for the public URL's host, or
/// `no-reply@localhost` when that is an IP address (lettre takes no address
/// literal as a sender).
pub fn default_from(public_url: &Url) -> Result<Mailbox, String> {
    let domain = match public_url.host() {
        Some(url::Host::Domain(domain)) => domain.trim_end_matches('.').to_owned(),
        _ => "localhost".to_owned(),
    };
    let address = lettre::Address::new("no-reply", &domain)
        .map_err(|e| format!("no sender address for the public URL's host {domain}: {e}"))?;
    Ok(Mailbox::new(Some("Gatehouse".into()), address))
}

async fn write_file(
    dir: &Path,
    queued: &QueuedEmail,
    now: UnixTime,
    message: &Message,
) -> Result<(), SendError> {
    let path = dir.join(format!("{}-{}.eml", queued.id, now));
    let partial = path.with_extension("eml.partial");
    let written = async {
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::write(&partial, message.formatted()).await?;
        tokio::fs::rename(&partial, &path).await
    }
    .await;
    written.map_err(|e| SendError::unavailable(format!("cannot write {}: {e}", path.display())))?;
    // The file holds the link; the log names only the file, since logs
    // travel further than the data directory.
    tracing::info!(outbox_id = queued.id, "mail written to {}", path.display());
    Ok(())
}

fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(recipient: &str) -> QueuedEmail {
        QueuedEmail {
            id: 7,
            organisation_id: None,
            recipient: recipient.into(),
            subject: "Activate your Riverside College account".into(),
            body_text: "Open https://accounts.riverside.example/activate/abc now.".into(),
            body_html: "<p>Open</p>".into(),
            created_at: 1_795_424_400,
            attempts: 0,
        }
    }

    fn mailer() -> Mailer {
        let url = Url::parse("https://accounts.riverside.example").expect("url");
        Mailer::files(PathBuf::from("unused"), default_from(&url).expect("sender"))
    }

    #[test]
    fn mail_comes_from_no_reply_at_the_public_host() {
        let from = |url: &str| {
            default_from(&Url::parse(url).expect(url))
                .expect(url)
                .to_string()
        };
        assert_eq!(
            from("https://accounts.riverside.example"),
            "Gatehouse <no-reply@accounts.riverside.example>"
        );
        assert_eq!(
            from("http://127.0.0.1:3000"),
            "Gatehouse <no-reply@localhost>"
        );
        assert_eq!(from("http://[::1]:3000"), "Gatehouse <no-reply@localhost>");
    }

    #[test]
    fn a_message_has_both_parts_an_id_a_date_and_encoded_names() {
        let message = mailer()
            .build(
                &queued("\"Siân O’Brien\" <sian@riverside.example>"),
                1_795_424_400,
            )
            .expect("message");
        let text = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain"), "{text}");
        assert!(text.contains("text/html"), "{text}");
        assert!(
            text.contains("Message-ID: <gatehouse.7.1795424400@accounts.riverside.example>"),
            "{text}"
        );
        assert!(
            text.contains("Date: Mon, 23 Nov 2026 09:00:00 +0000"),
            "{text}"
        );
        assert!(text.contains("From: Gatehouse <no-reply@accounts.riverside.example>"));
        // Non-ASCII names travel as RFC 2047 encoded words.
        assert!(text.contains("To: =?utf-8?"), "{text}");
        assert!(text.contains("<sian@riverside.example>"), "{text}");
        assert!(text.is_ascii(), "{text}");
    }

    #[test]
    fn a_server_on_an_ip_address_still_sends_with_a_valid_envelope() {
        let url = Url::parse("http://127.0.0.1:3000").expect("url");
        let mailer = Mailer::files(PathBuf::from("unused"), default_from(&url).expect("sender"));
        let message = mailer
            .build(&queued("sian@riverside.example"), 0)
            .expect("message");
        let sender = message.envelope().from().map(ToString::to_string);
        assert_eq!(sender.as_deref(), Some("no-reply@localhost"));
    }

    #[test]
    fn an_unusable_recipient_is_an_error_for_that_message_only() {
        let error = mailer()
            .build(&queued("not an address"), 0)
            .expect_err("refused");
        assert!(!error.server_unavailable);
        assert!(error.permanent, "retrying cannot mend an address");
        assert!(error.message.starts_with("recipient address refused"));
    }

    #[test]
    fn errors_are_kept_short_and_on_one_line() {
        let long = "x".repeat(1000);
        let short = shorten(&format!("first\nsecond {long}"));
        assert!(short.starts_with("first second x"));
        assert_eq!(short.chars().count(), MAX_ERROR_CHARS + 1);
    }

    #[tokio::test]
    async fn the_smtp_url_is_accepted_without_connecting() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:secret@mail.example:587?tls=required",
            "smtps://user:secret@mail.example",
        ] {
            let mailer =
                Mailer::smtp(&Url::parse(url).expect(url), mailer().from.clone()).expect(url);
            assert!(mailer.is_smtp());
            assert!(!mailer.describe().contains("secret"));
            assert!(!format!("{mailer:?}").contains("secret"));
        }
    }
}
