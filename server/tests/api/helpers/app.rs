//! The core `TestApp`: spawning the server on either backend, calling server
//! functions as the browser does, first-run setup, signing in, and reading
//! what the server thinks of a session.

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
        // A request the server never answers fails its test, with the
        // request named, instead of stalling the whole run.
        .timeout(std::time::Duration::from_secs(60))
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
