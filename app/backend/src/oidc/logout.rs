//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a
//! person's session with an application ends, Gatehouse tells the
//! application, server to server, with a signed logout token.
//!
//! Notices are written to `logout_outbox` in the transaction that ends the
//! application session, and a worker delivers them like mail: a notice
//! survives a restart, waits for an application that is down (retried, 30 s
//! doubling to an hour, for a day), and goes once across replicas.
//!
//! Every way a Gatehouse session ends (signing out, timing out, an
//! administrator, deactivation, a new password) ends its application
//! sessions through one pass here, [`end_with_their_sessions`], so none of
//! those places needs to know about applications. Tokens do not wait for
//! it: each use checks the Gatehouse session itself.

use super::applications;
use super::keys;
use crate::clock::{Clock, UnixTime};
use crate::config::CheckedSettings;
use crate::db::{Backend, Db, internal};
use crate::mail::outbox::backoff_seconds;
use crate::metrics::{Metrics, Outbox};
use domain::AppError;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long a logout token is valid (the spec recommends at most two minutes).
const LOGOUT_TOKEN_SECONDS: i64 = 120;
/// A notice not delivered within this long is given up (and logged): the
/// application's tokens stopped working long ago.
const GIVE_UP_AFTER_SECONDS: i64 = 24 * 3600;
/// How long a worker holds the notices it claimed: longer than a pass may
/// send for ([`SEND_BUDGET`] and one more try), so no replica takes them
/// meanwhile.
const LOCK_SECONDS: i64 = 120;
/// A pass starts no new send after this long; the rest is given back.
const SEND_BUDGET: Duration = Duration::from_secs(30);
/// Notices claimed by one pass.
pub const BATCH_SIZE: i64 = 20;
/// How long an application has to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// The event a logout token carries.
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Ends the application sessions of every Gatehouse session that has ended
/// or timed out, queueing their notices; marks those timed-out sessions
/// ended. Returns how many application sessions ended.
pub async fn end_with_their_sessions(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
) -> Result<u64, AppError> {
    let mut tx = db.begin_write().await?;
    let idle_since = now - settings.session_idle_timeout_seconds;
    for (reason, column, limit) in [
        ("absolute_timeout", "expires_at", now),
        ("idle_timeout", "last_seen_at", idle_since),
    ] {
        sqlx::query(&format!(
            "UPDATE sessions SET ended_at = $1, end_reason = '{reason}'
             WHERE ended_at IS NULL AND {column} <= $2
               AND id IN (SELECT session_id FROM application_sessions WHERE ended_at IS NULL)"
        ))
        .bind(now)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
    }
    let ended = sqlx::query(
        "UPDATE application_sessions SET ended_at = $1, end_reason = 'session_ended'
         WHERE ended_at IS NULL
           AND session_id IN (SELECT id FROM sessions WHERE ended_at IS NOT NULL)",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    queue_notices(&mut tx, now).await?;
    tx.commit().await?;
    Ok(ended.rows_affected())
}

/// Queues a notice for every application session that ended at `now` and
/// has none yet, where its application has a back-channel address.
pub(super) async fn queue_notices(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO logout_outbox (application_session_id, created_at, next_attempt_at)
         SELECT s.id, $1, $1 FROM application_sessions s
         JOIN applications a ON a.id = s.application_id
         WHERE s.ended_at = $1 AND a.backchannel_logout_uri IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM logout_outbox o WHERE o.application_session_id = s.id)",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Notice {
    id: i64,
    created_at: i64,
    attempts: i64,
    application_id: i64,
    user_id: i64,
    sid: String,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LogoutReport {
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
}

/// Takes up to [`BATCH_SIZE`] due notices for [`LOCK_SECONDS`] (on
/// PostgreSQL skipping those another worker is taking).
async fn claim_due(db: &Db, now: UnixTime) -> Result<Vec<Notice>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let mut tx = db.begin_write().await?;
    let ids: Vec<(i64,)> = sqlx::query_as(&format!(
        "UPDATE logout_outbox SET locked_until = $2
         WHERE id IN (
             SELECT id FROM logout_outbox
             WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1
               AND (locked_until IS NULL OR locked_until <= $1)
             ORDER BY next_attempt_at, id LIMIT $3 {lock})
         RETURNING id"
    ))
    .bind(now)
    .bind(now + LOCK_SECONDS)
    .bind(BATCH_SIZE)
    .fetch_all(&mut *tx)
    .await?;
    let mut notices = Vec::with_capacity(ids.len());
    for (id,) in ids {
        let notice: Notice = sqlx::query_as(
            "SELECT o.id, o.created_at, o.attempts, s.application_id, s.user_id, s.sid
             FROM logout_outbox o JOIN application_sessions s ON s.id = o.application_session_id
             WHERE o.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        notices.push(notice);
    }
    tx.commit().await?;
    Ok(notices)
}

/// The logout token for a notice, signed as the application's ID tokens are.
async fn logout_token(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
    application: &applications::Application,
    notice: &Notice,
) -> Result<String, AppError> {
    let claims = json!({
        "iss": super::endpoints::issuer(settings),
        "sub": notice.user_id.to_string(),
        "aud": application.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": uuid::Uuid::new_v4().to_string(),
        "sid": notice.sid,
        "events": { EVENT: {} },
    });
    keys::current(db, settings, now, application.id_token_algorithm)
        .await?
        .sign("logout+jwt", &claims)
}

/// One pass: ends the application sessions of ended Gatehouse sessions,
/// then delivers the due notices.
pub async fn deliver_due(
    db: &Db,
    settings: &CheckedSettings,
    now: UnixTime,
) -> Result<LogoutReport, AppError> {
    end_with_their_sessions(db, settings, now).await?;
    let mut report = LogoutReport::default();
    let started = crate::clock::Stopwatch::start();
    for notice in claim_due(db, now).await? {
        if started.elapsed() > SEND_BUDGET {
            sqlx::query("UPDATE logout_outbox SET locked_until = NULL WHERE id = $1")
                .bind(notice.id)
                .execute(&db.pool)
                .await?;
            continue;
        }
        let application = applications::by_id(&db.pool, notice.application_id)
            .await?
            .ok_or_else(|| internal("a logout notice names no application"))?;
        let result = match &application.backchannel_logout_uri {
            Some(uri) => {
                let token = logout_token(db, settings, now, &application, &notice).await?;
                send(settings, uri.as_str(), &token).await
            }
            None => Err("the application no longer has a back-channel logout address".into()),
        };
        match result {
            Ok(()) => {
                sqlx::query(
                    "UPDATE logout_outbox SET sent_at = $1, locked_until = NULL WHERE id = $2",
                )
                .bind(now)
                .bind(notice.id)
                .execute(&db.pool)
                .await?;
                report.sent += 1;
            }
            Err(error) if now - notice.created_at >= GIVE_UP_AFTER_SECONDS => {
                tracing::error!(
                    notice = notice.id,
                    application = %application.name,
                    attempts = notice.attempts + 1,
                    %error,
                    "back-channel logout given up after a day"
                );
                sqlx::query(
                    "UPDATE logout_outbox SET given_up_at = $1, attempts = attempts + 1, last_error = $2,
                         locked_until = NULL WHERE id = $3",
                )
                .bind(now)
                .bind(&error)
                .bind(notice.id)
                .execute(&db.pool)
                .await?;
                report.given_up += 1;
            }
            Err(error) => {
                let retry_at = now + backoff_seconds(notice.attempts + 1);
                tracing::warn!(
                    notice = notice.id,
                    application = %application.name,
                    attempts = notice.attempts + 1,
                    retry_in_seconds = retry_at - now,
                    %error,
                    "back-channel logout not delivered; will retry"
                );
                sqlx::query(
                    "UPDATE logout_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
                         locked_until = NULL WHERE id = $3",
                )
                .bind(&error)
                .bind(retry_at)
                .bind(notice.id)
                .execute(&db.pool)
                .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// POSTs the token as the spec says; a 200 or 204 is delivery. The
/// address is resolved here and the connection pinned to what was checked:
/// an organisation's administrator registered it, and must not reach this
/// machine or the private network behind it (unless
/// `allow_private_callbacks`), not even by changing their DNS between the
/// check and the connection.
async fn send(settings: &CheckedSettings, uri: &str, token: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("not an address: {e}"))?;
    let host = url.host_str().ok_or("the address has no host")?.to_owned();
    let port = url
        .port_or_known_default()
        .ok_or("the address has no port")?;
    let lookup = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((lookup.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let permitted = addresses
        .iter()
        .find(|a| settings.allow_private_callbacks || is_public(a.ip()))
        .ok_or_else(|| {
            format!(
                "{host} resolves only to addresses of this machine or a private network \
                 (setting allow_private_callbacks)"
            )
        })?;
    let response = http_client(&host, *permitted)?
        .post(url)
        .form(&[("logout_token", token)])
        .send()
        .await
        .map_err(|e| format!("cannot reach the application: {e}"))?;
    match response.status().as_u16() {
        200 | 204 => Ok(()),
        status => Err(format!("the application answered {status}")),
    }
}

/// The HTTP client for one notice, connecting `host` to `address` only: no
/// redirects (the address is exactly as registered), a short timeout, no
/// cookies.
fn http_client(host: &str, address: std::net::SocketAddr) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .user_agent("Gatehouse back-channel logout")
        .resolve(host, address)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// An address on the public internet: not this machine, a private or
/// shared network, link-local, multicast, documentation or unspecified.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || first == 0x2001 && v6.segments()[1] == 0x0db8)
            }
        },
    }
}

/// Delivers notices until `shutdown` completes: a pass every two seconds,
/// straight away again while full batches go out.
pub async fn run(
    db: Db,
    settings: Arc<CheckedSettings>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    crate::background::repeat("back-channel logout", shutdown, move || {
        let (db, settings, now) = (db.clone(), settings.clone(), clock.now());
        let metrics = metrics.clone();
        async move {
            let report = deliver_due(&db, &settings, now)
                .await
                .map_err(|e| e.to_string())?;
            metrics.delivered(Outbox::Logout, report.sent, report.failed + report.given_up);
            let handled = report.sent + report.failed + report.given_up;
            Ok(i64::try_from(handled).unwrap_or(0) >= BATCH_SIZE)
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }
}
