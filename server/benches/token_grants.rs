//! The token endpoint under load (docs/benchmarks.md, "Connected
//! applications"): authorization-code exchanges (each signs an ID token,
//! RS256 or EdDSA) and refresh grants (each spends a refresh token and
//! issues a new pair), over HTTP to the real router, with `--clients`
//! concurrent connections from this same process: server and load share
//! the machine's cores, as in the other figures.
//!
//! ```sh
//! cargo bench -p server --bench token_grants -- --backend both [--clients 32] [--codes 2000] [--seconds 20]
//! ```
//!
//! The organisation, the person, their Gatehouse session, the applications
//! and the authorization codes are written straight to the database first;
//! only the token endpoint is timed.
// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]
// A benchmark that cannot seed or measure should stop at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::AppState;
use backend::acting::Acting;
use backend::audit::ActedBy;
use backend::crypto::tokens;
use backend::db::Backend;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{BenchDatabase, Error, label, load_average, ms, percentile};

mod support;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

struct Options {
    backends: Vec<Backend>,
    clients: usize,
    codes: usize,
    seconds: u64,
}

fn options() -> Result<Options, Error> {
    let (backends, [clients, codes, seconds]) =
        support::arguments([("--clients", 32), ("--codes", 2000), ("--seconds", 20)])?;
    Ok(Options {
        backends,
        clients: clients as usize,
        codes: codes as usize,
        seconds,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = options()?;
    support::log_warnings();
    println!(
        "token grants: {} clients, {} codes per algorithm, refresh for {} s\n",
        options.clients, options.codes, options.seconds
    );
    support::on_each_backend(&options.backends, async |backend, database| {
        run(backend, database, &options).await
    })
    .await?;
    Ok(())
}

/// An application registered for the run, and the person's session.
struct Fixture {
    state: AppState,
    address: String,
    session_id: i64,
}

struct Application {
    id: i64,
    client_id: String,
    secret: String,
}

async fn run(backend: Backend, database: &BenchDatabase, options: &Options) -> Result<(), Error> {
    let label = label(backend);
    let fixture = start(database).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients)
        .build()?;
    println!("{label}: load average {}", load_average());
    println!("\n| {label} | grants | per second | p50 | p99 |\n|---|---|---|---|---|");
    let mut refresh_tokens = Vec::new();
    for algorithm in ["RS256", "EdDSA"] {
        let application = register(&fixture, algorithm).await?;
        let codes = seed_codes(&fixture, &application, options.codes).await?;
        let outcome = exchange_all(&http, &fixture, &application, codes, options.clients).await?;
        println!(
            "| code exchange ({algorithm} ID token) | {} | {:.0} | {} | {} |",
            outcome.count,
            outcome.per_second(),
            ms(outcome.p50),
            ms(outcome.p99)
        );
        if algorithm == "RS256" {
            refresh_tokens = outcome
                .refresh_tokens
                .into_iter()
                .take(options.clients)
                .map(|t| (application_pair(&application), t))
                .collect();
        }
    }
    let outcome = refresh_for(
        &http,
        &fixture,
        refresh_tokens,
        Duration::from_secs(options.seconds),
    )
    .await?;
    println!(
        "| refresh grant | {} | {:.0} | {} | {} |",
        outcome.count,
        outcome.per_second(),
        ms(outcome.p50),
        ms(outcome.p99)
    );
    println!("\n{label}: load average {}\n", load_average());
    fixture.state.db.pool.close().await;
    Ok(())
}

fn application_pair(application: &Application) -> (String, String) {
    (application.client_id.clone(), application.secret.clone())
}

/// The real server on a free port, an organisation with one active person
/// signed in, and the signing keys made.
async fn start(database: &BenchDatabase) -> Result<Fixture, Error> {
    let (state, address) = support::serve(database, |_| {}).await?;
    let now = state.now();
    let name = domain::OrganisationName::parse("Bench College").map_err(|e| e.message)?;
    let organisation =
        backend::onboarding::setup::create_organisation(&state.db, now, &name).await?;
    let person = domain::PersonForm {
        first_name: "Siân",
        last_name: "O’Brien",
        email: "sian@bench.example",
        username: None,
        initials: None,
    }
    .parse()
    .map_err(|e| format!("{e:?}"))?;
    let mut write = Acting::new(now, ActedBy::NOBODY, "bench")
        .begin(&state.db)
        .await?;
    let user_id = backend::accounts::administration::create_account(
        &mut write,
        &state,
        organisation,
        &backend::accounts::administration::NewUser {
            person,
            kind: backend::accounts::users::AccountKind::Person,
            send_welcome_email: false,
        },
    )
    .await?;
    sqlx::query("UPDATE users SET state = 'active', activated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut *write)
        .await?;
    write.commit().await?;
    let token = support::session_for(&state, user_id).await?;
    let (session_id,): (i64,) = sqlx::query_as("SELECT id FROM sessions WHERE token_hash = $1")
        .bind(tokens::hash(&token))
        .fetch_one(&state.db.pool)
        .await?;
    backend::oidc::keys::ensure(&state.db, &state.settings, now).await?;
    Ok(Fixture {
        state,
        address,
        session_id,
    })
}

/// A confidential application open to everyone, its ID tokens signed with `algorithm`.
async fn register(fixture: &Fixture, algorithm: &str) -> Result<Application, Error> {
    let now = fixture.state.now();
    let client_id = tokens::generate()[..32].to_owned();
    let secret = format!("gcs_{}", tokens::generate());
    let (organisation_id,): (i64,) = sqlx::query_as(
        "SELECT u.organisation_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(fixture.session_id)
    .fetch_one(&fixture.state.db.pool)
    .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO applications (organisation_id, client_id, name, client_kind, secret_hash, secret_set_at,
             redirect_uris, post_logout_redirect_uris, audience, requires_two_factor, id_token_algorithm,
             access_token_seconds, refresh_token_seconds, created_at, updated_at)
         VALUES ($1, $2, $3, 'confidential', $4, $5, $6, '', 'everyone', 0, $7, 600, 86400, $5, $5)
         RETURNING id",
    )
    .bind(organisation_id)
    .bind(&client_id)
    .bind(format!("Bench {algorithm}"))
    .bind(tokens::hash(&secret))
    .bind(now)
    .bind(REDIRECT_URI)
    .bind(algorithm)
    .fetch_one(&fixture.state.db.pool)
    .await?;
    Ok(Application {
        id,
        client_id,
        secret,
    })
}

/// `count` unused codes of the person's session for the application, with
/// their verifiers.
async fn seed_codes(
    fixture: &Fixture,
    application: &Application,
    count: usize,
) -> Result<Vec<(String, String)>, Error> {
    let now = fixture.state.now();
    let mut codes = Vec::with_capacity(count);
    let mut tx = fixture.state.db.pool.begin().await?;
    for _ in 0..count {
        let code = tokens::generate();
        let verifier = tokens::generate();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        sqlx::query(
            "INSERT INTO authorization_codes
                 (code_hash, application_id, session_id, redirect_uri, code_challenge, scope, nonce, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, 'openid profile email', 'n', $6, $7)",
        )
        .bind(tokens::hash(&code))
        .bind(application.id)
        .bind(fixture.session_id)
        .bind(REDIRECT_URI)
        .bind(challenge)
        .bind(now)
        .bind(now + 3600)
        .execute(&mut *tx)
        .await?;
        codes.push((code, verifier));
    }
    tx.commit().await?;
    Ok(codes)
}

struct Outcome {
    count: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    refresh_tokens: Vec<String>,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn of(mut times: Vec<Duration>, elapsed: Duration, refresh_tokens: Vec<String>) -> Outcome {
        Outcome {
            count: times.len(),
            elapsed,
            p50: percentile(&mut times, 50),
            p99: percentile(&mut times, 99),
            refresh_tokens,
        }
    }
}

/// One token request; the new refresh token.
async fn grant(
    http: &reqwest::Client,
    address: &str,
    (client_id, secret): &(String, String),
    form: &[(&str, &str)],
) -> Result<String, Error> {
    let response = http
        .post(format!("{address}/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("token endpoint answered {status}: {body}").into());
    }
    Ok(body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Exchanges every code, `clients` at a time.
async fn exchange_all(
    http: &reqwest::Client,
    fixture: &Fixture,
    application: &Application,
    codes: Vec<(String, String)>,
    clients: usize,
) -> Result<Outcome, Error> {
    let codes = Arc::new(std::sync::Mutex::new(codes));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (http, codes, address, credentials) = (
            http.clone(),
            codes.clone(),
            fixture.address.clone(),
            application_pair(application),
        );
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut refresh_tokens = Vec::new();
            loop {
                let Some((code, verifier)) = codes.lock().expect("codes").pop() else {
                    break;
                };
                let begun = Instant::now();
                let refresh = grant(
                    &http,
                    &address,
                    &credentials,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT_URI),
                        ("code_verifier", &verifier),
                    ],
                )
                .await
                .map_err(|e| e.to_string())?;
                times.push(begun.elapsed());
                refresh_tokens.push(refresh);
            }
            Ok::<_, String>((times, refresh_tokens))
        }));
    }
    let (mut times, mut refresh_tokens) = (Vec::new(), Vec::new());
    for worker in workers {
        let (t, r) = worker.await??;
        times.extend(t);
        refresh_tokens.extend(r);
    }
    Ok(Outcome::of(times, started.elapsed(), refresh_tokens))
}

/// Each chain refreshes as fast as it can for `duration`, one client each.
async fn refresh_for(
    http: &reqwest::Client,
    fixture: &Fixture,
    chains: Vec<((String, String), String)>,
    duration: Duration,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let mut workers = Vec::new();
    for (credentials, mut refresh) in chains {
        let (http, address) = (http.clone(), fixture.address.clone());
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while started.elapsed() < duration {
                let begun = Instant::now();
                refresh = grant(
                    &http,
                    &address,
                    &credentials,
                    &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
                )
                .await
                .map_err(|e| e.to_string())?;
                times.push(begun.elapsed());
            }
            Ok::<_, String>(times)
        }));
    }
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await??);
    }
    Ok(Outcome::of(times, started.elapsed(), Vec::new()))
}
