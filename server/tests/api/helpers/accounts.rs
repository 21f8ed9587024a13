//! Accounts, onboarding and mail (added with the "Users and onboarding"
//! tests): the Add a user form, validation errors, a second instance and a
//! second organisation, and the emails the server delivers.

use super::{PASSWORD, TestApp};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// One delivered email, as read back from its `.eml` file.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// The Add a user form for a person, with the username generated from the
/// names and no welcome email; adjust with `with`/`without`.
pub fn person_form(
    first_name: &'static str,
    last_name: &'static str,
    email: &'static str,
    initials: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("first_name", first_name),
        ("last_name", last_name),
        ("email", email),
        ("generate_username", "on"),
        ("username", ""),
        ("initials", initials),
    ]
}

/// `form` with `field` set to `value` (added when missing).
pub fn with(
    form: &[(&'static str, &'static str)],
    field: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    let mut form = without(form, field);
    form.push((field, value));
    form
}

/// `form` without `field` (an unticked checkbox is simply not sent).
pub fn without(
    form: &[(&'static str, &'static str)],
    field: &'static str,
) -> Vec<(&'static str, &'static str)> {
    form.iter().copied().filter(|(f, _)| *f != field).collect()
}

/// The fields a `Validation` error names.
pub fn fields_of(body: &Value) -> Vec<String> {
    fields_named(&body["Validation"])
}

/// The `field` of each error in a list of field errors.
fn fields_named(errors: &Value) -> Vec<String> {
    errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The message a `Validation` error gives for `field`.
pub fn field_message(body: &Value, field: &str) -> Option<String> {
    body["Validation"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str().map(str::to_owned))
}

impl TestApp {
    /// Starts a second server (a replica) with this one's settings, database
    /// and clock on its own port; returns its address.
    pub async fn second_instance(&self) -> String {
        let settings = (*self.state.settings).clone();
        let clock: Arc<dyn backend::Clock> = Arc::new(self.clock.clone());
        let state = server::startup::build_state(settings, clock)
            .await
            .expect("second instance");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        );
        tokio::spawn(server::startup::serve(listener, state));
        address
    }

    /// `call` through another instance (`base` is its address) with `client`.
    pub async fn call_at(
        &self,
        base: &str,
        client: &reqwest::Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(format!("{base}/fn/{function}"))
            .header("origin", base)
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// `add_user` as the administrator signed in on this app's main client.
    pub async fn add_user(&self, form: &[(&str, &str)]) -> Response {
        self.call("add_user", form).await
    }

    /// Adds a person (as the main client's administrator) and returns the id.
    pub async fn add_person(&self, form: &[(&str, &str)]) -> i64 {
        let response = self.add_user(form).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let email = form
            .iter()
            .find(|(f, _)| *f == "email")
            .map(|(_, v)| *v)
            .expect("email in form");
        self.user_id_by_email(email).await
    }

    pub async fn user_id_by_email(&self, email: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email_normalized = $1")
            .bind(email.to_lowercase())
            .fetch_one(&self.state.db.pool)
            .await
            .expect("user by email");
        id
    }

    /// `(state, kind, username, activated_at)` of an account.
    pub async fn account_row(&self, user_id: i64) -> (String, String, String, Option<i64>) {
        sqlx::query_as("SELECT state, kind, username, activated_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("account")
    }

    /// The audit actions about one account, oldest first.
    pub async fn audit_actions_for(&self, user_id: i64) -> Vec<String> {
        sqlx::query_as::<_, (String,)>(
            "SELECT action FROM audit_log WHERE target_user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.state.db.pool)
        .await
        .expect("audit log")
        .into_iter()
        .map(|(a,)| a)
        .collect()
    }

    /// Runs delivery passes (Files mode: `.eml` under the data directory)
    /// until nothing due is left.
    pub async fn deliver_mail(&self) {
        use backend::mail::{Mailer, deliver_due};
        let mailer = Mailer::from_settings(&self.state.settings).expect("mailer");
        assert!(!mailer.is_smtp(), "tests read mail from .eml files");
        loop {
            let report = deliver_due(&self.state.db, &mailer, self.state.now())
                .await
                .expect("delivery pass");
            assert_eq!(report.failed, 0, "mail delivery failed");
            if report.sent == 0 {
                break;
            }
        }
    }

    /// Every email delivered so far (after one more delivery pass), oldest first.
    pub async fn sent_emails(&self) -> Vec<SentEmail> {
        self.deliver_mail().await;
        let dir = self.state.settings.data_dir.join("mail");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<(i64, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| {
                let id = p.file_name()?.to_str()?.split('-').next()?.parse().ok()?;
                Some((id, p))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| {
                let raw = std::fs::read(&path).expect("eml");
                let message = mail_parser::MessageParser::default()
                    .parse(&raw)
                    .expect("a parseable message");
                SentEmail {
                    to: message
                        .to()
                        .and_then(|a| a.first())
                        .and_then(|a| a.address.as_deref())
                        .unwrap_or_default()
                        .to_owned(),
                    subject: message.subject().unwrap_or_default().to_owned(),
                    text: message
                        .body_text(0)
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Every email delivered to `address` (any case), oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<SentEmail> {
        self.sent_emails()
            .await
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .collect()
    }

    /// `(subject, text)` of the last email delivered to `address`.
    pub async fn last_email_to(&self, address: &str) -> (String, String) {
        let mail = self
            .emails_to(address)
            .await
            .pop()
            .unwrap_or_else(|| panic!("no email to {address}"));
        (mail.subject, mail.text)
    }

    /// The link in the last email delivered to `address`.
    pub async fn link_in_last_email(&self, address: &str) -> String {
        let (_, text) = self.last_email_to(address).await;
        first_link(&text)
            .unwrap_or_else(|| panic!("no link in the email to {address}: {text}"))
            .to_owned()
    }

    /// The token at the end of the link in the last email to `address`.
    pub async fn token_in_last_email(&self, address: &str) -> String {
        let link = self.link_in_last_email(address).await;
        link.rsplit('/').next().expect("token").to_owned()
    }

    /// Chooses a password from a link's token in a new browser, which is
    /// then signed in as its owner.
    pub async fn choose_password_in_new_browser(
        &self,
        token: &str,
        password: &str,
    ) -> (reqwest::Client, Response) {
        let browser = self.new_browser();
        let response = self
            .call_as(
                &browser,
                "choose_password",
                &[("token", token), ("password", password)],
            )
            .await;
        (browser, response)
    }

    /// Adds a person with a welcome email and activates the account from it
    /// with `PASSWORD`; returns their id and a browser signed in as them.
    pub async fn add_and_activate(&self, form: &[(&str, &str)]) -> (i64, reqwest::Client) {
        let mut form = form.to_vec();
        form.retain(|(f, _)| *f != "send_welcome_email");
        form.push(("send_welcome_email", "on"));
        let id = self.add_person(&form).await;
        let email = form
            .iter()
            .find(|(f, _)| *f == "email")
            .map(|(_, v)| *v)
            .expect("email");
        let token = self.token_in_last_email(email).await;
        let (browser, response) = self.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        (id, browser)
    }

    /// A browser signed in with `login` and `password`.
    pub async fn signed_in_browser(&self, login: &str, password: &str) -> reqwest::Client {
        let browser = self.new_browser();
        let response = self
            .call_as(
                &browser,
                "sign_in",
                &[("login", login), ("password", password)],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        browser
    }

    /// A second organisation, Hillside Academy, and its first administrator
    /// Tomasz Nowak (tomasz.nowak, `PASSWORD`), signed in on the returned
    /// browser. Returns the browser and the organisation's id.
    pub async fn second_organisation(&self) -> (reqwest::Client, i64) {
        let path = self.organisation_setup_path("Hillside Academy").await;
        let token = path.trim_start_matches("/setup/");
        let browser = self.new_browser();
        let form = [
            ("token", token),
            ("organisation_name", ""),
            ("first_name", "Tomasz"),
            ("last_name", "Nowak"),
            ("email", "tomasz.nowak@hillside.example"),
            ("generate_username", "on"),
            ("username", ""),
            ("initials", "TN"),
            ("password", PASSWORD),
        ];
        let response = self.call_as(&browser, "complete_setup", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let (organisation,): (i64,) =
            sqlx::query_as("SELECT organisation_id FROM users WHERE username = 'tomasz.nowak'")
                .fetch_one(&self.state.db.pool)
                .await
                .expect("organisation");
        (browser, organisation)
    }
}

/// The first `http://` or `https://` address in a text.
pub fn first_link(text: &str) -> Option<&str> {
    let start = [text.find("https://"), text.find("http://")]
        .into_iter()
        .flatten()
        .min()?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The roles a *Roles and profiles* section (`user_access`) shows locked:
/// those the viewer may neither give nor take away.
pub fn locked_roles(access: &Value) -> Vec<&str> {
    access["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| r["locked"] == true)
        .map(|r| r["name"].as_str().expect("name"))
        .collect()
}
