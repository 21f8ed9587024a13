//! Signed-in requests against `/ready` (docs/benchmarks.md, "Signed-in
//! requests"): the real router on a free port, `--clients` concurrent
//! connections from this same process for `--seconds` per case: `/ready`
//! (one statement), a signed-in page (`/profile`, with its session cookie),
//! a REST read (`GET /api/v1/users/{id}`, with an API token) and REST
//! account creation (`POST /api/v1/users`, a new person each time). Server
//! and load share the machine's cores, as in the other figures.
//!
//! ```sh
//! cargo bench -p server --bench signed_in -- --backend both [--clients 32] [--seconds 10]
//! ```
//!
//! The organisation, the person (with a session) and the API user (with a
//! token, holding User administrator) are written straight to the database
//! first.
// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]
// A benchmark that cannot seed or measure should stop at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::AppState;
use backend::accounts::administration::{NewUser, create_account};
use backend::accounts::users::AccountKind;
use backend::acting::Acting;
use backend::audit::ActedBy;
use backend::crypto::tokens;
use backend::db::Backend;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{BenchDatabase, Error, LoadOptions, label, load_average, ms, percentile};

mod support;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = support::load_options(10)?;
    support::log_warnings();
    println!(
        "signed-in requests: {} clients, {} s per case\n",
        options.clients, options.seconds
    );
    support::on_each_backend(&options.backends, async |backend, database| {
        run(backend, database, &options).await
    })
    .await?;
    Ok(())
}

/// The server, and what the requests need: a session cookie, an API token
/// and an account to read.
struct Fixture {
    state: AppState,
    address: String,
    cookie: String,
    /// Two tokens of the API user, one for reading and one for adding
    /// people: each counts towards its own per-minute limit.
    api_tokens: [String; 2],
    person_id: i64,
}

async fn run(
    backend: Backend,
    database: &BenchDatabase,
    options: &LoadOptions,
) -> Result<(), Error> {
    let label = label(backend);
    let fixture = start(database).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    println!("{label}: load average {}", load_average());
    println!(
        "\n| {label} | requests | per second | of /ready | p50 | p99 |\n|---|---|---|---|---|---|"
    );
    let seconds = Duration::from_secs(options.seconds);
    let address = fixture.address.clone();
    let ready = measure(
        &http,
        options.clients,
        seconds,
        StatusCode::OK,
        move |http, _| http.get(format!("{address}/ready")),
    )
    .await?;
    let (address, cookie) = (fixture.address.clone(), fixture.cookie.clone());
    let page = measure(
        &http,
        options.clients,
        seconds,
        StatusCode::OK,
        move |http, _| {
            http.get(format!("{address}/profile"))
                .header("accept", "text/html")
                .header("cookie", &cookie)
        },
    )
    .await?;
    let (address, token) = (fixture.address.clone(), fixture.api_tokens[0].clone());
    let person_id = fixture.person_id;
    let rest = measure(
        &http,
        options.clients,
        seconds,
        StatusCode::OK,
        move |http, _| {
            http.get(format!("{address}/api/v1/users/{person_id}"))
                .bearer_auth(&token)
        },
    )
    .await?;
    let (address, token) = (fixture.address.clone(), fixture.api_tokens[1].clone());
    let created = measure(
        &http,
        options.clients,
        seconds,
        StatusCode::CREATED,
        move |http, n| {
            // A surname and initials of its own, so the username made from
            // the names is free at once, as for most real additions (initials
            // are unique in an organisation, and names take no digits).
            let surname = format!("Bench{}", letters(n));
            http.post(format!("{address}/api/v1/users"))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "first_name": "Ada",
                    "last_name": surname,
                    "email": format!("ada.{}@bench.example", letters(n)),
                "initials": format!("{n:X}"),
                }))
        },
    )
    .await?;
    for (case, outcome) in [
        ("`GET /ready`", &ready),
        ("signed-in `GET /profile`", &page),
        ("REST `GET /api/v1/users/{id}`", &rest),
        ("REST `POST /api/v1/users`", &created),
    ] {
        println!(
            "| {case} | {} | {:.0} | {:.1} % | {} | {} |",
            outcome.count,
            outcome.per_second,
            100.0 * outcome.per_second / ready.per_second,
            ms(outcome.p50),
            ms(outcome.p99)
        );
    }
    println!("\n{label}: load average {}\n", load_average());
    fixture.state.db.pool.close().await;
    Ok(())
}

struct Outcome {
    count: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `clients` connections sending requests made by `request` for
/// `duration`; each request gets its own number, and every answer must be
/// `expected`.
async fn measure(
    http: &reqwest::Client,
    clients: usize,
    duration: Duration,
    expected: StatusCode,
    request: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Result<Outcome, Error> {
    let request = Arc::new(request);
    let sent_so_far = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, request, sent_so_far) = (http.clone(), request.clone(), sent_so_far.clone());
        tasks.spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let n = sent_so_far.fetch_add(1, Ordering::Relaxed);
                let outgoing = request(&http, n).build().expect("a request");
                let url = outgoing.url().clone();
                let sent = Instant::now();
                let response = http.execute(outgoing).await.expect("an answer");
                let status = response.status();
                let body = response.bytes().await.expect("a body");
                assert_eq!(
                    status,
                    expected,
                    "{url}: {}",
                    String::from_utf8_lossy(&body)
                );
                times.push(sent.elapsed());
            }
            times
        });
    }
    let mut times = Vec::new();
    while let Some(done) = tasks.join_next().await {
        times.extend(done?);
    }
    let elapsed = started.elapsed();
    Ok(Outcome {
        count: times.len(),
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&mut times, 50),
        p99: percentile(&mut times, 99),
    })
}

/// `n` in letters (a, b, …, z, ba, bb, …): names take letters, not digits.
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

async fn start(database: &BenchDatabase) -> Result<Fixture, Error> {
    let (state, address) =
        support::serve(database, |s| s.api_requests_per_minute = 100_000).await?;
    let now = state.now();
    let name = domain::OrganisationName::parse("Bench College").map_err(|e| e.message)?;
    let organisation =
        backend::onboarding::setup::create_organisation(&state.db, now, &name).await?;
    let mut write = Acting::new(now, ActedBy::NOBODY, "bench")
        .begin(&state.db)
        .await?;
    let mut accounts = Vec::new();
    for (first_name, last_name, email, kind) in [
        ("Siân", "O’Brien", "sian@bench.example", AccountKind::Person),
        ("Rhodri", "Evans", "rhodri@bench.example", AccountKind::Api),
    ] {
        let person = domain::PersonForm {
            first_name,
            last_name,
            email,
            username: None,
            initials: None,
        }
        .parse()
        .map_err(|e| format!("{e:?}"))?;
        let id = create_account(
            &mut write,
            &state,
            organisation,
            &NewUser {
                person,
                kind,
                send_welcome_email: false,
            },
        )
        .await?;
        sqlx::query("UPDATE users SET state = 'active', activated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *write)
            .await?;
        accounts.push(id);
    }
    let (person_id, api_user_id) = (accounts[0], accounts[1]);
    sqlx::query(
        "INSERT INTO user_roles (user_id, role_id, granted_at)
         SELECT $1, id, $3 FROM roles WHERE organisation_id = $2 AND name = 'User administrator'",
    )
    .bind(api_user_id)
    .bind(organisation)
    .bind(now)
    .execute(&mut *write)
    .await?;
    let mut api_tokens = [String::new(), String::new()];
    for (name, api_token) in ["reads", "adds"].into_iter().zip(&mut api_tokens) {
        *api_token = format!(
            "{}{}",
            backend::api_tokens::TOKEN_PREFIX,
            tokens::generate()
        );
        sqlx::query(
            "INSERT INTO api_tokens (user_id, organisation_id, name, prefix, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(api_user_id)
        .bind(organisation)
        .bind(name)
        .bind(&api_token[..12])
        .bind(tokens::hash(api_token))
        .bind(now)
        .execute(&mut *write)
        .await?;
    }
    write.commit().await?;
    let token = support::session_for(&state, person_id).await?;
    let cookie = backend::auth::sessions::session_cookie(&state.settings, token)
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(Fixture {
        state,
        address,
        cookie,
        api_tokens,
        person_id,
    })
}
