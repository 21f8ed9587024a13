//! Mail: the outbox, the delivery worker and both transports. SMTP is tested
//! against a real server, maildev (installed by `npm ci` in `end2end/`), run
//! on free ports for each test.

use crate::both_backends;
use crate::helpers::{PASSWORD, START, TestApp, person_form, with};
use backend::db::Db;
use backend::mail::templates::{self, LinkEmail};
use backend::mail::{self, DeliveryReport, Mailer, OutgoingEmail, outbox_depth};
use domain::Email;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

const LINK: &str = "http://127.0.0.1/activate/5f2c0a9e";

/// A maildev process, killed when dropped.
struct Maildev {
    smtp_port: u16,
    web_port: u16,
    _process: tokio::process::Child,
    _store: tempfile::TempDir,
}

impl Maildev {
    async fn start() -> Maildev {
        Self::start_on(free_port()).await
    }

    async fn start_on(smtp_port: u16) -> Maildev {
        let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/node_modules/.bin/maildev");
        assert!(
            binary.exists(),
            "maildev is missing at {}: run `npm ci` in end2end/",
            binary.display()
        );
        let web_port = loop {
            let port = free_port();
            if port != smtp_port {
                break port;
            }
        };
        let store = tempfile::tempdir().expect("maildev directory");
        let process = tokio::process::Command::new(&binary)
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1", "--silent"])
            .args(["--smtp", &smtp_port.to_string()])
            .args(["--web", &web_port.to_string()])
            .arg("--mail-directory")
            .arg(store.path())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start maildev");
        let maildev = Maildev {
            smtp_port,
            web_port,
            _process: process,
            _store: store,
        };
        maildev.wait_until_ready().await;
        maildev
    }

    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let smtp = tokio::net::TcpStream::connect(("127.0.0.1", self.smtp_port))
                .await
                .is_ok();
            let web = reqwest::get(self.api())
                .await
                .is_ok_and(|r| r.status().is_success());
            if smtp && web {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "maildev did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn api(&self) -> String {
        format!("http://127.0.0.1:{}/api/email", self.web_port)
    }

    fn smtp_url(&self) -> url::Url {
        smtp_url(self.smtp_port)
    }

    /// Every message received so far.
    async fn messages(&self) -> Vec<Value> {
        reqwest::get(self.api())
            .await
            .expect("maildev API")
            .json()
            .await
            .expect("maildev JSON")
    }

    /// Waits (briefly) until at least `count` messages have arrived.
    async fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages().await;
            if messages.len() >= count || tokio::time::Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

fn smtp_url(port: u16) -> url::Url {
    url::Url::parse(&format!("smtp://127.0.0.1:{port}")).expect("SMTP URL")
}

/// The mailer the server would build with `smtp_url` set to `url`.
fn smtp_mailer(app: &TestApp, url: url::Url) -> Mailer {
    let mut settings = (*app.state.settings).clone();
    settings.smtp_url = Some(url);
    let mailer = Mailer::from_settings(&settings).expect("mailer");
    assert!(mailer.is_smtp());
    mailer
}

fn welcome() -> mail::MailContent {
    templates::welcome(&LinkEmail {
        organisation_name: "Riverside College",
        person_name: "Siân O’Brien",
        link: LINK,
        expires_at: START + 72 * 3600,
        new_address: None,
    })
    .expect("welcome email")
}

/// Queues one message in its own transaction, as a change that sends mail does.
async fn queue(app: &TestApp, to: &str, name: &str, content: mail::MailContent) -> i64 {
    let email = OutgoingEmail::new(None, Email::parse(to).expect(to), name, content);
    let mut tx = app.state.db.begin_write().await.expect("transaction");
    let id = mail::enqueue(&mut tx, app.state.now(), &email)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

/// Creates `count` people through *Add a user* with *Send welcome email*, as
/// an administrator would during an SMTP outage; returns their addresses.
async fn add_people_with_welcome_emails(app: &TestApp, count: usize) -> Vec<String> {
    app.set_up_first_administrator().await;
    let mut recipients = Vec::new();
    for i in 0..count {
        let (first, last) = (
            format!("Person{}", letters(i)),
            format!("Outage{}", letters(i)),
        );
        let to = format!("person{i}@riverside.example");
        let initials = format!("P{}", letters(i).to_uppercase());
        let response = app
            .add_user(&[
                ("first_name", first.as_str()),
                ("last_name", last.as_str()),
                ("email", to.as_str()),
                ("generate_username", "on"),
                ("username", ""),
                ("initials", initials.as_str()),
                ("send_welcome_email", "on"),
            ])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        recipients.push(to);
    }
    recipients
}

/// 0 → "a", 25 → "z", 26 → "ba": names may hold letters only.
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.iter().rev().collect()
}

/// Passes until one finds nothing to do; the total of what they did.
async fn drain(db: &Db, mailer: &Mailer, now: i64) -> DeliveryReport {
    let mut total = DeliveryReport::default();
    for _ in 0..100 {
        let report = mail::deliver_due(db, mailer, now).await.expect("pass");
        if report == DeliveryReport::default() {
            return total;
        }
        total.sent += report.sent;
        total.failed += report.failed;
        total.given_up += report.given_up;
        total.released += report.released;
    }
    panic!("the outbox never emptied: {total:?}");
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    attempts: i64,
    last_error: Option<String>,
    next_attempt_at: i64,
    sent_at: Option<i64>,
    given_up_at: Option<i64>,
}

async fn rows(db: &Db) -> Vec<Row> {
    sqlx::query_as(
        "SELECT attempts, last_error, next_attempt_at, sent_at, given_up_at
         FROM email_outbox ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("outbox")
}

fn recipients_of(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            m["to"][0]["address"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Nothing was sent; each message failed once and waits 30 s.
async fn assert_all_waiting_after_one_failure(app: &TestApp, count: usize) {
    let rows = rows(&app.state.db).await;
    assert_eq!(rows.len(), count);
    for row in &rows {
        assert_eq!(row.attempts, 1, "{row:?}");
        assert_eq!(row.sent_at, None, "{row:?}");
        assert_eq!(row.next_attempt_at, START + 30, "{row:?}");
        let error = row.last_error.as_deref().unwrap_or_default();
        assert!(error.to_lowercase().contains("connection"), "{row:?}");
    }
    assert_eq!(
        outbox_depth(&app.state.db).await.expect("depth"),
        i64::try_from(count).expect("count")
    );
}

/// Exactly the `recipients`, each once.
fn assert_received_once_each(messages: &[Value], recipients: &[String]) {
    let received = recipients_of(messages);
    assert_eq!(received.len(), recipients.len(), "{received:?}");
    let distinct: HashSet<&String> = received.iter().collect();
    assert_eq!(distinct.len(), recipients.len(), "a message arrived twice");
    assert_eq!(distinct, recipients.iter().collect::<HashSet<_>>());
}

both_backends!(
    async fn without_smtp_mail_is_written_as_an_eml_file_and_marked_sent(app: TestApp) {
        let mailer = Mailer::from_settings(&app.state.settings).expect("mailer");
        assert!(!mailer.is_smtp());
        let id = queue(
            &app,
            "Sian.OBrien@riverside.example",
            "Siân O’Brien",
            welcome(),
        )
        .await;

        let report = mail::deliver_due(&app.state.db, &mailer, START)
            .await
            .expect("pass");
        assert_eq!(report.sent, 1);
        assert_eq!(report.failed, 0);

        let dir = app.state.settings.data_dir.join("mail");
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("mail directory")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .into_string()
                    .expect("name")
            })
            .collect();
        assert_eq!(files, [format!("{id}-{START}.eml")]);
        let raw = std::fs::read(dir.join(&files[0])).expect("eml");
        assert!(
            String::from_utf8_lossy(&raw).contains("multipart/alternative"),
            "not multipart/alternative"
        );
        let message = mail_parser::MessageParser::default()
            .parse(&raw)
            .expect("a parseable message");
        assert_eq!(
            message.subject(),
            Some("Activate your Riverside College account")
        );
        let to = message.to().and_then(|a| a.first()).expect("recipient");
        assert_eq!(to.name.as_deref(), Some("Siân O’Brien"));
        assert_eq!(to.address.as_deref(), Some("Sian.OBrien@riverside.example"));
        let from = message.from().and_then(|a| a.first()).expect("sender");
        assert_eq!(from.address.as_deref(), Some("no-reply@localhost"));
        assert!(message.message_id().is_some());
        assert_eq!(
            message.date().map(|d| d.to_timestamp()),
            Some(START),
            "Date is the clock's"
        );
        assert_eq!(
            (message.text_body_count(), message.html_body_count()),
            (1, 1)
        );
        let text = message.body_text(0).expect("text part");
        let html = message.body_html(0).expect("HTML part");
        assert!(text.contains(LINK), "{text}");
        assert!(text.contains("Dear Siân O’Brien,"), "{text}");
        assert!(html.contains(&format!("href=\"{LINK}\"")), "{html}");

        let rows = rows(&app.state.db).await;
        assert_eq!(rows[0].sent_at, Some(START));
        assert_eq!(rows[0].attempts, 0);
        assert_eq!(outbox_depth(&app.state.db).await.expect("depth"), 0);
        let again = mail::deliver_due(&app.state.db, &mailer, START + 60)
            .await
            .expect("pass");
        assert_eq!(again, DeliveryReport::default(), "sent twice");
    }
);

both_backends!(
    async fn a_welcome_email_arrives_over_smtp(app: TestApp) {
        let maildev = Maildev::start().await;
        let mailer = smtp_mailer(&app, maildev.smtp_url());
        queue(
            &app,
            "Sian.OBrien@riverside.example",
            "Siân O’Brien",
            welcome(),
        )
        .await;

        let report = mail::deliver_due(&app.state.db, &mailer, START)
            .await
            .expect("pass");
        assert_eq!((report.sent, report.failed), (1, 0));

        let messages = maildev.wait_for(1).await;
        assert_eq!(messages.len(), 1);
        let message = &messages[0];
        assert_eq!(
            message["subject"],
            "Activate your Riverside College account"
        );
        assert_eq!(message["to"][0]["address"], "Sian.OBrien@riverside.example");
        assert_eq!(message["to"][0]["name"], "Siân O’Brien");
        assert_eq!(message["from"][0]["name"], "Gatehouse");
        let text = message["text"].as_str().expect("text part");
        let html = message["html"].as_str().expect("HTML part");
        assert!(text.contains(LINK), "{text}");
        assert!(
            text.contains("This link works once, until 26 November 2026 at 09:00 UTC."),
            "{text}"
        );
        assert!(html.contains(LINK), "{html}");
        assert_eq!(rows(&app.state.db).await[0].sent_at, Some(START));
    }
);

both_backends!(
    async fn an_smtp_outage_delays_mail_and_loses_none(app: TestApp) {
        let port = free_port();
        let mailer = smtp_mailer(&app, smtp_url(port));
        let recipients = add_people_with_welcome_emails(&app, 50).await;

        let report = drain(&app.state.db, &mailer, START).await;
        assert_eq!((report.sent, report.failed), (0, 50));
        assert_all_waiting_after_one_failure(&app, 50).await;

        let maildev = Maildev::start_on(port).await;
        let early = mail::deliver_due(&app.state.db, &mailer, START + 29)
            .await
            .expect("pass");
        assert_eq!(early, DeliveryReport::default(), "retried before its time");

        app.clock.advance(30);
        let report = drain(&app.state.db, &mailer, app.state.now()).await;
        assert_eq!((report.sent, report.failed), (50, 0));
        assert_received_once_each(&maildev.messages().await, &recipients);
        assert_eq!(outbox_depth(&app.state.db).await.expect("depth"), 0);
        assert!(
            rows(&app.state.db)
                .await
                .iter()
                .all(|r| r.sent_at == Some(START + 30))
        );
    }
);

both_backends!(
    async fn two_workers_never_send_a_message_twice(app: TestApp) {
        // Two replicas: each its own database pool and its own SMTP connections.
        let port = free_port();
        let (db_a, db_b) = (
            app.state.db.clone(),
            Db::connect(&app.state.settings.database_url)
                .await
                .expect("second pool"),
        );
        let (mailer_a, mailer_b) = (
            smtp_mailer(&app, smtp_url(port)),
            smtp_mailer(&app, smtp_url(port)),
        );
        let recipients = add_people_with_welcome_emails(&app, 50).await;

        let (a, b) = tokio::join!(
            drain(&db_a, &mailer_a, START),
            drain(&db_b, &mailer_b, START)
        );
        assert_eq!(a.failed + b.failed, 50, "{a:?} {b:?}");
        assert_all_waiting_after_one_failure(&app, 50).await;

        let maildev = Maildev::start_on(port).await;
        app.clock.advance(30);
        let now = app.state.now();
        let (a, b) = tokio::join!(drain(&db_a, &mailer_a, now), drain(&db_b, &mailer_b, now));
        assert_eq!(
            (a.sent + b.sent, a.failed + b.failed),
            (50, 0),
            "{a:?} {b:?}"
        );
        assert_received_once_each(&maildev.messages().await, &recipients);
        assert_eq!(outbox_depth(&app.state.db).await.expect("depth"), 0);
    }
);

both_backends!(
    async fn a_rejected_address_does_not_hold_up_the_others(app: TestApp) {
        // 254 characters: a valid address, but longer than the 253 that an
        // SMTP path allows, so the server refuses it (501).
        let refused = format!(
            "{}@{}.{}.{}.example",
            "r".repeat(64),
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(53)
        );
        assert_eq!(refused.len(), 254);
        let maildev = Maildev::start().await;
        let mailer = smtp_mailer(&app, maildev.smtp_url());
        queue(&app, "first@riverside.example", "First", welcome()).await;
        queue(&app, &refused, "Refused", welcome()).await;
        queue(&app, "third@riverside.example", "Third", welcome()).await;

        let report = mail::deliver_due(&app.state.db, &mailer, START)
            .await
            .expect("pass");
        assert_eq!((report.sent, report.failed), (2, 1));
        assert_received_once_each(
            &maildev.wait_for(2).await,
            &[
                "first@riverside.example".into(),
                "third@riverside.example".into(),
            ],
        );
        // Refused for good (a 5xx reply about this message): trying again
        // cannot help, so it is given up on at once and shown as failed.
        assert_eq!(report.given_up, 1);
        let rows = rows(&app.state.db).await;
        let refused_row = &rows[1];
        assert_eq!(refused_row.sent_at, None);
        assert_eq!(refused_row.attempts, 1);
        assert_eq!(refused_row.given_up_at, Some(START));
        let error = refused_row.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("501"), "{error}");
        assert_eq!(outbox_depth(&app.state.db).await.expect("depth"), 0);
        let later = mail::deliver_due(&app.state.db, &mailer, START + 3600)
            .await
            .expect("pass");
        assert_eq!(later, DeliveryReport::default(), "never tried again");
    }
);

both_backends!(
    async fn the_worker_delivers_in_the_background_until_told_to_stop(app: TestApp) {
        let mailer = Mailer::from_settings(&app.state.settings).expect("mailer");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(mail::run(
            app.state.db.clone(),
            mailer,
            app.state.clock.clone(),
            app.state.metrics.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        queue(&app, "sian@riverside.example", "Siân", welcome()).await;

        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while outbox_depth(&app.state.db).await.expect("depth") > 0 {
            assert!(tokio::time::Instant::now() < deadline, "never delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            std::fs::read_dir(app.state.settings.data_dir.join("mail"))
                .expect("mail directory")
                .count(),
            1
        );
        stop.send(()).expect("worker running");
        tokio::time::timeout(Duration::from_secs(5), worker)
            .await
            .expect("the worker stops")
            .expect("without panicking");
    }
);

/// The user page's `last_email`, as the administrator on `browser` sees it.
async fn last_email(app: &TestApp, browser: &reqwest::Client, id: i64) -> Value {
    let response = app
        .call_as(browser, "user", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.expect("detail")["last_email"].clone()
}

async fn undelivered(app: &TestApp, browser: &reqwest::Client) -> Vec<Value> {
    let response = app.call_as(browser, "undelivered_mail", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("list");
    list.as_array().expect("a list").clone()
}

both_backends!(
    async fn where_an_email_stands_is_shown_on_its_account_and_to_platform_administrators(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let admin = &app.client;
        let id = app
            .add_person(&with(
                &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
                "send_welcome_email",
                "on",
            ))
            .await;
        let email = last_email(&app, admin, id).await;
        assert_eq!(email["what"], "Welcome email");
        assert_eq!(email["state"], "Waiting");
        assert!(undelivered(&app, admin).await.is_empty());

        // The mail server is down.
        let down = smtp_mailer(&app, smtp_url(free_port()));
        let report = mail::deliver_due(&app.state.db, &down, app.state.now())
            .await
            .expect("pass");
        assert_eq!((report.failed, report.given_up), (1, 0));
        let retrying = last_email(&app, admin, id).await["state"]["Retrying"].clone();
        assert_eq!(retrying["attempts"], 1);
        // The organisation's administrator is told the server could not be
        // reached, not the details of the operator's mail server...
        assert_eq!(retrying["reason"], "The mail server could not be reached.");
        // ...which the platform administrator sees, for every organisation.
        let listed = undelivered(&app, admin).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["organisation"], "Riverside College");
        assert!(
            listed[0]["recipient"]
                .as_str()
                .expect("recipient")
                .contains("zoe@riverside.example")
        );
        let reason = listed[0]["delivery"]["state"]["Retrying"]["reason"]
            .as_str()
            .expect("a reason");
        assert!(reason.to_lowercase().contains("connection"), "{reason}");

        // Three days on, still down: given up, and shown as failed.
        app.clock.advance(mail::outbox::GIVE_UP_AFTER_SECONDS);
        let report = mail::deliver_due(&app.state.db, &down, app.state.now())
            .await
            .expect("pass");
        assert_eq!((report.failed, report.given_up), (1, 1));
        let admin = &app.signed_in_browser("sian.obrien", PASSWORD).await;
        let failed = last_email(&app, admin, id).await["state"]["Failed"].clone();
        assert_eq!(failed["attempts"], 2);
        assert_eq!(outbox_depth(&app.state.db).await.expect("depth"), 0);
        assert!(undelivered(&app, admin).await[0]["delivery"]["state"]["Failed"].is_object());

        // A new welcome email goes out: the page says it was sent.
        let sent = app
            .call_as(
                admin,
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
        app.deliver_mail().await;
        let email = last_email(&app, admin, id).await;
        assert!(email["state"]["Sent"]["at"].is_string(), "{email}");
    }
);
