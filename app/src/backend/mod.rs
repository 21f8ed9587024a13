//! Server-only code: database, authentication, configuration and the HTTP
//! middleware. Server functions in `crate::api` stay thin and call in here.

pub mod access;
pub mod actor;
pub mod administration;
pub mod api_tokens;
pub mod audit;
pub mod clock;
pub mod config;
pub mod context;
pub mod db;
pub mod devices;
pub mod links;
pub mod mail;
pub mod onboarding;
pub mod organisations;
pub mod passwords;
pub mod profile;
pub mod reauthentication;
pub mod redirect;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod setup;
pub mod sign_in;
pub mod state;
pub mod throttle;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Settings;
pub use state::AppState;
