//! Integration tests: each spins up the real router on port 0 with a fresh
//! database (a new SQLite file, or a new PostgreSQL database) and drives it
//! over HTTP. Every test runs on both backends.
// Waiting for mail, a child process or a deadline is real time, not the
// app's clock (which the tests move by hand).
#![allow(clippy::disallowed_methods)]
// A failed unwrap here is a failed test, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod audit;
mod cli;
mod guessing;
mod limits;
mod mail;
mod matrix;
mod metrics;
mod oidc;
mod onboarding;
mod organisations;
mod owners;
mod profile;
mod queries;
mod reach;
mod rest;
mod roles;
mod schema;
mod schemathesis;
mod search;
mod secrets;
mod security;
mod sessions;
mod setup;
mod sign_in;
mod two_factor;
mod wire;
