use backend::config::{CheckedSettings, Settings};
use backend::{AppState, ManualClock};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// 2026-11-23 09:00 UTC: tests start at a fixed time and move it themselves.
pub const START: i64 = 1_795_424_400;
pub const PASSWORD: &str = "correct horse battery staple 42";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `both_backends!(async fn name(app: TestApp) { ... });`
///
/// With adjusted settings, a closure over `&mut CheckedSettings` first:
/// `both_backends!(|s| s.api_requests_per_minute = 3, async fn name(app: TestApp) { ... });`
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident : TestApp $(,)?) $body:block) => {
        $crate::both_backends!(|_| {}, $(#[$meta])* async fn $name($app: TestApp) $body);
    };
    ($adjust:expr, $(#[$meta:meta])* async fn $name:ident($app:ident : TestApp $(,)?) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $adjust).await)
                    .await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::spawn_postgres_with($adjust).await {
                    run(app).await
                }
            }
        }
    };
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: ManualClock,
    _data_dir: tempfile::TempDir,
}

/// Where the PostgreSQL tests connect; each test gets its own database there.
fn postgres_admin_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn` on PostgreSQL; `None` (after a loud notice) when no
    /// server is reachable outside CI. Under CI a missing server fails.
    pub async fn spawn_postgres() -> Option<TestApp> {
        Self::spawn_postgres_with(|_| {}).await
    }

    /// `spawn_postgres` with adjusted settings.
    pub async fn spawn_postgres_with(adjust: impl FnOnce(&mut CheckedSettings)) -> Option<TestApp> {
        use sqlx::Connection;
        match sqlx::PgConnection::connect(&postgres_admin_url()).await {
            Ok(conn) => {
                let _ = conn.close().await;
                Some(Self::spawn_with(Backend::Postgres, adjust).await)
            }
            Err(error) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!(
                    "\n!!! SKIPPED on PostgreSQL: cannot reach {} ({error}) !!!\n",
                    postgres_admin_url()
                );
                None
            }
            Err(error) => panic!("PostgreSQL is required under CI but unreachable: {error}"),
        }
    }

    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut CheckedSettings),
    ) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let mut raw = Settings {
            public_url: format!("http://127.0.0.1:{port}"),
            bind_address: format!("127.0.0.1:{port}"),
            data_dir: data_dir.path().to_path_buf(),
            site_root: PathBuf::from("target/site"),
            trust_forwarded_for: true,
            ..Settings::default()
        };
        if backend == Backend::Postgres {
            raw.database_url = Some(fresh_postgres_database().await);
        }
        let mut settings = raw.check().expect("test settings are valid");
        adjust(&mut settings);
        let clock = ManualClock::starting_at(START);
        let state = server::startup::build_state(settings, Arc::new(clock.clone()))
            .await
            .expect("app state");
        tokio::spawn(server::startup::serve(listener, state.clone()));
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: client(),
            state,
            clock,
            _data_dir: data_dir,
        }
    }

    /// A second browser (its own cookie jar) on the same server.
    pub fn new_browser(&self) -> reqwest::Client {
        client()
    }

    /// Calls a server function the way the browser's wasm does.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.call_as(&self.client, function, form).await
    }

    /// `call_raw_as`, then, where the answer sends the person on to the
    /// code step or to enrolment (an administrator: two-factor authentication
    /// is required), completes that step as the person would with their
    /// authenticator app, and answers with the last step's response (which
    /// sets the final session cookie). Tests of those steps use `call_raw_as`.
    pub async fn call_as(
        &self,
        client: &reqwest::Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> Response {
        let response = self.call_raw_as(client, function, form).await;
        self.complete_second_factor(client, response).await
    }

    /// A server function call exactly as the browser makes it, nothing more.
    pub async fn call_raw_as(
        &self,
        client: &reqwest::Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(format!("{}/fn/{function}", self.address))
            .header("origin", &self.address)
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("accept", "text/html")
            .send()
            .await
            .expect("request")
    }

    /// A fresh platform setup link's token, as `gatehouse serve` prints it.
    pub async fn setup_token(&self) -> String {
        let path = backend::onboarding::setup::create_link(
            &self.state.db,
            self.state.now(),
            backend::onboarding::setup::SetupPurpose::Platform,
        )
        .await
        .expect("setup link");
        path.trim_start_matches("/setup/").to_owned()
    }

    /// Creates an organisation (as `gatehouse create-org` does) and returns the
    /// path of a link that creates its first administrator.
    pub async fn organisation_setup_path(&self, name: &str) -> String {
        use backend::onboarding::setup::{SetupPurpose, create_link, create_organisation};
        let name = domain::OrganisationName::parse(name).expect("name");
        let organisation = create_organisation(&self.state.db, self.state.now(), &name)
            .await
            .expect("organisation");
        create_link(
            &self.state.db,
            self.state.now(),
            SetupPurpose::Organisation(organisation),
        )
        .await
        .expect("link")
    }

    /// Completes first-run setup as Siân O’Brien; she is signed in afterwards.
    pub async fn set_up_first_administrator(&self) {
        let token = self.setup_token().await;
        let response = self.complete_setup(&token, &admin_form()).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn complete_setup(&self, token: &str, form: &[(&str, &str)]) -> Response {
        let mut fields = vec![("token", token)];
        fields.extend_from_slice(form);
        self.call("complete_setup", &fields).await
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Response {
        self.call("sign_in", &[("login", login), ("password", password)])
            .await
    }

    pub async fn sign_in_from(
        &self,
        client_address: &str,
        login: &str,
        password: &str,
    ) -> Response {
        let response = self
            .client
            .post(format!("{}/fn/sign_in", self.address))
            .header("origin", &self.address)
            .header("x-forwarded-for", client_address)
            .form(&[("login", login), ("password", password)])
            .send()
            .await
            .expect("request");
        self.complete_second_factor(&self.client, response).await
    }

    /// Who the server thinks is signed in on this client (`None` if nobody).
    pub async fn whoami(&self) -> Option<Value> {
        self.whoami_as(&self.client).await
    }

    pub async fn whoami_as(&self, client: &reqwest::Client) -> Option<Value> {
        let response = self.call_as(client, "whoami", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        (!body.is_null()).then_some(body)
    }

    /// Deactivates an account directly in the database, as another server would.
    pub async fn deactivate(&self, user_id: i64) {
        let mut tx = self.state.db.begin_write().await.expect("transaction");
        backend::accounts::users::deactivate(&mut tx, self.state.now(), user_id)
            .await
            .expect("deactivate");
        tx.commit().await.expect("commit");
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_as::<_, (String,)>("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(&self.state.db.pool)
            .await
            .expect("audit log")
            .into_iter()
            .map(|(a,)| a)
            .collect()
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("user");
        id
    }
}

pub fn admin_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organisation_name", "Riverside College"),
        ("first_name", "Siân"),
        ("last_name", "O’Brien"),
        ("email", "Sian.OBrien@riverside.example"),
        ("generate_username", "on"),
        ("username", ""),
        ("initials", "SO"),
        ("password", PASSWORD),
    ]
}

fn client() -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

pub async fn fresh_postgres_database() -> String {
    use sqlx::{Connection, Executor};
    let admin = postgres_admin_url();
    let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// The JSON error a server function answered with, e.g. `"InvalidCredentials"`.
pub async fn error_of(response: Response) -> Value {
    response.json().await.expect("json error body")
}

/// The `name=value` of the session cookie a response set.
pub fn session_cookie(response: Response) -> String {
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("gatehouse_session="))
        .expect("a session cookie")
        .to_owned();
    header.split(';').next().expect("name=value").to_owned()
}

/// `whoami` with an explicit cookie, as a copied cookie would be replayed.
pub async fn whoami_with_cookie(app: &TestApp, cookie: &str) -> Option<Value> {
    whoami_and_new_cookie(app, cookie).await.0
}

/// `whoami` with an explicit cookie; also the session cookie the answer
/// sets, if it sets one (a rotated session id).
pub async fn whoami_and_new_cookie(app: &TestApp, cookie: &str) -> (Option<Value>, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}/fn/whoami", app.address))
        .header("origin", &app.address)
        .header("cookie", cookie)
        .header("accept", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let set = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_session=") && !v.starts_with("gatehouse_session=;"))
        .map(|v| v.split(';').next().expect("name=value").to_owned());
    let body: Value = response.json().await.expect("json");
    ((!body.is_null()).then_some(body), set)
}

// ---------------------------------------------------------------------------
// Accounts, onboarding and mail (added with the "Users and onboarding" tests).

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

// ---------------------------------------------------------------------------
// Two-factor authentication: administrators must use it, so every sign-in of
// Siân (and of any administrator) goes through the code step or enrolment.

/// Where a server function's answer sends the browser.
pub fn location(response: &Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The 6-digit code an authenticator app with `secret` shows at `time`.
pub fn totp_code(secret: &[u8], time: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .build()
        .expect("a valid secret")
        .generate(u64::try_from(time).expect("a time after 1970"))
        .to_string()
}

/// The secret bytes of a key as the enrolment page writes it (`ABCD EFGH …`).
pub fn secret_from_key(key: &str) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(key.replace(' ', ""))
        .expect("a base32 key")
        .as_bytes()
        .to_vec()
}

impl TestApp {
    /// Completes the step a response sends the browser to, if it is the
    /// code step or enrolment; otherwise returns the response as it is.
    async fn complete_second_factor(
        &self,
        client: &reqwest::Client,
        response: Response,
    ) -> Response {
        if response.status() != StatusCode::OK {
            return response;
        }
        match location(&response).as_deref() {
            Some(path) if path.starts_with("/sign-in/code") => {
                let user_id = self.session_user(&response).await;
                self.forget_used_step(user_id).await;
                let code = self.current_code(user_id).await;
                self.call_raw_as(client, "sign_in_code", &[("code", &code)])
                    .await
            }
            Some("/two-factor/enrol") => self.enrol_as(client).await.1,
            _ => response,
        }
    }

    /// Enrols the person signed in on `client`: reads the key from the
    /// enrolment page's data, confirms with its current code. Returns the
    /// secret and the confirming response.
    pub async fn enrol_as(&self, client: &reqwest::Client) -> (Vec<u8>, Response) {
        let enrolment = self.call_raw_as(client, "two_factor_enrolment", &[]).await;
        assert_eq!(enrolment.status(), StatusCode::OK, "enrolment page data");
        let body: Value = enrolment.json().await.expect("json");
        let secret = secret_from_key(body["key"].as_str().expect("key"));
        let code = totp_code(&secret, self.state.now());
        let confirmed = self
            .call_raw_as(client, "confirm_two_factor", &[("code", &code)])
            .await;
        assert_eq!(
            location(&confirmed).as_deref(),
            Some("/two-factor/recovery-codes"),
            "enrolment confirmed"
        );
        (secret, confirmed)
    }

    /// The code a person's authenticator app shows now.
    pub async fn current_code(&self, user_id: i64) -> String {
        let secret = backend::auth::two_factor::enrolled_secret(
            &self.state.db.pool,
            &self.state.settings,
            user_id,
        )
        .await
        .expect("secret")
        .expect("enrolled");
        totp_code(&secret, self.state.now())
    }

    /// Tests sign in many times within one 30-second step, which no person
    /// does; a code works only once, so the stand-in authenticator forgets
    /// which step was used last instead of waiting for the next one.
    async fn forget_used_step(&self, user_id: i64) {
        sqlx::query("UPDATE two_factor SET last_step = NULL WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.state.db.pool)
            .await
            .expect("forget the used step");
    }

    /// Whose session the cookie a response set belongs to.
    async fn session_user(&self, response: &Response) -> i64 {
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("gatehouse_session="))
            .expect("a session cookie");
        let token = cookie
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, token)| token)
            .expect("name=value");
        let (user_id,): (i64,) =
            sqlx::query_as("SELECT user_id FROM sessions WHERE token_hash = $1")
                .bind(backend::crypto::tokens::hash(token))
                .fetch_one(&self.state.db.pool)
                .await
                .expect("session");
        user_id
    }
}

// ---------------------------------------------------------------------------
// API users and the REST API.

impl TestApp {
    /// Adds an API user (as the main client's administrator) holding the
    /// organisation's roles named `roles`, makes it a token called
    /// `token_name` and returns the API user's id and the token, read back
    /// from the page section that shows it once.
    pub async fn api_user_with_token(
        &self,
        first_name: &'static str,
        last_name: &'static str,
        email: &'static str,
        initials: &'static str,
        roles: &[&str],
        token_name: &str,
    ) -> (i64, String) {
        let form = with(
            &person_form(first_name, last_name, email, initials),
            "api_user",
            "on",
        );
        let id = self.add_person(&form).await;
        let mut access: Vec<(&str, String)> = vec![("id", id.to_string())];
        for role in roles {
            let (role_id,): (i64,) = sqlx::query_as(
                "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
                 WHERE u.id = $1 AND r.name = $2",
            )
            .bind(id)
            .bind(*role)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("role {role}: {e}"));
            access.push(("roles[]", role_id.to_string()));
        }
        let access: Vec<(&str, &str)> = access.iter().map(|(f, v)| (*f, v.as_str())).collect();
        let saved = self.call("save_user_access", &access).await;
        assert_eq!(saved.status(), StatusCode::OK, "roles given");
        let token = self.create_token(id, token_name, "").await;
        (id, token)
    }

    /// Makes a token for the API user `id` as the main client's
    /// administrator (`expires_on` as the form takes it) and returns it.
    pub async fn create_token(&self, id: i64, name: &str, expires_on: &str) -> String {
        self.create_token_as(&self.client, id, name, expires_on)
            .await
    }

    /// `create_token` as the administrator signed in on `client`.
    pub async fn create_token_as(
        &self,
        client: &reqwest::Client,
        id: i64,
        name: &str,
        expires_on: &str,
    ) -> String {
        let id = id.to_string();
        let created = self
            .call_as(
                client,
                "create_api_token",
                &[("id", &id), ("name", name), ("expires_on", expires_on)],
            )
            .await;
        assert_eq!(
            created.status(),
            StatusCode::OK,
            "{}",
            created.text().await.unwrap_or_default()
        );
        let section = self.call_as(client, "api_tokens", &[("id", &id)]).await;
        assert_eq!(section.status(), StatusCode::OK);
        let body: Value = section.json().await.expect("json");
        body["new_token"]
            .as_str()
            .expect("the new token, shown once")
            .to_owned()
    }

    /// A REST API request with `token` (none: `None`) to `base` (an instance's address).
    pub fn api_at(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().request(method, format!("{base}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A REST API request to this instance.
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        self.api_at(&self.address, method, path, token)
    }
}

/// The JSON body of a REST answer, after checking its status (the body is
/// printed when the status is not the one expected).
pub async fn api_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The problem (RFC 9457) a REST answer carries, after checking its status,
/// its content type and that the body's `status` says the same.
pub async fn api_problem(response: Response, status: StatusCode) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = api_json(response, status).await;
    assert_eq!(content_type, "application/problem+json", "{problem}");
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
    for member in ["type", "title", "detail"] {
        assert!(problem[member].is_string(), "{member} in {problem}");
    }
    problem
}

/// The fields a problem's `errors` name.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    fields_named(&problem["errors"])
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

/// The message of an error answer, after checking its status and that the
/// error is of `kind` (`"Conflict"`, `"Overreach"`, …).
pub async fn refusal(response: Response, status: StatusCode, kind: &str) -> String {
    let got = response.status();
    let body = error_of(response).await;
    assert_eq!(got, status, "{body}");
    body[kind]
        .as_str()
        .unwrap_or_else(|| panic!("not a {kind} error: {body}"))
        .to_owned()
}

impl TestApp {
    /// Makes the main client's platform administrator work in `organisation`.
    pub async fn enter(&self, organisation: i64) {
        let entered = self
            .call(
                "enter_organisation",
                &[("organisation_id", &organisation.to_string())],
            )
            .await;
        assert_eq!(entered.status(), StatusCode::OK, "entered");
    }
}
