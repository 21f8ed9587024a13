//! Sign-ins under a saturating load, and the server's memory through it
//! (docs/benchmarks.md, "Sign-ins and memory"): the real binary, started as
//! its own process so that its resident memory can be read from /proc,
//! with `--clients` concurrent sign-ins from this process for `--seconds`.
//! One in eight signs in the administrator, the rest try unknown logins
//! (checked against the dummy hash, as Argon2-costly as a real one); each
//! request comes from its own address (`X-Forwarded-For`), so only the
//! administrator's own account throttle can turn some away (attempts are
//! counted before they are judged): those are reported apart.
//!
//! ```sh
//! cargo bench -p server --bench sign_ins -- --backend both [--clients 32] [--seconds 20]
//! ```
//!
//! Reported: sign-ins per second against the cores' Argon2 limit (measured
//! here, one hash per core at a time), and resident memory idle (before the
//! first hash), at its peak (VmHWM) and 35 s after the load (the hashing
//! threads give their memory back after 30 s idle): all of it (RSS), and
//! the process's own (anonymous: RssAnon, sampled every 20 ms for its
//! peak), without the pages of the binary's code mapped from the page cache.
// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]
// A benchmark that cannot start or measure should stop at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use backend::db::Backend;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{BenchDatabase, Error, LoadOptions, label, load_average, ms, percentile};

mod support;

const PASSWORD: &str = "correct horse battery staple 42";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = support::load_options(20)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limit = argon2_limit(cores);
    println!(
        "sign-ins: {} clients for {} s; Argon2 limit of {cores} cores: {limit:.0}/s\n",
        options.clients, options.seconds
    );
    println!(
        "| backend | sign-ins/s | of the Argon2 limit | p50 | p99 | refused (503) | throttled (429) | idle RSS (anonymous) | peak RSS (anonymous) | 35 s after RSS (anonymous) |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    support::on_each_backend(&options.backends, async |backend, database| {
        run(backend, database, &options, limit).await
    })
    .await?;
    println!("\nload average {}", load_average());
    Ok(())
}

/// Argon2 verifications per second that `cores` threads can do together,
/// each one at a time: the ceiling for sign-ins.
fn argon2_limit(cores: usize) -> f64 {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT);
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = argon2
        .hash_password(PASSWORD.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    let rounds = 100;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| {
                let parsed = argon2::PasswordHash::new(&hash).expect("a hash");
                for _ in 0..rounds {
                    argon2
                        .verify_password(PASSWORD.as_bytes(), &parsed)
                        .expect("verified");
                }
            });
        }
    });
    (cores * rounds) as f64 / started.elapsed().as_secs_f64()
}

/// The server process, killed when dropped.
struct Server {
    child: Child,
    address: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `gatehouse serve` and returns it with its one-time setup link.
    fn start(database: &BenchDatabase) -> Result<(Server, String), Error> {
        let data = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let address = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .env("GATEHOUSE_DATABASE_URL", &database.url)
            .env("GATEHOUSE_DATA_DIR", data.path())
            .env("GATEHOUSE_BIND_ADDRESS", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_PUBLIC_URL", &address)
            .env("GATEHOUSE_TRUST_FORWARDED_FOR", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let link = loop {
            let line = lines
                .next()
                .ok_or("the server stopped before its setup link")??;
            if let Some(start) = line.find("/setup/") {
                break line[start..].trim().to_owned();
            }
        };
        // The request log goes on; keep the pipe from filling.
        std::thread::spawn(move || for _ in lines {});
        Ok((
            Server {
                child,
                address,
                _data: data,
            },
            link,
        ))
    }

    /// A line of /proc/PID/status in MiB (`VmRSS`, `VmHWM`).
    fn memory(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{field}:")))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

async fn wait_until_ready(http: &reqwest::Client, address: &str) -> Result<(), Error> {
    for _ in 0..200 {
        if let Ok(response) = http.get(format!("{address}/ready")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the server never became ready".into())
}

async fn run(
    backend: Backend,
    database: &BenchDatabase,
    options: &LoadOptions,
    limit: f64,
) -> Result<(), Error> {
    let (server, link) = Server::start(database)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients)
        .build()?;
    wait_until_ready(&http, &server.address).await?;
    let idle = (server.memory("VmRSS"), server.memory("RssAnon"));
    let token = link.trim_start_matches("/setup/");
    let setup = http
        .post(format!("{}/fn/complete_setup", server.address))
        .form(&[
            ("token", token),
            ("organisation_name", "Riverside College"),
            ("first_name", "Siân"),
            ("last_name", "O’Brien"),
            ("email", "sian.obrien@riverside.example"),
            ("generate_username", "on"),
            ("username", ""),
            ("initials", "SO"),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    if !setup.status().is_success() {
        return Err(format!("setup failed: {}", setup.text().await?).into());
    }

    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let next_address = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    let started = Instant::now();
    for _ in 0..options.clients {
        let (http, address) = (http.clone(), server.address.clone());
        let (next_address, refused, throttled) =
            (next_address.clone(), refused.clone(), throttled.clone());
        clients.spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let n = next_address.fetch_add(1, Ordering::Relaxed);
                let client = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
                let login = if n % 8 == 0 {
                    "sian.obrien".to_owned()
                } else {
                    format!("nobody{n}")
                };
                let sent = Instant::now();
                let response = http
                    .post(format!("{address}/fn/sign_in"))
                    .header("x-forwarded-for", client)
                    .form(&[("login", login.as_str()), ("password", PASSWORD)])
                    .send()
                    .await
                    .expect("an answer");
                match response.status().as_u16() {
                    200 | 401 => times.push(sent.elapsed()),
                    503 => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    429 => {
                        throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!(
                        "sign-in answered {other}: {}",
                        response.text().await.unwrap_or_default()
                    ),
                }
            }
            times
        });
    }
    let mut times = Vec::new();
    let mut peak_anonymous: f64 = 0.0;
    while !clients.is_empty() {
        tokio::select! {
            done = clients.join_next() => {
                if let Some(done) = done {
                    times.extend(done?);
                }
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                peak_anonymous = peak_anonymous.max(server.memory("RssAnon"));
            }
        }
    }
    let elapsed = started.elapsed();
    let peak = server.memory("VmHWM");
    tokio::time::sleep(Duration::from_secs(35)).await;
    let after = (server.memory("VmRSS"), server.memory("RssAnon"));
    let rate = times.len() as f64 / elapsed.as_secs_f64();
    println!(
        "| {} | {rate:.0} | {:.0} % | {} | {} | {} | {} | {:.1} MiB ({:.1}) | {peak:.1} MiB ({peak_anonymous:.1}) | {:.1} MiB ({:.1}) |",
        label(backend),
        100.0 * rate / limit,
        ms(percentile(&mut times, 50)),
        ms(percentile(&mut times, 99)),
        refused.load(Ordering::Relaxed),
        throttled.load(Ordering::Relaxed),
        idle.0,
        idle.1,
        after.0,
        after.1,
    );
    Ok(())
}
