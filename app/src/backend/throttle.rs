//! Attempt throttling stored in the database, so limits hold across
//! replicas. Events are kept per kind of attempt, the key it was about (a
//! login, an address) and the client address.

use super::clock::UnixTime;
use super::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Failed sign-ins: per login from one address (so a stranger elsewhere
    /// cannot lock the owner out), and per address over all logins.
    SignIn,
    /// Forgotten-password requests: per account key (so nobody floods a
    /// mailbox) and per address.
    PasswordReset,
    /// Wrong authentication codes (TOTP or recovery): per account, from
    /// anywhere, since whoever tries already has the password; counted apart
    /// from passwords.
    TwoFactor,
}

struct Limits {
    window_seconds: i64,
    per_key_and_client: Option<i64>,
    per_key: Option<i64>,
    per_client: Option<i64>,
}

impl Throttle {
    fn kind(self) -> &'static str {
        match self {
            Throttle::SignIn => "sign_in",
            Throttle::PasswordReset => "password_reset",
            Throttle::TwoFactor => "two_factor",
        }
    }

    fn limits(self) -> Limits {
        match self {
            Throttle::SignIn => Limits {
                window_seconds: 15 * 60,
                per_key_and_client: Some(5),
                per_key: None,
                per_client: Some(30),
            },
            Throttle::PasswordReset => Limits {
                window_seconds: 60 * 60,
                per_key_and_client: None,
                per_key: Some(5),
                per_client: Some(20),
            },
            Throttle::TwoFactor => Limits {
                window_seconds: 15 * 60,
                per_key_and_client: None,
                per_key: Some(5),
                per_client: None,
            },
        }
    }
}

/// Minutes to wait, if one more attempt would go over a limit.
pub async fn check(
    db: &Db,
    throttle: Throttle,
    key: &str,
    client: &str,
    now: UnixTime,
) -> Result<Option<u32>, sqlx::Error> {
    let limits = throttle.limits();
    let since = now - limits.window_seconds;
    let counts = [
        (
            limits.per_key_and_client,
            "key = $2 AND client_address = $3",
        ),
        (limits.per_key, "key = $2 AND $3 = $3"),
        (limits.per_client, "client_address = $3 AND $2 = $2"),
    ];
    for (limit, condition) in counts {
        let Some(limit) = limit else { continue };
        let (count,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM throttle_events WHERE kind = $1 AND {condition} AND at > $4"
        ))
        .bind(throttle.kind())
        .bind(key)
        .bind(client)
        .bind(since)
        .fetch_one(&db.pool)
        .await?;
        if count >= limit {
            return Ok(Some(
                u32::try_from(limits.window_seconds / 60).unwrap_or(60),
            ));
        }
    }
    Ok(None)
}

pub async fn record(
    db: &Db,
    throttle: Throttle,
    key: &str,
    client: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO throttle_events (kind, key, client_address, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(throttle.kind())
    .bind(key)
    .bind(client)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forgets the events of one key from one client (after a success).
pub async fn clear(
    db: &Db,
    throttle: Throttle,
    key: &str,
    client: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle_events WHERE kind = $1 AND key = $2 AND client_address = $3")
        .bind(throttle.kind())
        .bind(key)
        .bind(client)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Housekeeping: forgets events older than any window.
pub async fn forget_before(db: &Db, cutoff: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle_events WHERE at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(())
}
