//! Argon2id hashing off the async executor, with bounded concurrency so a
//! burst of sign-ins cannot starve the server of memory or threads.

use crate::domain::Password;
use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Argon2id with the crate's default parameters, which are OWASP's minimum:
/// 19 MiB, 2 passes, 1 lane (a unit test pins them).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordHasher {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl PasswordHasher {
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let secret = password.expose().to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(secret.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| super::db::internal(format!("hashing a password: {e}")))
        })
        .await?
    }

    /// Checks `password` against `stored`. With no stored hash (unknown,
    /// deactivated or API account) it verifies against a dummy hash, so the
    /// answer takes the same time either way.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, AppError> {
        let secret = password.to_owned();
        self.run(move || {
            let found = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let matches = PasswordHash::new(&stored)
                .map(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok())
                .unwrap_or(false);
            found && matches
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| super::db::internal(format!("password hasher closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| super::db::internal(format!("password hashing task failed: {e}")))
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(crate::backend::tokens::generate().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_meet_owasps_minimum() {
        let params = Params::DEFAULT;
        assert!(params.m_cost() >= 19 * 1024);
        assert!(params.t_cost() >= 2);
        assert_eq!(params.p_cost(), 1);
    }
}
