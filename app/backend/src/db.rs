//! One connection pool for either SQLite (the embedded default) or
//! PostgreSQL, chosen at run time by the URL. Queries are written once with
//! `$1` placeholders, which both accept; where the SQL must differ the code
//! asks `Backend`.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a pooled connection may sit unused before it is checked.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The database file, for SQLite.
    sqlite_path: Option<PathBuf>,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let sqlite_path = (backend == Backend::Sqlite)
            .then(|| sqlite_file(url))
            .flatten();
        if let Some(parent) = sqlite_path.as_deref().and_then(Path::parent)
            && !parent.as_os_str().is_empty()
        {
            // If this fails, connecting fails next with the real reason.
            let _ = std::fs::create_dir_all(parent);
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            // A connection is pinged before use only when it sat unused for
            // a while, as through a restart of the database; pinging every
            // time (sqlx's default) was a second round trip per statement.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; the busy timeout
                        // makes writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Db {
            pool,
            backend,
            sqlite_path,
        })
    }

    /// Runs pending migrations. On PostgreSQL sqlx holds an advisory lock, so
    /// replicas starting together apply each migration once; SQLite's file
    /// lock does the same for processes sharing a file.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => {
                // sqlx takes no lock on SQLite, so two processes starting on one
                // file would both apply migration 1. A lock file beside the
                // database serialises them (held until `_lock` drops).
                let _lock = match &self.sqlite_path {
                    Some(path) => Some(lock_file(path.with_extension("migrate-lock")).await?),
                    None => None,
                };
                SQLITE_MIGRATIONS.run(&self.pool).await
            }
            Backend::Postgres => {
                // A service role that does not own the schema (so it cannot
                // undo the audit log's protection, docs/operations.md)
                // cannot create sqlx's bookkeeping table either: when every
                // migration is in place already, there is nothing to run.
                if self.has_applied(&POSTGRES_MIGRATIONS).await {
                    return Ok(());
                }
                POSTGRES_MIGRATIONS.run(&self.pool).await
            }
        }
    }

    /// Whether every migration of `migrator` is applied here, unchanged.
    async fn has_applied(&self, migrator: &sqlx::migrate::Migrator) -> bool {
        let applied: Result<Vec<(i64, Vec<u8>)>, sqlx::Error> =
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await;
        let Ok(applied) = applied else {
            return false;
        };
        migrator.iter().all(|migration| {
            applied.iter().any(|(version, checksum)| {
                *version == migration.version && checksum.as_slice() == &*migration.checksum
            })
        })
    }

    /// Starts a transaction that takes the write lock at once on SQLite, so two
    /// writers queue on the busy timeout instead of failing when they upgrade.
    ///
    /// The transaction begins in a task of its own, which finishes even if the
    /// request is dropped (its client gone) meanwhile: sqlx 0.8's PostgreSQL
    /// `begin` is not cancel-safe (sqlx issue 2054, fixed in 0.9.1),
    /// and a `BEGIN` cut off in its round trip left the connection inside a
    /// transaction that the pool handed to the next request, whose writes
    /// then ran in it, uncommitted. Begun whole, a transaction nobody takes
    /// is dropped, which rolls it back.
    /// The only place a transaction begins (clippy.toml refuses
    /// `Pool::begin` elsewhere).
    #[allow(clippy::disallowed_methods)]
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        use tracing::Instrument as _;
        let (pool, backend) = (self.pool.clone(), self.backend);
        let begin = async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        };
        // In the request's span, so what sqlx logs names the request.
        match tokio::spawn(begin.instrument(tracing::Span::current())).await {
            Ok(begun) => begun,
            // A panic is a fault of ours (logged with an id); a task
            // cancelled means the server is shutting down.
            Err(failed) if failed.is_panic() => Err(sqlx::Error::Protocol(format!(
                "beginning a transaction panicked: {failed}"
            ))),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }
}

/// The file behind a SQLite URL (`None` for an in-memory database).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Opens `path` and takes an exclusive lock on it, waiting off the executor.
async fn lock_file(path: PathBuf) -> Result<std::fs::File, sqlx::migrate::MigrateError> {
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await;
    match locked {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(error)) => Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Io(error))),
        Err(error) => Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Io(
            std::io::Error::other(error),
        ))),
    }
}

/// The unique constraint a database error is about, by name, on either backend.
pub fn violated_constraint(error: &sqlx::Error) -> Option<String> {
    let db_error = error.as_database_error()?;
    if !db_error.is_unique_violation() {
        return None;
    }
    if let Some(name) = db_error.constraint() {
        return Some(name.to_owned());
    }
    // SQLite names the index only in its message: "UNIQUE constraint failed: index 'users_username_key'".
    let message = db_error.message();
    let start = message.find("index '")? + "index '".len();
    let end = message[start..].find('\'')? + start;
    Some(message[start..end].to_owned())
}

pub use domain::error::internal;

/// A name read from the database that the code does not know: the schema
/// and the code disagree.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownStoredName {
    pub what: &'static str,
    pub value: String,
}

/// An enum stored as text: `as_str` for writing, and `TryFrom<String>` for
/// reading rows (`#[sqlx(try_from = "String")]`), both from one list.
macro_rules! stored_names {
    ($(#[$meta:meta])* pub enum $name:ident { $($variant:ident = $stored:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $stored,)+
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::db::UnknownStoredName;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                match value.as_str() {
                    $($stored => Ok($name::$variant),)+
                    _ => Err($crate::db::UnknownStoredName {
                        what: stringify!($name),
                        value,
                    }),
                }
            }
        }
    };
}
pub(crate) use stored_names;
