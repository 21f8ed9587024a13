//! Argon2id hashing on a fixed set of threads, one per core, each reusing
//! its own Argon2 memory, with a bounded queue in front of them. So a burst
//! of sign-ins can neither starve the server of threads nor grow its memory
//! beyond one Argon2 block per core (each allocation of 19 MiB would
//! otherwise stay with the allocator after the burst), nor pile up without
//! end: when every hashing thread is busy and the queue is full, the answer
//! is `AppError::Busy` (503 with `Retry-After`).

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use domain::AppError;
use domain::Password;
use prometheus_client::metrics::counter::Counter;
use rand::rngs::OsRng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a hashing thread keeps its memory with nothing to hash, so a
/// quiet server gives the burst's memory back.
const IDLE_BEFORE_RELEASE: Duration = Duration::from_secs(30);

/// The most bytes of a typed password that are ever checked: 128 characters
/// (the policy's longest) of up to four bytes each. A longer one cannot be
/// anyone's password, so it is refused without hashing.
pub const MAX_PASSWORD_BYTES: usize = 4 * Password::MAX_CHARS;

/// Argon2id with the crate's default parameters, which are OWASP's minimum:
/// 19 MiB, 2 passes, 1 lane (a unit test pins them).
fn recipe(salt: &SaltString) -> password_hash::Result<PasswordHash<'_>> {
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&Params::DEFAULT)?,
        salt: Some(salt.as_salt()),
        hash: None,
    })
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: flume::Sender<Job>,
    /// Hashes running or waiting now, and how many may be.
    in_line: Arc<AtomicUsize>,
    capacity: usize,
    /// Counts the checks turned away because the line was full.
    refused: Counter,
}

impl PasswordHasher {
    /// One hashing thread per core, and up to `queue` more hashes waiting;
    /// `refused` counts those turned away beyond them. The threads end when
    /// the last clone of the hasher is dropped.
    pub fn new(queue: usize, refused: Counter) -> std::io::Result<Self> {
        Self::releasing_after(queue, refused, IDLE_BEFORE_RELEASE)
    }

    /// `new`, with threads that give their memory back after `idle`.
    fn releasing_after(queue: usize, refused: Counter, idle: Duration) -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, waiting) = flume::unbounded::<Job>();
        for index in 0..cores {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || hash_until_closed(&waiting, idle))?;
        }
        Ok(PasswordHasher {
            jobs,
            in_line: Arc::new(AtomicUsize::new(0)),
            capacity: cores + queue,
            refused,
        })
    }

    /// Hashes running or waiting for a hashing thread now.
    pub fn in_line(&self) -> usize {
        self.in_line.load(Ordering::Acquire)
    }

    /// The most hashes that may run or wait at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let secret = password.expose().to_owned();
        self.run(move |memory| {
            hash_new(memory, secret.as_bytes())
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
        self.run(move |memory| {
            let found = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash(memory).to_owned());
            let matches = matches(memory, secret.as_bytes(), &stored).unwrap_or(false);
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
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let Some(place) = Place::take(&self.in_line, self.capacity) else {
            self.refused.inc();
            return Err(AppError::Busy {
                retry_after_seconds: 2,
            });
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        // The place is given back when the hash is done, not when the
        // request goes away: a hash already running goes on even if its
        // caller is cancelled, and must still count. It is given back
        // before the answer is sent, so a caller that has its answer and
        // asks again finds the place free.
        let job: Job = Box::new(move |memory| {
            let answer = work(memory);
            drop(place);
            let _ = done.send(answer);
        });
        self.jobs
            .send(job)
            .map_err(|_| crate::db::internal("the password hashing threads have stopped"))?;
        answer
            .await
            .map_err(|_| crate::db::internal("a password hash failed"))
    }
}

/// A hashing thread: takes jobs until every sender is gone, and gives its
/// memory back whenever it has waited `idle` for one.
fn hash_until_closed(waiting: &flume::Receiver<Job>, idle: Duration) {
    let mut memory = Memory::default();
    loop {
        match waiting.recv_timeout(idle) {
            Ok(job) => {
                // A panic in a hash loses that one answer (its caller sees
                // an internal error), never the thread.
                let run = std::panic::AssertUnwindSafe(|| job(&mut memory));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!("a password hash panicked");
                    memory = Memory::default();
                }
            }
            Err(flume::RecvTimeoutError::Timeout) => memory = Memory::default(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// One hashing thread's Argon2 memory: allocated at its first hash and
/// reused by every hash after, until the thread is idle.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            // Give the old block back before taking the larger one.
            self.0 = Vec::new();
            self.0 = vec![Block::new(); needed];
        }
        &mut self.0[..needed]
    }
}

/// Argon2 of `secret` as `recipe` (algorithm, version, parameters, salt)
/// says, `len` bytes long, computed in `memory`.
fn compute(
    memory: &mut Memory,
    secret: &[u8],
    recipe: &PasswordHash<'_>,
    len: usize,
) -> password_hash::Result<Output> {
    let algorithm = Algorithm::try_from(recipe.algorithm)?;
    let version = recipe
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(recipe)?;
    let mut salt = [0u8; 64];
    let salt = recipe
        .salt
        .ok_or(password_hash::Error::Algorithm)?
        .decode_b64(&mut salt)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(secret, salt, out, memory.blocks(&params))?)
    })
}

/// A new PHC string (`$argon2id$v=19$m=…`) for `secret`, with a fresh salt.
fn hash_new(memory: &mut Memory, secret: &[u8]) -> password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut hash = recipe(&salt)?;
    hash.hash = Some(compute(memory, secret, &hash, Params::DEFAULT_OUTPUT_LEN)?);
    Ok(hash.to_string())
}

/// Whether `secret` is what the PHC string `stored` was made from; the
/// outputs are compared in constant time (`Output`'s equality).
fn matches(memory: &mut Memory, secret: &[u8], stored: &str) -> password_hash::Result<bool> {
    let stored = PasswordHash::new(stored)?;
    let expected = stored.hash.ok_or(password_hash::Error::Password)?;
    Ok(compute(memory, secret, &stored, expected.len())? == expected)
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

fn dummy_hash(memory: &mut Memory) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_new(memory, crate::crypto::tokens::generate().as_bytes()).unwrap_or_default()
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
        let hasher = PasswordHasher::new(0, Counter::default()).expect("threads");
        let mut releases = Vec::new();
        let mut callers = Vec::new();
        for _ in 0..hasher.capacity {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            releases.push(release);
            let hasher = hasher.clone();
            callers.push(tokio::spawn(async move {
                hasher.run(move |_| wait.recv().is_ok()).await
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
            hasher.run(|_| ()).await,
            Err(AppError::Busy {
                retry_after_seconds: 2
            }),
            "still full"
        );
        assert_eq!(hasher.refused.get(), 1, "the refusal counted");
        for release in releases {
            release.send(()).expect("released");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while hasher.in_line.load(Ordering::Acquire) > 0 {
            assert!(std::time::Instant::now() < deadline, "places given back");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(hasher.run(|_| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_decomposed_password_matches_its_composed_form_and_an_overlong_one_nothing() {
        let hasher = PasswordHasher::new(4, Counter::default()).expect("threads");
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
        let hasher = PasswordHasher::new(4, Counter::default()).expect("threads");
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
    fn hashes_made_here_and_by_the_argon2_crate_check_each_other() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT);
        let mut memory = Memory::default();
        let ours = hash_new(&mut memory, b"correct horse").expect("hashed");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(standard.verify_password(b"correct horse", &parsed).is_ok());
        assert!(standard.verify_password(b"correct horsf", &parsed).is_err());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = standard
            .hash_password(b"battery staple", &salt)
            .expect("hashed")
            .to_string();
        assert!(matches(&mut memory, b"battery staple", &theirs).expect("checked"));
        assert!(!matches(&mut memory, b"battery stapler", &theirs).expect("checked"));
        assert!(matches(&mut memory, b"battery staple", "$argon2id$nonsense").is_err());
    }

    /// Every future's answer, run at once.
    async fn futures_results<T: Send + 'static>(
        runs: impl Iterator<Item = impl Future<Output = Result<T, AppError>> + Send + 'static>,
    ) -> Vec<T> {
        let mut set = tokio::task::JoinSet::new();
        for run in runs {
            set.spawn(run);
        }
        let mut answers = Vec::new();
        while let Some(done) = set.join_next().await {
            answers.push(done.expect("joined").expect("ran"));
        }
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::disallowed_methods)] // waits in real time for the threads to be idle
    async fn idle_hashing_threads_give_their_memory_back() {
        let hasher =
            PasswordHasher::releasing_after(0, Counter::default(), Duration::from_millis(50))
                .expect("threads");
        let password =
            Password::parse("correct horse battery staple 42", &Default::default()).expect("valid");
        let held = |hasher: &PasswordHasher| {
            let hasher = hasher.clone();
            async move {
                // One report per thread: each waits until every thread
                // has taken one.
                let all = Arc::new(std::sync::Barrier::new(hasher.capacity));
                let reports = (0..hasher.capacity).map(|_| {
                    let (all, hasher) = (Arc::clone(&all), hasher.clone());
                    async move {
                        hasher
                            .run(move |memory| {
                                all.wait();
                                memory.0.len()
                            })
                            .await
                    }
                });
                let mut blocks: Vec<usize> = futures_results(reports).await;
                blocks.sort_unstable();
                blocks
            }
        };
        hasher.hash(&password).await.expect("hashed");
        // Given back before the answer came (when it was given back after,
        // the next line's jobs were now and then refused as Busy).
        assert_eq!(
            hasher.in_line(),
            0,
            "the place was still held when the answer came"
        );
        assert_eq!(
            held(&hasher).await.iter().max(),
            Some(&Params::DEFAULT.block_count()),
            "the block is kept while hashes come"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            held(&hasher).await,
            vec![0; hasher.capacity],
            "given back after the idle time"
        );
    }

    #[test]
    fn a_thread_reuses_one_block_of_memory_for_every_hash() {
        let mut memory = Memory::default();
        hash_new(&mut memory, b"first").expect("hashed");
        let block = memory.0.as_ptr();
        assert_eq!(memory.0.len(), Params::DEFAULT.block_count());
        let stored = hash_new(&mut memory, b"second").expect("hashed");
        assert!(matches(&mut memory, b"second", &stored).expect("checked"));
        assert_eq!(memory.0.as_ptr(), block, "the same memory, not a new one");
        assert_eq!(memory.0.len(), Params::DEFAULT.block_count());
    }

    #[test]
    fn the_parameters_meet_owasps_minimum() {
        let params = Params::DEFAULT;
        assert!(params.m_cost() >= 19 * 1024);
        assert!(params.t_cost() >= 2);
        assert_eq!(params.p_cost(), 1);
    }
}
