//! Settings of a running Gatehouse. Loaded by the binary (defaults, then an
//! optional TOML file, then `GATEHOUSE_*` environment variables) and checked
//! here, so a bad value stops start-up with a message naming the setting.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`; defaults to a file in the data directory.
    pub database_url: Option<String>,
    /// The address people reach Gatehouse at; every link is built from it.
    pub public_url: String,
    /// Where the HTTP server listens.
    pub bind_address: String,
    /// Where the SQLite database and written-out mail live.
    pub data_dir: PathBuf,
    /// `smtp://user:pass@host:port` or `smtps://…`; without it mail is written as files.
    pub smtp_url: Option<String>,
    /// The sender of every email, e.g. `Riverside Accounts <accounts@riverside.example>`.
    pub mail_from: Option<String>,
    /// A session ends after this long without a request.
    pub session_idle_timeout_minutes: u32,
    /// A session ends this long after sign-in, whatever happens.
    pub session_absolute_timeout_hours: u32,
    /// `text` or `json`.
    pub log_format: String,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// How many reverse proxies of yours append to `X-Forwarded-For`: the
    /// client is that many entries from the right.
    pub forwarded_for_proxies: u32,
    /// Where the built browser files (wasm, JS, CSS) are.
    pub site_root: PathBuf,
    /// 64 hexadecimal characters (32 bytes) sealing two-factor secrets; without
    /// it, a key file made on first use in the data directory. Replicas must share it.
    pub two_factor_key: Option<SecretText>,
    /// Requests one API token may make per minute before it is answered 429.
    pub api_requests_per_minute: u32,
    /// Password checks (sign-ins, password changes) that may wait for a
    /// hashing thread when every one is busy; beyond them, 503.
    pub password_queue: u32,
    /// Let back-channel logout addresses reach this machine and private
    /// networks (development and tests); otherwise only public addresses.
    pub allow_private_callbacks: bool,
    /// The bearer token a scraper sends for `/metrics`; without it there is
    /// no `/metrics`.
    pub metrics_token: Option<SecretText>,
}

/// The text of a secret setting, kept out of `Debug` output (and so out of logs).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(…)")
    }
}

/// A 256-bit AES key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    pub fn random() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        EncryptionKey(bytes)
    }

    /// From 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(EncryptionKey(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(…)")
    }
}

/// The key file used when `two_factor_key` is not set.
pub const TWO_FACTOR_KEY_FILE: &str = "two_factor.key";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: None,
            public_url: "http://127.0.0.1:3000".into(),
            bind_address: "127.0.0.1:3000".into(),
            data_dir: PathBuf::from("data"),
            smtp_url: None,
            mail_from: None,
            session_idle_timeout_minutes: 30,
            session_absolute_timeout_hours: 12,
            log_format: "text".into(),
            trust_forwarded_for: false,
            forwarded_for_proxies: 1,
            site_root: PathBuf::from("target/site"),
            two_factor_key: None,
            api_requests_per_minute: 600,
            password_queue: 64,
            allow_private_callbacks: false,
            metrics_token: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings after every value has been checked.
#[derive(Debug, Clone)]
pub struct CheckedSettings {
    pub database_url: String,
    pub public_url: Url,
    pub bind_address: SocketAddr,
    pub data_dir: PathBuf,
    pub smtp_url: Option<Url>,
    pub mail_from: Option<lettre::message::Mailbox>,
    pub session_idle_timeout_seconds: i64,
    pub session_absolute_timeout_seconds: i64,
    pub log_format: LogFormat,
    pub trust_forwarded_for: bool,
    pub forwarded_for_proxies: usize,
    pub site_root: PathBuf,
    /// `None`: the key file in the data directory (see `two_factor_key()`).
    pub two_factor_key: Option<EncryptionKey>,
    pub api_requests_per_minute: i64,
    pub password_queue: usize,
    pub allow_private_callbacks: bool,
    pub metrics_token: Option<MetricsToken>,
}

/// The `/metrics` bearer token, kept as its SHA-256 so that checking a
/// given one takes the same time however much of it is right.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The fewest characters a token may have (128 bits of hexadecimal).
    pub const MIN_CHARS: usize = 32;

    /// `None` when `token` is too short or holds anything but visible
    /// ASCII (it travels in a header).
    pub fn parse(token: &str) -> Option<MetricsToken> {
        use sha2::Digest;
        (token.chars().count() >= Self::MIN_CHARS && token.chars().all(|c| c.is_ascii_graphic()))
            .then(|| MetricsToken(sha2::Sha256::digest(token.as_bytes()).into()))
    }

    pub fn matches(&self, given: &str) -> bool {
        use sha2::Digest;
        use subtle::ConstantTimeEq;
        let given: [u8; 32] = sha2::Sha256::digest(given.as_bytes()).into();
        given.ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("setting `{setting}` (GATEHOUSE_{env}): {problem}")]
pub struct SettingError {
    pub setting: &'static str,
    pub env: String,
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> SettingError {
    SettingError {
        setting,
        env: setting.to_uppercase(),
        problem: problem.into(),
    }
}

impl Settings {
    pub fn check(self) -> Result<CheckedSettings, SettingError> {
        let public_url = Url::parse(&self.public_url)
            .map_err(|e| bad("public_url", format!("not a URL ({e})")))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(bad("public_url", "must be an http:// or https:// address"));
        }
        if public_url.path() != "/" || public_url.query().is_some() {
            return Err(bad(
                "public_url",
                "must be an origin without a path, like https://accounts.example.org",
            ));
        }
        let bind_address = self.bind_address.parse().map_err(|_| {
            bad(
                "bind_address",
                "must be an address and port, like 127.0.0.1:3000",
            )
        })?;
        let database_url = match self.database_url {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url
            }
            Some(_) => {
                return Err(bad(
                    "database_url",
                    "must start with sqlite: or postgres://",
                ));
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("gatehouse.db").display()
            ),
        };
        let smtp_url = match self.smtp_url.filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(url) => {
                let parsed =
                    Url::parse(&url).map_err(|e| bad("smtp_url", format!("not a URL ({e})")))?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") {
                    return Err(bad("smtp_url", "must start with smtp:// or smtps://"));
                }
                Some(parsed)
            }
        };
        let mail_from = match self.mail_from.filter(|m| !m.trim().is_empty()) {
            None => None,
            Some(from) => Some(from.parse().map_err(|e| {
                bad(
                    "mail_from",
                    format!("not an email address like Name <name@example.org> ({e})"),
                )
            })?),
        };
        if !(1..=24 * 60).contains(&self.session_idle_timeout_minutes) {
            return Err(bad(
                "session_idle_timeout_minutes",
                "must be between 1 and 1440",
            ));
        }
        if !(1..=24 * 30).contains(&self.session_absolute_timeout_hours) {
            return Err(bad(
                "session_absolute_timeout_hours",
                "must be between 1 and 720",
            ));
        }
        let log_format = match self.log_format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(bad("log_format", "must be `text` or `json`")),
        };
        if !(1..=100_000).contains(&self.api_requests_per_minute) {
            return Err(bad(
                "api_requests_per_minute",
                "must be between 1 and 100000",
            ));
        }
        if !(1..=10).contains(&self.forwarded_for_proxies) {
            return Err(bad("forwarded_for_proxies", "must be between 1 and 10"));
        }
        if self.password_queue > 10_000 {
            return Err(bad("password_queue", "must be between 0 and 10000"));
        }
        let two_factor_key = match self.two_factor_key.filter(|k| !k.0.trim().is_empty()) {
            None => None,
            Some(text) => Some(EncryptionKey::from_hex(&text.0).ok_or_else(|| {
                bad(
                    "two_factor_key",
                    "must be 64 hexadecimal characters (32 bytes), e.g. from `openssl rand -hex 32`",
                )
            })?),
        };
        let metrics_token = match self.metrics_token.filter(|t| !t.0.is_empty()) {
            None => None,
            Some(SecretText(token)) => Some(MetricsToken::parse(&token).ok_or_else(|| {
                bad(
                    "metrics_token",
                    "must be at least 32 visible ASCII characters, e.g. from `openssl rand -hex 32`",
                )
            })?),
        };
        Ok(CheckedSettings {
            database_url,
            public_url,
            bind_address,
            data_dir: self.data_dir,
            smtp_url,
            mail_from,
            session_idle_timeout_seconds: i64::from(self.session_idle_timeout_minutes) * 60,
            session_absolute_timeout_seconds: i64::from(self.session_absolute_timeout_hours) * 3600,
            log_format,
            trust_forwarded_for: self.trust_forwarded_for,
            forwarded_for_proxies: self.forwarded_for_proxies as usize,
            site_root: self.site_root,
            two_factor_key,
            api_requests_per_minute: i64::from(self.api_requests_per_minute),
            password_queue: self.password_queue as usize,
            allow_private_callbacks: self.allow_private_callbacks,
            metrics_token,
        })
    }
}

#[cfg(test)]
impl CheckedSettings {
    /// The defaults with a fresh random server key, for unit tests.
    pub fn with_random_key() -> CheckedSettings {
        let mut settings = Settings::default().check().expect("defaults");
        settings.two_factor_key = Some(EncryptionKey::random());
        settings
    }
}

impl CheckedSettings {
    /// Cookies get the `__Host-` prefix and `Secure` only when served over HTTPS.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `https://host[:port]` with no trailing slash, as browsers send in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// An absolute link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_origin(), path)
    }

    /// The key that seals two-factor secrets: the configured one, or else the
    /// key file in the data directory, which the first call makes with a
    /// random key. A first run thus needs no configuration.
    pub fn two_factor_key(&self) -> Result<EncryptionKey, SettingError> {
        if let Some(key) = &self.two_factor_key {
            return Ok(key.clone());
        }
        let path = self.data_dir.join(TWO_FACTOR_KEY_FILE);
        read_or_create_key_file(&path).map_err(|problem| {
            bad(
                "two_factor_key",
                format!("not set, and the key file {} {problem}", path.display()),
            )
        })
    }
}

fn read_or_create_key_file(path: &std::path::Path) -> Result<EncryptionKey, String> {
    use std::io::ErrorKind;
    let read = |path: &std::path::Path| -> Result<EncryptionKey, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read ({e})"))?;
        EncryptionKey::from_hex(&text)
            .ok_or_else(|| "does not hold 64 hexadecimal characters".into())
    };
    if path.exists() {
        return read(path);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot be created ({e})"))?;
    }
    // Written whole under a temporary name, then linked into place: a link
    // never replaces a file, so of two processes starting together one key
    // wins and both use it.
    let key = EncryptionKey::random();
    let temporary = path.with_extension(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
    write_private(&temporary, &key.to_hex()).map_err(|e| format!("cannot be created ({e})"))?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(format!("cannot be created ({e})")),
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        let checked = Settings::default().check().expect("defaults");
        assert_eq!(checked.public_origin(), "http://127.0.0.1:3000");
        assert!(checked.database_url.starts_with("sqlite://"));
    }

    #[test]
    fn the_metrics_token_matches_only_itself() {
        let token = "0123456789abcdef0123456789abcdef";
        let checked = Settings {
            metrics_token: Some(SecretText(token.into())),
            ..Settings::default()
        }
        .check()
        .expect("valid");
        let kept = checked.metrics_token.expect("a token");
        assert!(kept.matches(token));
        assert!(!kept.matches("0123456789abcdef0123456789abcdeF"));
        assert!(!kept.matches(""));
        assert_eq!(format!("{kept:?}"), "MetricsToken(…)");
    }

    #[test]
    fn a_bad_setting_is_named_in_the_message() {
        type Change = fn(&mut Settings);
        let cases: [(&str, Change); 12] = [
            ("public_url", |s| s.public_url = "not a url".into()),
            ("public_url", |s| {
                s.public_url = "https://example.org/accounts".into()
            }),
            ("bind_address", |s| s.bind_address = "localhost".into()),
            ("log_format", |s| s.log_format = "xml".into()),
            ("mail_from", |s| {
                s.mail_from = Some("accounts at riverside".into())
            }),
            ("session_idle_timeout_minutes", |s| {
                s.session_idle_timeout_minutes = 0
            }),
            ("two_factor_key", |s| {
                s.two_factor_key = Some(SecretText("not hexadecimal".into()))
            }),
            ("api_requests_per_minute", |s| s.api_requests_per_minute = 0),
            ("forwarded_for_proxies", |s| s.forwarded_for_proxies = 0),
            ("password_queue", |s| s.password_queue = 10_001),
            ("metrics_token", |s| {
                s.metrics_token = Some(SecretText("too short".into()))
            }),
            ("metrics_token", |s| {
                s.metrics_token = Some(SecretText(format!("{} with spaces", "x".repeat(32))))
            }),
        ];
        for (setting, change) in cases {
            let mut settings = Settings::default();
            change(&mut settings);
            let error = settings.check().expect_err(setting);
            assert_eq!(error.setting, setting);
            assert!(
                error
                    .to_string()
                    .contains(&format!("GATEHOUSE_{}", setting.to_uppercase()))
            );
        }
    }

    #[test]
    fn without_a_configured_key_one_is_made_once_in_the_data_directory() {
        let dir = std::env::temp_dir().join(format!("gatehouse-key-{}", uuid::Uuid::new_v4()));
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        }
        .check()
        .expect("valid");
        let first = settings.two_factor_key().expect("made");
        let again = settings.two_factor_key().expect("read back");
        assert_eq!(first, again);
        let text = std::fs::read_to_string(dir.join(TWO_FACTOR_KEY_FILE)).expect("key file");
        assert_eq!(text.trim(), first.to_hex());
        std::fs::remove_dir_all(dir).expect("clean up");
    }

    #[test]
    fn a_configured_key_is_used_and_never_printed() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let settings = Settings {
            two_factor_key: Some(SecretText(hex_key.into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains(hex_key));
        let checked = settings.check().expect("valid");
        assert!(!format!("{checked:?}").contains(hex_key));
        assert_eq!(checked.two_factor_key().expect("key").to_hex(), hex_key);
    }
}
