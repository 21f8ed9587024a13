//! Signed-in requests against `/ready` (docs/benchmarks.md, "Signed-in
//! requests"): the real router on a free port, `--clients` concurrent
//! connections for `--seconds` per case: `/ready` (one statement), a
//! signed-in page (`/profile`, with its session cookie), a REST read
//! (`GET /api/v1/users/{id}`, with an API token) and REST account creation
//! (`POST /api/v1/users`, a new person each time).
//!
//! ```sh
//! cargo bench -p server --bench signed_in -- --backend both [--clients 32] [--seconds 10] [--wrk-threads 2]
//! ```
//!
//! The load comes from this same process, or with `--wrk-threads` from wrk
//! (Debian's package) in a process of its own, as the issue's starting
//! figures were measured; either way server and load share the machine's
//! cores. The organisation, the person (with a session) and the API user
//! (with tokens, holding User administrator) are written straight to the
//! database first.
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
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{BenchDatabase, Error, label, load_average, ms, percentile};

mod support;

/// API tokens per case: a fast case under wrk can pass one token's limit
/// of 100,000 requests a minute, so requests take turns.
const TOKENS_PER_CASE: usize = 4;

struct Options {
    backends: Vec<Backend>,
    clients: usize,
    seconds: u64,
    /// wrk's threads; 0 for the load from this process.
    wrk_threads: u64,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (backends, [clients, seconds, wrk_threads]) =
        support::arguments([("--clients", 32), ("--seconds", 10), ("--wrk-threads", 0)])?;
    let options = Options {
        backends,
        clients: usize::try_from(clients)?,
        seconds,
        wrk_threads,
    };
    support::log_warnings();
    let load = match options.wrk_threads {
        0 => "this process".to_owned(),
        threads => format!("wrk with {threads} threads"),
    };
    println!(
        "signed-in requests: {} clients, {} s per case, load from {load}\n",
        options.clients, options.seconds
    );
    support::on_each_backend(&options.backends, async |backend, database| {
        run(backend, database, &options).await
    })
    .await?;
    Ok(())
}

/// The server, and what the requests need: a session cookie, API tokens
/// and an account to read.
struct Fixture {
    state: AppState,
    address: String,
    cookie: String,
    /// The API user's tokens for reading, and for adding people: each
    /// counts towards its own per-minute limit.
    read_tokens: Vec<String>,
    add_tokens: Vec<String>,
    person_id: i64,
}

/// One kind of request, sent again and again.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    /// Request `n` sends `authorizations[n % len]`, if any.
    authorizations: Vec<String>,
    /// Whether each request adds a new person (a JSON body).
    adds_person: bool,
    expected: StatusCode,
}

async fn run(backend: Backend, database: &BenchDatabase, options: &Options) -> Result<(), Error> {
    let label = label(backend);
    let fixture = start(database).await?;
    let bearer = |tokens: &[String]| tokens.iter().map(|t| format!("Bearer {t}")).collect();
    let cases = [
        Case {
            name: "`GET /ready`",
            method: Method::GET,
            path: "/ready".to_owned(),
            headers: vec![],
            authorizations: vec![],
            adds_person: false,
            expected: StatusCode::OK,
        },
        Case {
            name: "signed-in `GET /profile`",
            method: Method::GET,
            path: "/profile".to_owned(),
            headers: vec![
                ("accept", "text/html".to_owned()),
                ("cookie", fixture.cookie.clone()),
            ],
            authorizations: vec![],
            adds_person: false,
            expected: StatusCode::OK,
        },
        Case {
            name: "REST `GET /api/v1/users/{id}`",
            method: Method::GET,
            path: format!("/api/v1/users/{}", fixture.person_id),
            headers: vec![],
            authorizations: bearer(&fixture.read_tokens),
            adds_person: false,
            expected: StatusCode::OK,
        },
        Case {
            name: "REST `POST /api/v1/users`",
            method: Method::POST,
            path: "/api/v1/users".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            authorizations: bearer(&fixture.add_tokens),
            adds_person: true,
            expected: StatusCode::CREATED,
        },
    ];
    println!("{label}: load average {}", load_average());
    let seconds = Duration::from_secs(options.seconds);
    let mut outcomes = Vec::new();
    for case in cases {
        let outcome = match options.wrk_threads {
            0 => measure(&fixture.address, options.clients, seconds, case).await?,
            threads => wrk(&fixture.address, threads, options.clients, seconds, &case).await?,
        };
        outcomes.push(outcome);
    }
    println!(
        "\n| {label} | requests | per second | of /ready | p50 | p99 |\n|---|---|---|---|---|---|"
    );
    let ready = outcomes[0].per_second;
    for outcome in &outcomes {
        println!(
            "| {} | {} | {:.0} | {:.1} % | {} | {} |",
            outcome.case,
            outcome.count,
            outcome.per_second,
            100.0 * outcome.per_second / ready,
            ms(outcome.p50),
            ms(outcome.p99)
        );
    }
    println!("\n{label}: load average {}\n", load_average());
    fixture.state.db.pool.close().await;
    Ok(())
}

struct Outcome {
    case: &'static str,
    count: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// The person request `n` adds: names take letters, not digits, and
/// initials are unique in an organisation, so each gets its own surname
/// and initials, and the username made from the names is free at once, as
/// for most real additions. The wrk script makes the same.
fn new_person(n: usize) -> String {
    serde_json::json!({
        "first_name": "Ada",
        "last_name": format!("Bench{}", letters(n)),
        "email": format!("ada.{}@bench.example", letters(n)),
        "initials": format!("{n:X}"),
    })
    .to_string()
}

/// `clients` connections from this process sending `case` for `duration`;
/// every answer must be the case's expected status.
async fn measure(
    address: &str,
    clients: usize,
    duration: Duration,
    case: Case,
) -> Result<Outcome, Error> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let url = reqwest::Url::parse(&format!("{address}{}", case.path))?;
    let name = case.name;
    let case = Arc::new(case);
    let sent_so_far = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, case, url, sent_so_far) =
            (http.clone(), case.clone(), url.clone(), sent_so_far.clone());
        tasks.spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let n = sent_so_far.fetch_add(1, Ordering::Relaxed);
                let mut request = http.request(case.method.clone(), url.clone());
                for (name, value) in &case.headers {
                    request = request.header(*name, value);
                }
                if !case.authorizations.is_empty() {
                    let authorization = &case.authorizations[n % case.authorizations.len()];
                    request = request.header("authorization", authorization);
                }
                if case.adds_person {
                    request = request.body(new_person(n));
                }
                let sent = Instant::now();
                let response = request.send().await.expect("an answer");
                let status = response.status();
                let body = response.bytes().await.expect("a body");
                assert_eq!(
                    status,
                    case.expected,
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
        case: name,
        count: times.len(),
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&mut times, 50),
        p99: percentile(&mut times, 99),
    })
}

/// `case` from wrk with `threads` threads and `clients` connections for
/// `duration`. Its script counts every answer that is not the expected
/// status, and any such answer, or any socket error, fails the run.
async fn wrk(
    address: &str,
    threads: u64,
    clients: usize,
    duration: Duration,
    case: &Case,
) -> Result<Outcome, Error> {
    let script = tempfile::Builder::new().suffix(".lua").tempfile()?;
    std::fs::write(script.path(), wrk_script(case, threads))?;
    let output = tokio::process::Command::new("wrk")
        .arg(format!("--threads={threads}"))
        .arg(format!("--connections={clients}"))
        .arg(format!("--duration={}s", duration.as_secs()))
        .arg("--latency")
        .arg("--script")
        .arg(script.path())
        .arg(format!("{address}{}", case.path))
        .output()
        .await
        .map_err(|e| format!("wrk (apt-get install wrk): {e}"))?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success()
        || report.contains("Non-2xx or 3xx responses")
        || report.contains("Socket errors")
        || !report.contains("unexpected statuses: 0\n")
    {
        return Err(format!(
            "{}: wrk failed or was answered wrongly:\n{report}{}",
            case.name,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let value = |label: &str| -> Result<&str, Error> {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(str::trim)
            .ok_or_else(|| format!("no {label:?} in wrk's report:\n{report}").into())
    };
    let count: usize = report
        .lines()
        .find(|line| line.contains(" requests in "))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no request count in wrk's report:\n{report}"))?;
    Ok(Outcome {
        case: case.name,
        count,
        per_second: value("Requests/sec:")?.parse()?,
        p50: wrk_latency(value("50%")?)?,
        p99: wrk_latency(value("99%")?)?,
    })
}

/// A latency as wrk writes it: `812.00us`, `1.05ms`, `1.20s`.
fn wrk_latency(text: &str) -> Result<Duration, Error> {
    let (number, seconds_per_unit) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(format!("a latency wrk wrote: {text}").into());
    };
    Ok(Duration::from_secs_f64(
        number.parse::<f64>()? * seconds_per_unit,
    ))
}

/// The wrk script of `case`: each thread numbers its requests so that no
/// two threads make the same person (`new_person`'s rules, in Lua).
fn wrk_script(case: &Case, threads: u64) -> String {
    let lua = |text: &str| format!("{text:?}");
    let headers: String = case
        .headers
        .iter()
        .map(|(name, value)| format!("[{}] = {}, ", lua(name), lua(value)))
        .collect();
    let authorizations: String = case
        .authorizations
        .iter()
        .map(|a| format!("{}, ", lua(a)))
        .collect();
    format!(
        r#"local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local n = 0
-- A global: done() reads each thread's count with thread:get.
wrong = 0
local authorizations = {{ {authorizations} }}
local function letters(k)
  local s = ""
  repeat
    s = string.char(97 + k % 26) .. s
    k = math.floor(k / 26)
  until k == 0
  return s
end
function request()
  local k = n * {threads} + id
  n = n + 1
  local headers = {{ {headers} }}
  if #authorizations > 0 then
    headers["authorization"] = authorizations[k % #authorizations + 1]
  end
  local body = nil
  if {adds_person} then
    body = string.format('{{"first_name":"Ada","last_name":"Bench%s","email":"ada.%s@bench.example","initials":"%X"}}', letters(k), letters(k), k)
  end
  return wrk.format({method}, {path}, headers, body)
end
function response(status, headers, body)
  if status ~= {expected} then
    wrong = wrong + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("wrong")
  end
  io.write(string.format("unexpected statuses: %d\n", total))
end
"#,
        adds_person = case.adds_person,
        method = lua(case.method.as_str()),
        path = lua(&case.path),
        expected = case.expected.as_u16(),
    )
}

/// `n` in letters (a, b, …, z, ba, bb, …).
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
    let mut api_tokens = Vec::new();
    for use_ in ["reads", "adds"] {
        for number in 0..TOKENS_PER_CASE {
            let api_token = format!(
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
            .bind(format!("{use_} {number}"))
            .bind(&api_token[..12])
            .bind(tokens::hash(&api_token))
            .bind(now)
            .execute(&mut *write)
            .await?;
            api_tokens.push(api_token);
        }
    }
    let add_tokens = api_tokens.split_off(TOKENS_PER_CASE);
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
        read_tokens: api_tokens,
        add_tokens,
        person_id,
    })
}
