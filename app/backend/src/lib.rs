//! Gatehouse's server side, one room per capability of the SPEC:
//!
//! - `accounts`: people's accounts, the Users page's search, *My profile*
//! - `access`: permissions, the subset rule, roles and profiles
//! - `auth`: sessions, sign-in, passwords, two-factor, throttling
//! - `onboarding`: one-time links and the emails that carry them, setup
//! - `organisations`, `api_tokens`, `audit`, `mail`
//! - `rest`: the REST API (`/api/v1`) and its OpenAPI document
//! - `crypto`: secret tokens, keyed hashes and sealing
//! - `acting`: one unit of work (when, by whom, from where; audited)
//! - `db`, `config`, `clock`, `state`, `web` (HTTP middleware)
//!
//! It knows no screen and no Leptos (the crate has neither as a dependency):
//! the app's server functions and the REST API call in here with parsed
//! domain types and get `domain::AppError` back.

pub mod access;
pub mod accounts;
pub mod acting;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod background;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod onboarding;
pub mod organisations;
pub mod rest;
pub mod state;
pub mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Settings;
pub use state::AppState;
