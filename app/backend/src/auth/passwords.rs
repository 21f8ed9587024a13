//! Argon2id hashing off the async executor, with bounded concurrency and a
//! bounded queue, so a burst of sign-ins can neither starve the server of
//! memory or threads nor pile up without end: when every hashing thread is
//! busy and the queue is full, the answer is `AppError::Busy` (503 with
//! `Retry-After`).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::AppError;
use domain::Password;
use rand::rngs::OsRng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Argon2id with the crate's default parameters, which are OWASP's minimum:
/// 19 MiB, 2 passes, 1 lane (a unit test pins them).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// The most bytes of a typed password that are ever checked: 128 characters
/// (the policy's longest) of up to four bytes each. A longer one cannot be
/// anyone's password, so it is refused without hashing.
pub const MAX_PASSWORD_BYTES: usize = 4 * Password::MAX_CHARS;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Hashes running or waiting now, and how many may be.
    in_line: Arc<AtomicUsize>,
    capacity: usize,
}

impl PasswordHasher {
    /// One hashing thread per core, and up to `queue` more waiting.
    pub fn new(queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordHasher {
            permits: Arc::new(Semaphore::new(cores)),
            in_line: Arc::new(AtomicUsize::new(0)),
            capacity: cores + queue,
        }
    }

    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let secret = password.expose().to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(secret.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| crate::db::internal(format!("hashing a password: {e}")))
        })
        .await?
    }

    /// Checks `password` as typed against `stored`, after the same NFC
    /// normalisation the policy applied when it was chosen (so a decomposed
    /// "é" matches a composed one). With no stored hash (unknown,
    /// deactivated or API account) it verifies against a dummy hash, so the
    /// answer takes the same time either way.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, AppError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let secret = domain::nfc(password);
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

    /// Which of `stored` (the hashes of every account a login names, such
    /// as one email address used in several organisations) `password`
    /// matches first. They are checked at once, each on its own hashing
    /// thread, so several take as long as one while threads are free; no
    /// hash at all is checked against a dummy, like `verify`.
    pub async fn verify_any(
        &self,
        password: &str,
        stored: Vec<String>,
    ) -> Result<Option<usize>, AppError> {
        if stored.is_empty() {
            self.verify(password, None).await?;
            return Ok(None);
        }
        let mut checks = tokio::task::JoinSet::new();
        for (index, hash) in stored.into_iter().enumerate() {
            let (hasher, password) = (self.clone(), password.to_owned());
            checks.spawn(async move { (index, hasher.verify(&password, Some(hash)).await) });
        }
        let mut matched = None;
        while let Some(done) = checks.join_next().await {
            let (index, result) =
                done.map_err(|e| crate::db::internal(format!("password check failed: {e}")))?;
            if result? {
                matched = Some(matched.map_or(index, |m: usize| m.min(index)));
            }
        }
        Ok(matched)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let place = Place::take(&self.in_line, self.capacity).ok_or(AppError::Busy {
            retry_after_seconds: 2,
        })?;
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| crate::db::internal(format!("password hasher closed: {e}")))?;
        // The place and the thread are given back when the hash is done, not
        // when the request goes away: a hash already running goes on even
        // if its caller is cancelled, and must still count.
        tokio::task::spawn_blocking(move || {
            let _held = (place, permit);
            work()
        })
        .await
        .map_err(|e| crate::db::internal(format!("password hashing task failed: {e}")))
    }
}

/// A place in line for the hashing threads, given back when dropped.
struct Place(Arc<AtomicUsize>);

impl Place {
    fn take(in_line: &Arc<AtomicUsize>, capacity: usize) -> Option<Place> {
        in_line
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(Arc::clone(in_line)))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(crate::crypto::tokens::generate().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_in_line_are_bounded_and_given_back() {
        let in_line = Arc::new(AtomicUsize::new(0));
        let first = Place::take(&in_line, 2).expect("a place");
        let second = Place::take(&in_line, 2).expect("a place");
        assert!(Place::take(&in_line, 2).is_none(), "full");
        drop(first);
        assert!(Place::take(&in_line, 2).is_some(), "given back");
        drop(second);
        assert_eq!(in_line.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::disallowed_methods)] // waits in real time for the hashing threads
    async fn a_cancelled_check_keeps_its_place_until_its_hash_is_done() {
        let hasher = PasswordHasher::new(0);
        let mut releases = Vec::new();
        let mut callers = Vec::new();
        for _ in 0..hasher.capacity {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            releases.push(release);
            let hasher = hasher.clone();
            callers.push(tokio::spawn(async move {
                hasher.run(move || wait.recv().is_ok()).await
            }));
        }
        // Every place taken, the callers go away; their hashes run on.
        while hasher.in_line.load(Ordering::Acquire) < hasher.capacity {
            tokio::task::yield_now().await;
        }
        for caller in &callers {
            caller.abort();
        }
        for caller in callers {
            let _ = caller.await;
        }
        assert_eq!(
            hasher.run(|| ()).await,
            Err(AppError::Busy {
                retry_after_seconds: 2
            }),
            "still full"
        );
        for release in releases {
            release.send(()).expect("released");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while hasher.in_line.load(Ordering::Acquire) > 0 {
            assert!(std::time::Instant::now() < deadline, "places given back");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(hasher.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_decomposed_password_matches_its_composed_form_and_an_overlong_one_nothing() {
        let hasher = PasswordHasher::new(4);
        let composed = "caf\u{e9} au lait, s'il vous pla\u{ee}t";
        let password = Password::parse(composed, &Default::default()).expect("valid");
        let stored = hasher.hash(&password).await.expect("hashed");
        let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t";
        assert!(
            hasher
                .verify(composed, Some(stored.clone()))
                .await
                .expect("checked")
        );
        assert!(
            hasher
                .verify(decomposed, Some(stored.clone()))
                .await
                .expect("checked")
        );
        let overlong = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(
            !hasher
                .verify(&overlong, Some(stored))
                .await
                .expect("checked")
        );
    }

    #[tokio::test]
    async fn the_first_matching_hash_of_several_is_found() {
        let hasher = PasswordHasher::new(4);
        let hash = |text: &str| {
            let hasher = hasher.clone();
            let password = Password::parse(text, &Default::default()).expect("valid");
            async move { hasher.hash(&password).await.expect("hashed") }
        };
        let mine = "correct horse battery staple 42";
        let stored = vec![
            hash("another person's passphrase").await,
            hash(mine).await,
            hash(mine).await,
        ];
        assert_eq!(
            hasher
                .verify_any(mine, stored.clone())
                .await
                .expect("checked"),
            Some(1)
        );
        assert_eq!(
            hasher
                .verify_any("not anyone's passphrase", stored)
                .await
                .expect("checked"),
            None
        );
        assert_eq!(
            hasher.verify_any(mine, Vec::new()).await.expect("checked"),
            None
        );
    }

    #[test]
    fn the_parameters_meet_owasps_minimum() {
        let params = Params::DEFAULT;
        assert!(params.m_cost() >= 19 * 1024);
        assert!(params.t_cost() >= 2);
        assert_eq!(params.p_cost(), 1);
    }
}
