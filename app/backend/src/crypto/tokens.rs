//! Secret tokens (session cookies, one-time links): 256 random bits, shown
//! to their holder once; only the SHA-256 is stored. Short secrets a
//! database thief could try one by one (recovery codes), and values the
//! server vouches for (device cookies), get a keyed hash instead: HMAC-SHA256
//! under the server key, which is not in the database.

use crate::config::CheckedSettings;
use domain::AppError;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// A fresh token, hex-encoded (64 characters, safe in URLs and cookies).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database stores in place of the token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// HMAC-SHA256 of `message` for `purpose` (which keeps one use's hashes
/// from standing in for another's), under the server key, hex-encoded.
pub fn keyed_hash(
    settings: &CheckedSettings,
    purpose: &str,
    message: &str,
) -> Result<String, AppError> {
    Ok(hex::encode(
        mac(settings, purpose, message)?.finalize().into_bytes(),
    ))
}

/// Whether `hash` (hex) is `keyed_hash(settings, purpose, message)`,
/// compared in constant time.
pub fn keyed_hash_matches(
    settings: &CheckedSettings,
    purpose: &str,
    message: &str,
    hash: &str,
) -> Result<bool, AppError> {
    let Ok(bytes) = hex::decode(hash) else {
        return Ok(false);
    };
    Ok(mac(settings, purpose, message)?
        .verify_slice(&bytes)
        .is_ok())
}

fn mac(settings: &CheckedSettings, purpose: &str, message: &str) -> Result<Hmac<Sha256>, AppError> {
    let key = settings.two_factor_key().map_err(crate::db::internal)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .map_err(|e| crate::db::internal(format!("keyed hash: {e}")))?;
    mac.update(b"gatehouse ");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(message.as_bytes());
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CheckedSettings {
        CheckedSettings::with_random_key()
    }

    #[test]
    fn a_keyed_hash_depends_on_the_key_and_the_purpose() {
        let settings = settings();
        let hash = keyed_hash(&settings, "recovery-code", "abcdeabcde").expect("hash");
        assert_eq!(hash.len(), 64);
        assert_eq!(
            keyed_hash(&settings, "recovery-code", "abcdeabcde").expect("hash"),
            hash
        );
        assert_ne!(
            keyed_hash(&settings, "device", "abcdeabcde").expect("hash"),
            hash
        );
        assert_ne!(
            keyed_hash(&self::settings(), "recovery-code", "abcdeabcde").expect("hash"),
            hash,
            "another key"
        );
        assert_ne!(super::hash("abcdeabcde"), hash, "not the bare SHA-256");
        assert!(
            keyed_hash_matches(&settings, "recovery-code", "abcdeabcde", &hash).expect("checked")
        );
        assert!(
            !keyed_hash_matches(&settings, "recovery-code", "abcdeabcdf", &hash).expect("checked")
        );
        assert!(
            !keyed_hash_matches(&settings, "recovery-code", "abcdeabcde", "zz").expect("checked")
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn the_hash_is_stable_and_differs_from_the_token() {
        let token = generate();
        assert_eq!(hash(&token), hash(&token));
        assert_ne!(hash(&token), token);
    }
}
