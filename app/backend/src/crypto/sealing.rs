//! Sealing secrets at rest with AES-256-GCM under the server's key (setting
//! `two_factor_key`): a random 96-bit nonce each, stored before the
//! ciphertext, with what it is and whose it is bound in as associated data,
//! so a sealed value cannot be moved to another account or purpose.

use crate::config::CheckedSettings;
use crate::db::internal;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use domain::AppError;
use rand::RngCore;
use rand::rngs::OsRng;

/// The nonce stored before each ciphertext.
pub const NONCE_BYTES: usize = 12;

/// What is sealed, bound into the ciphertext with the account. (The key is
/// the two-factor key; a new API token waiting to be shown once in the
/// session that made it is sealed with it too, and so are the keys that sign
/// ID tokens, each bound to its key id.)
#[derive(Debug, Clone, Copy)]
pub enum Sealed {
    Secret,
    RecoveryCodes,
    ApiToken,
    /// Bound to the application, not an account.
    ApplicationSecret,
}

fn cipher(settings: &CheckedSettings) -> Result<Aes256Gcm, AppError> {
    let key = settings.two_factor_key().map_err(internal)?;
    Ok(Aes256Gcm::new(key.as_bytes().into()))
}

fn associated_data(what: Sealed, owner_id: i64) -> String {
    let (what, owner) = match what {
        Sealed::Secret => ("totp-secret", "user"),
        Sealed::RecoveryCodes => ("recovery-codes", "user"),
        Sealed::ApiToken => ("api-token", "user"),
        Sealed::ApplicationSecret => ("application-secret", "application"),
    };
    format!("gatehouse {what} {owner} {owner_id}")
}

/// nonce ‖ ciphertext. `owner_id` is the account's (the application's for
/// an application secret).
pub fn seal(
    settings: &CheckedSettings,
    what: Sealed,
    owner_id: i64,
    plaintext: &[u8],
) -> Result<Vec<u8>, AppError> {
    seal_bound(settings, &associated_data(what, owner_id), plaintext)
}

pub fn open(
    settings: &CheckedSettings,
    what: Sealed,
    owner_id: i64,
    sealed: &[u8],
) -> Result<Vec<u8>, AppError> {
    open_bound(settings, &associated_data(what, owner_id), sealed)
}

/// A token-signing key's private half, bound to its key id.
pub fn seal_signing_key(
    settings: &CheckedSettings,
    kid: &str,
    der: &[u8],
) -> Result<Vec<u8>, AppError> {
    seal_bound(settings, &signing_key_data(kid), der)
}

pub fn open_signing_key(
    settings: &CheckedSettings,
    kid: &str,
    sealed: &[u8],
) -> Result<Vec<u8>, AppError> {
    open_bound(settings, &signing_key_data(kid), sealed)
}

fn signing_key_data(kid: &str) -> String {
    format!("gatehouse signing-key {kid}")
}

fn seal_bound(
    settings: &CheckedSettings,
    aad: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, AppError> {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher(settings)?
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| internal("sealing a value failed"))?;
    Ok([nonce.as_slice(), &ciphertext].concat())
}

fn open_bound(settings: &CheckedSettings, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, AppError> {
    let cannot_open = || {
        internal(format!(
            "a sealed value ({aad}) cannot be opened: is `two_factor_key` the key it was sealed with?"
        ))
    };
    if sealed.len() <= NONCE_BYTES {
        return Err(cannot_open());
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    cipher(settings)?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| cannot_open())
}
