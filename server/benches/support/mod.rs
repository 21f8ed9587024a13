//! What the benchmarks share: a fresh database on either backend, the
//! machine's load, and percentiles.

use backend::db::{Backend, Db};
use std::time::Duration;

pub type Error = Box<dyn std::error::Error>;

/// A database for one run: a SQLite file in a temporary directory, or a new
/// PostgreSQL database on `GATEHOUSE_BENCH_POSTGRES_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`), named `name`, made unless
/// `existing` says it is there already.
pub struct BenchDatabase {
    pub url: String,
    pub fresh: bool,
    /// The temporary directory of a SQLite file (removed when dropped).
    pub dir: Option<tempfile::TempDir>,
    postgres_admin: Option<(Db, String)>,
}

impl BenchDatabase {
    pub async fn sqlite(existing: Option<&str>) -> Result<BenchDatabase, Error> {
        let dir = tempfile::tempdir()?;
        let path = match existing {
            Some(file) => std::path::PathBuf::from(file),
            None => dir.path().join("bench.db"),
        };
        Ok(BenchDatabase {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            fresh: existing.is_none(),
            dir: Some(dir),
            postgres_admin: None,
        })
    }

    pub async fn postgres(existing: Option<&str>) -> Result<BenchDatabase, Error> {
        let admin = std::env::var("GATEHOUSE_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = existing
            .map(str::to_owned)
            .unwrap_or_else(|| format!("gatehouse_bench_{}", std::process::id()));
        let admin_db = Db::connect(&admin).await?;
        if existing.is_none() {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin_db.pool)
                .await?;
        }
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Ok(BenchDatabase {
            url: format!("{base}/{name}"),
            fresh: existing.is_none(),
            dir: None,
            postgres_admin: Some((admin_db, name)),
        })
    }

    /// Drops a PostgreSQL database this run made, unless `keep`.
    pub async fn finish(self, keep: bool) -> Result<(), Error> {
        if let Some((admin_db, name)) = &self.postgres_admin {
            if keep || !self.fresh {
                println!("kept database {name}");
            } else {
                sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .execute(&admin_db.pool)
                    .await?;
            }
        } else if keep && let Some(dir) = self.dir {
            println!("kept {}", self.url);
            std::mem::forget(dir);
        }
        Ok(())
    }
}

/// Logs what the server warns of (a 500's cause) to stderr, and not the
/// line each request writes at `info`, which would cost more than some of
/// the requests measured.
#[allow(dead_code)] // the benches that run the server in this process
pub fn log_warnings() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
}

/// The real server on a free port over `database`, with `settings`
/// adjusted; its state and address.
#[allow(dead_code)] // the benchmarks that run the server in this process
pub async fn serve(
    database: &BenchDatabase,
    adjust: impl FnOnce(&mut backend::config::Settings),
) -> Result<(backend::AppState, String), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let data_dir = tempfile::tempdir()?;
    let mut settings = backend::config::Settings {
        database_url: Some(database.url.clone()),
        public_url: address.clone(),
        bind_address: listener.local_addr()?.to_string(),
        data_dir: data_dir.path().to_path_buf(),
        ..backend::config::Settings::default()
    };
    adjust(&mut settings);
    let clock: std::sync::Arc<dyn backend::Clock> = std::sync::Arc::new(backend::SystemClock);
    let state = server::startup::build_state(settings.check()?, clock).await?;
    // The data directory lives as long as the process.
    std::mem::forget(data_dir);
    tokio::spawn(server::startup::serve(listener, state.clone()));
    Ok((state, address))
}

/// A fresh Gatehouse session for `user_id`, as signing in makes; its token.
#[allow(dead_code)] // the benchmarks that run the server in this process
pub async fn session_for(state: &backend::AppState, user_id: i64) -> Result<String, Error> {
    let client = backend::auth::sessions::ClientInfo {
        address: "127.0.0.1".into(),
        user_agent: "bench".into(),
        cookie_header: String::new(),
    };
    Ok(backend::auth::sessions::start(
        &state.db.pool,
        &state.settings,
        state.now(),
        backend::auth::sessions::NewSession {
            user_id,
            awaiting_code: false,
            second_factor: false,
            client: &client,
            recovery_codes_to_show: None,
        },
    )
    .await?)
}

/// `--backend`'s value: `sqlite`, `postgres` or `both`.
pub fn backends(value: &str) -> Result<Vec<Backend>, Error> {
    match value {
        "sqlite" => Ok(vec![Backend::Sqlite]),
        "postgres" => Ok(vec![Backend::Postgres]),
        "both" => Ok(vec![Backend::Sqlite, Backend::Postgres]),
        other => Err(format!("unknown backend {other}").into()),
    }
}

/// The command line of a benchmark that takes `--backend` (default both)
/// and numbers: `numbers` names each (`--clients`) with its default. Returns
/// the backends and the numbers, in the order given.
// `user_search` takes flags and paths besides, and parses its own.
#[allow(dead_code)]
pub fn arguments<const N: usize>(
    numbers: [(&str, u64); N],
) -> Result<(Vec<Backend>, [u64; N]), Error> {
    let mut backends_chosen = vec![Backend::Sqlite, Backend::Postgres];
    let mut values = numbers.map(|(_, default)| default);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        // cargo bench passes --bench to every bench target.
        if arg == "--bench" {
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        if arg == "--backend" {
            backends_chosen = backends(&value)?;
        } else if let Some(index) = numbers.iter().position(|(name, _)| *name == arg) {
            values[index] = value.parse()?;
        } else {
            return Err(format!("unknown argument {arg}").into());
        }
    }
    Ok((backends_chosen, values))
}

/// What a load benchmark takes: `--backend`, `--clients` (default 32) and
/// `--seconds` (per case).
#[allow(dead_code)] // the load benchmarks
pub struct LoadOptions {
    pub backends: Vec<Backend>,
    pub clients: usize,
    pub seconds: u64,
}

#[allow(dead_code)] // the load benchmarks
pub fn load_options(default_seconds: u64) -> Result<LoadOptions, Error> {
    let (backends, [clients, seconds]) =
        arguments([("--clients", 32), ("--seconds", default_seconds)])?;
    Ok(LoadOptions {
        backends,
        clients: usize::try_from(clients)?,
        seconds,
    })
}

/// Runs `run` once for each of `backends`, each on a fresh database that
/// is dropped afterwards, whatever `run` answered.
#[allow(dead_code)] // the benchmarks that make their own database
pub async fn on_each_backend(
    backends: &[Backend],
    run: impl AsyncFn(Backend, &BenchDatabase) -> Result<(), Error>,
) -> Result<(), Error> {
    for backend in backends {
        let database = match backend {
            Backend::Sqlite => BenchDatabase::sqlite(None).await?,
            Backend::Postgres => BenchDatabase::postgres(None).await?,
        };
        let outcome = run(*backend, &database).await;
        database.finish(false).await?;
        outcome?;
    }
    Ok(())
}

pub fn label(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// The machine's load (1, 5 and 15 minutes), which moves the figures: other
/// builds share its cores.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

pub fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort();
    let index = (times.len() * p).div_ceil(100).saturating_sub(1);
    times.get(index).copied().unwrap_or_default()
}

pub fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
