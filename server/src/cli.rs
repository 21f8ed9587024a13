//! The command line. `gatehouse --help` explains every command and setting.

use crate::{settings, startup, telemetry};
use backend::onboarding::setup::{self, SetupPurpose};
use backend::{Clock, SystemClock};
use clap::{Parser, Subcommand};
use domain::OrganisationName;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const SETTINGS_HELP: &str = "\
Settings (a TOML file given by --config, or gatehouse.toml in the working
directory, then environment variables, which win):

  database_url                    GATEHOUSE_DATABASE_URL
      sqlite://PATH?mode=rwc or postgres://USER@HOST/DB.
      Default: a SQLite file gatehouse.db in the data directory.
  public_url                      GATEHOUSE_PUBLIC_URL
      The address people use, e.g. https://accounts.example.org. Every
      link in an email or printed here is built from it. Default http://127.0.0.1:3000
  bind_address                    GATEHOUSE_BIND_ADDRESS
      Where the server listens. Default 127.0.0.1:3000
  data_dir                        GATEHOUSE_DATA_DIR
      SQLite database and written-out mail. Default ./data
  smtp_url                        GATEHOUSE_SMTP_URL
      smtp://user:password@host:port (STARTTLS) or smtps://... Without it,
      mail is written as .eml files under the data directory.
  mail_from                       GATEHOUSE_MAIL_FROM
      The sender of every email, e.g. Riverside Accounts <accounts@riverside.example>.
      Default: Gatehouse <no-reply@HOST> (HOST of the public URL)
  session_idle_timeout_minutes    GATEHOUSE_SESSION_IDLE_TIMEOUT_MINUTES    Default 30
  session_absolute_timeout_hours  GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_HOURS  Default 12
  log_format                      GATEHOUSE_LOG_FORMAT       text or json. Default text
  trust_forwarded_for             GATEHOUSE_TRUST_FORWARDED_FOR
      true only behind a reverse proxy you run. Default false
  forwarded_for_proxies           GATEHOUSE_FORWARDED_FOR_PROXIES
      How many of your proxies append to X-Forwarded-For; the client is
      that many entries from the right (entries to its left are the
      client's own and are ignored). Default 1
  site_root                       GATEHOUSE_SITE_ROOT
      The built browser files. Default target/site
  two_factor_key                  GATEHOUSE_TWO_FACTOR_KEY
      64 hexadecimal characters (e.g. openssl rand -hex 32) that encrypt
      two-factor secrets. Default: a random key made on first start in
      DATA_DIR/two_factor.key. Replicas must share one key: set it for them.
  api_requests_per_minute         GATEHOUSE_API_REQUESTS_PER_MINUTE
      Requests one API token may make per minute (then 429). Default 600
  allow_private_callbacks         GATEHOUSE_ALLOW_PRIVATE_CALLBACKS
      true lets back-channel logout addresses reach this machine and private
      networks (development and tests only). Default false
  password_queue                  GATEHOUSE_PASSWORD_QUEUE
      Password checks that may wait while every hashing thread (one per
      core) is busy; more are answered 503 with Retry-After. Default 64
  metrics_token                   GATEHOUSE_METRICS_TOKEN
      The bearer token a Prometheus scraper sends for /metrics (at least 32
      characters, e.g. openssl rand -hex 32). Without it there is no /metrics.

RUST_LOG sets the log level (default info).";

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: account administration for organisations",
    after_long_help = SETTINGS_HELP
)]
pub struct Cli {
    /// A TOML settings file (see the settings below).
    #[arg(long, env = "GATEHOUSE_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default). Applies pending migrations first and,
    /// while there is no account at all, prints a one-time setup link.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create an organisation and print its id.
    CreateOrg {
        /// The organisation's name, e.g. "Riverside College".
        #[arg(long)]
        name: String,
    },
    /// Print a one-time link (valid 24 hours) that creates an administrator.
    /// With --organisation, for that existing organisation; without it, the
    /// link creates a new organisation and its platform administrator.
    CreateAdmin {
        /// The organisation's id or exact name.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Replace the keys that sign ID tokens (RS256 and EdDSA). The new keys
    /// sign from now on; the old ones stay published at /oauth/jwks until
    /// every token they signed has expired (10 minutes).
    RotateSigningKeys,
}

pub async fn run(cli: Cli) -> ExitCode {
    let settings = match settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("gatehouse: {message}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match execute(cli.command.unwrap_or(Command::Serve), settings, clock).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gatehouse: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(
    command: Command,
    settings: backend::config::CheckedSettings,
    clock: Arc<dyn Clock>,
) -> Result<(), String> {
    let bind_address = settings.bind_address;
    let state = startup::build_state(settings, clock).await?;
    let now = state.now();
    match command {
        Command::Migrate => {
            println!("The database is up to date.");
            Ok(())
        }
        Command::CreateOrg { name } => {
            let name = OrganisationName::parse(&name).map_err(|e| e.message)?;
            let id = setup::create_organisation(&state.db, now, &name)
                .await
                .map_err(|e| e.to_string())?;
            println!("Created organisation {id}: {}", name.as_ref());
            println!("Next: gatehouse create-admin --organisation {id}");
            Ok(())
        }
        Command::CreateAdmin { organisation } => {
            let purpose = match organisation {
                None => SetupPurpose::Platform,
                Some(key) => {
                    let (id, _) = setup::find_organisation(&state.db, &key)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("no organisation has the id or name {key:?}"))?;
                    SetupPurpose::Organisation(id)
                }
            };
            let path = setup::create_link(&state.db, now, purpose)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", state.settings.link(&path));
            Ok(())
        }
        Command::RotateSigningKeys => {
            let rotation = backend::oidc::keys::rotate(&state.db, &state.settings, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("New signing keys: {}", rotation.new_kids.join(", "));
            if !rotation.retired_kids.is_empty() {
                println!(
                    "Retired (published until {}): {}",
                    backend::clock::format_utc(rotation.retired_published_until),
                    rotation.retired_kids.join(", ")
                );
            }
            Ok(())
        }
        Command::Serve => {
            if setup::is_empty(&state.db)
                .await
                .map_err(|e| e.to_string())?
            {
                let path = setup::create_link(&state.db, now, SetupPurpose::Platform)
                    .await
                    .map_err(|e| e.to_string())?;
                println!(
                    "\nGatehouse has no accounts yet. Open this one-time link to create the first\n\
                     organisation and its administrator (valid 24 hours; a restart prints a new one):\n\n  {}\n",
                    state.settings.link(&path)
                );
            }
            let listener = tokio::net::TcpListener::bind(bind_address)
                .await
                .map_err(|e| {
                    format!("cannot listen on {bind_address} (setting `bind_address`): {e}")
                })?;
            let mailer = backend::mail::Mailer::from_settings(&state.settings)
                .map_err(|e| format!("cannot set up mail (setting `smtp_url`): {e}"))?;
            tracing::info!(mail = %mailer.describe(), "mail worker starting");
            // Only `serve` delivers mail; tests drive delivery themselves.
            tokio::spawn(backend::mail::run(
                state.db.clone(),
                mailer,
                state.clock.clone(),
                state.metrics.clone(),
                std::future::pending(),
            ));
            tokio::spawn(backend::oidc::logout::run(
                state.db.clone(),
                state.settings.clone(),
                state.clock.clone(),
                state.metrics.clone(),
                std::future::pending(),
            ));
            // The keys that sign ID tokens are made now, not at the first sign-in.
            backend::oidc::keys::ensure(&state.db, &state.settings, now)
                .await
                .map_err(|e| format!("cannot make the token-signing keys: {e}"))?;
            tracing::info!(address = %bind_address, public_url = %state.settings.public_url, "Gatehouse is listening");
            startup::serve(listener, state)
                .await
                .map_err(|e| e.to_string())
        }
    }
}
