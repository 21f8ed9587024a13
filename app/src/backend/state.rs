use super::clock::Clock;
use super::config::CheckedSettings;
use super::db::Db;
use super::passwords::PasswordHasher;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Everything a request handler or server function needs, provided as axum
/// state and as Leptos context. No globals: each test builds its own.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<CheckedSettings>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
