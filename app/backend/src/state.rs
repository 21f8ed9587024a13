use crate::auth::passwords::PasswordHasher;
use crate::clock::Clock;
use crate::config::CheckedSettings;
use crate::db::Db;
use crate::metrics::Metrics;
use axum::extract::FromRef;
use std::sync::Arc;

/// Everything a request handler or server function needs, provided as axum
/// state and as context to server functions. No globals: each test builds its own.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<CheckedSettings>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
