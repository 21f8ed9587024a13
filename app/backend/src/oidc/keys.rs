//! The keys that sign ID tokens and logout tokens: one RS256 (RSA, 3072
//! bits) and one EdDSA (Ed25519) key at a time, made the first time one is
//! needed and stored with the private half sealed under the server key.
//! Rotation (`gatehouse rotate-signing-keys`) makes new ones; the old ones
//! stop signing at once but stay published until every token they signed
//! has expired.

use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::clock::UnixTime;
use crate::config::CheckedSettings;
use crate::crypto::sealing;
use crate::db::{Db, internal};
use crate::onboarding::setup::COMMAND_LINE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{AppError, SigningAlgorithm};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
    ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// The longest any signed token lives (ID tokens; logout tokens are
/// shorter): how long a retired key stays published.
pub const LONGEST_SIGNED_TOKEN_SECONDS: i64 = super::ID_TOKEN_SECONDS;

/// A key ready to sign.
pub struct SigningKey {
    pub kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
}

impl SigningKey {
    /// A compact JWS of `claims`, its header naming this key and `typ`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, AppError> {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(internal)
    }
}

fn jose_algorithm(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::EdDsa => Algorithm::EdDSA,
    }
}

/// A new key: its private half (DER: PKCS#1 for RSA, PKCS#8 for Ed25519)
/// and its public JWK, whose RFC 7638 thumbprint is its key id.
struct NewKey {
    kid: String,
    der: Vec<u8>,
    public_jwk: Jwk,
}

fn generate(algorithm: SigningAlgorithm) -> Result<NewKey, AppError> {
    let (der, parameters, key_algorithm) = match algorithm {
        SigningAlgorithm::Rs256 => {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            use rsa::traits::PublicKeyParts;
            use rsa::{Generate, PrivateKey};
            let key = PrivateKey::try_generate().map_err(internal)?;
            let public = key.to_public_key();
            let parameters = AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(public.n_bytes()),
                e: URL_SAFE_NO_PAD.encode(public.e_bytes()),
            });
            let der = key.to_pkcs1_der().map_err(internal)?.as_bytes().to_vec();
            (der, parameters, KeyAlgorithm::RS256)
        }
        SigningAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::EncodePrivateKey;
            use rand::RngCore;
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let key = ed25519_dalek::SigningKey::from_bytes(&secret);
            let parameters = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            });
            let der = key.to_pkcs8_der().map_err(internal)?.as_bytes().to_vec();
            (der, parameters, KeyAlgorithm::EdDSA)
        }
    };
    let mut public_jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(key_algorithm),
            ..CommonParameters::default()
        },
        algorithm: parameters,
    };
    let kid = public_jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(internal)?;
    public_jwk.common.key_id = Some(kid.clone());
    Ok(NewKey {
        kid,
        der,
        public_jwk,
    })
}

/// Makes a key (slow for RSA: hundreds of milliseconds) off the async threads.
async fn generate_off_thread(algorithm: SigningAlgorithm) -> Result<NewKey, AppError> {
    tokio::task::spawn_blocking(move || generate(algorithm))
        .await
        .map_err(internal)?
}

/// Stores `key` as the algorithm's current key, unless another replica (or
/// request) stored one first; the unique index on current keys decides.
async fn store(
    conn: &mut sqlx::AnyConnection,
    settings: &CheckedSettings,
    now: UnixTime,
    algorithm: SigningAlgorithm,
    key: &NewKey,
) -> Result<(), AppError> {
    let sealed = sealing::seal_signing_key(settings, &key.kid, &key.der)?;
    let jwk = serde_json::to_string(&key.public_jwk).map_err(internal)?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (algorithm) WHERE retired_at IS NULL DO NOTHING",
    )
    .bind(&key.kid)
    .bind(algorithm.as_str())
    .bind(sealed)
    .bind(jwk)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct StoredKey {
    kid: String,
    private_key: Vec<u8>,
}

async fn current_row(db: &Db, algorithm: SigningAlgorithm) -> Result<Option<StoredKey>, AppError> {
    Ok(sqlx::query_as(
        "SELECT kid, private_key FROM signing_keys WHERE algorithm = $1 AND retired_at IS NULL",
    )
    .bind(algorithm.as_str())
    .fetch_optional(&db.pool)
    .await?)
}

/// The key that signs with `algorithm` now, made if there is none yet.
pub async fn current(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
    algorithm: SigningAlgorithm,
) -> Result<SigningKey, AppError> {
    let stored = match current_row(db, algorithm).await? {
        Some(stored) => stored,
        None => {
            let key = generate_off_thread(algorithm).await?;
            let mut conn = db.pool.acquire().await?;
            store(&mut conn, settings, now, algorithm, &key).await?;
            current_row(db, algorithm)
                .await?
                .ok_or_else(|| internal("a signing key was stored but cannot be read back"))?
        }
    };
    let der = sealing::open_signing_key(settings, &stored.kid, &stored.private_key)?;
    let key = match algorithm {
        SigningAlgorithm::Rs256 => EncodingKey::from_rsa_der(&der),
        SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(&der),
    };
    Ok(SigningKey {
        kid: stored.kid,
        algorithm: jose_algorithm(algorithm),
        key,
    })
}

/// Makes every missing current key (called at start, so the first sign-in
/// does not wait for one); opens none.
pub async fn ensure(db: &Db, settings: &CheckedSettings, now: UnixTime) -> Result<(), AppError> {
    for algorithm in SigningAlgorithm::ALL {
        if current_row(db, *algorithm).await?.is_none() {
            let key = generate_off_thread(*algorithm).await?;
            let mut conn = db.pool.acquire().await?;
            store(&mut conn, settings, now, *algorithm, &key).await?;
        }
    }
    Ok(())
}

/// The published keys (`/oauth/jwks`): the current ones and the retired
/// ones whose tokens may still be live.
pub async fn published(db: &Db, now: UnixTime) -> Result<JwkSet, AppError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT public_jwk FROM signing_keys
         WHERE retired_at IS NULL OR published_until > $1
         ORDER BY id DESC",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let keys = rows
        .into_iter()
        .map(|(json,)| serde_json::from_str(&json).map_err(internal))
        .collect::<Result<Vec<Jwk>, AppError>>()?;
    Ok(JwkSet { keys })
}

/// A rotation: the new keys' ids, and the retired ones'.
#[derive(Debug)]
pub struct Rotation {
    pub new_kids: Vec<String>,
    pub retired_kids: Vec<String>,
    /// When the retired keys leave `/oauth/jwks`.
    pub retired_published_until: UnixTime,
}

/// Retires the current keys and makes new ones, in one transaction: from
/// its commit on, only the new keys sign. (The command line's; audited as such.)
pub async fn rotate(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
) -> Result<Rotation, AppError> {
    let mut new_keys = Vec::new();
    for algorithm in SigningAlgorithm::ALL {
        new_keys.push((*algorithm, generate_off_thread(*algorithm).await?));
    }
    let published_until = now + LONGEST_SIGNED_TOKEN_SECONDS;
    let mut write = Acting::new(now, ActedBy::NOBODY, COMMAND_LINE)
        .begin(db)
        .await?;
    let retired: Vec<(String,)> = sqlx::query_as(
        "UPDATE signing_keys SET retired_at = $1, published_until = $2
         WHERE retired_at IS NULL RETURNING kid",
    )
    .bind(now)
    .bind(published_until)
    .fetch_all(&mut *write)
    .await?;
    for (algorithm, key) in &new_keys {
        store(&mut write, settings, now, *algorithm, key).await?;
    }
    let rotation = Rotation {
        new_kids: new_keys.into_iter().map(|(_, key)| key.kid).collect(),
        retired_kids: retired.into_iter().map(|(kid,)| kid).collect(),
        retired_published_until: published_until,
    };
    write
        .audit(
            Action::SigningKeysRotated,
            Subject::Unknown,
            format!(
                "new={} retired={}",
                rotation.new_kids.join(","),
                rotation.retired_kids.join(",")
            ),
        )
        .await?;
    write.commit().await?;
    Ok(rotation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    #[test]
    fn each_algorithm_signs_what_its_published_key_verifies() {
        for algorithm in SigningAlgorithm::ALL {
            let new = generate(*algorithm).expect("key");
            let key = SigningKey {
                kid: new.kid.clone(),
                algorithm: jose_algorithm(*algorithm),
                key: match algorithm {
                    SigningAlgorithm::Rs256 => EncodingKey::from_rsa_der(&new.der),
                    SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(&new.der),
                },
            };
            let claims = Claims {
                sub: "12".into(),
                exp: 4_000_000_000,
            };
            let token = key.sign("JWT", &claims).expect("signed");
            let header = jsonwebtoken::decode_header(&token).expect("header");
            assert_eq!(header.kid.as_deref(), Some(new.kid.as_str()));
            let published: Jwk =
                serde_json::from_str(&serde_json::to_string(&new.public_jwk).expect("json"))
                    .expect("jwk");
            let decoding = DecodingKey::from_jwk(&published).expect("decoding key");
            let mut validation = Validation::new(jose_algorithm(*algorithm));
            validation.validate_aud = false;
            let read =
                jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).expect("verifies");
            assert_eq!(read.claims, claims);
            assert!(
                !serde_json::to_string(&new.public_jwk)
                    .expect("json")
                    .contains("\"d\""),
                "the published key has no private part"
            );
        }
    }
}
