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
/// session that made it is sealed with it too.)
#[derive(Debug, Clone, Copy)]
pub enum Sealed {
    Secret,
    RecoveryCodes,
    ApiToken,
}

fn cipher(settings: &CheckedSettings) -> Result<Aes256Gcm, AppError> {
    let key = settings.two_factor_key().map_err(internal)?;
    Ok(Aes256Gcm::new(key.as_bytes().into()))
}

fn associated_data(what: Sealed, user_id: i64) -> String {
    let what = match what {
        Sealed::Secret => "totp-secret",
        Sealed::RecoveryCodes => "recovery-codes",
        Sealed::ApiToken => "api-token",
    };
    format!("gatehouse {what} user {user_id}")
}

/// nonce ‖ ciphertext.
pub fn seal(
    settings: &CheckedSettings,
    what: Sealed,
    user_id: i64,
    plaintext: &[u8],
) -> Result<Vec<u8>, AppError> {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let aad = associated_data(what, user_id);
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

pub fn open(
    settings: &CheckedSettings,
    what: Sealed,
    user_id: i64,
    sealed: &[u8],
) -> Result<Vec<u8>, AppError> {
    let cannot_open = || {
        internal(format!(
            "a sealed value of user {user_id} cannot be opened: is `two_factor_key` the key it was sealed with?"
        ))
    };
    if sealed.len() <= NONCE_BYTES {
        return Err(cannot_open());
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let aad = associated_data(what, user_id);
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
