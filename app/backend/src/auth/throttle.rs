//! Attempt throttling stored in the database, so limits hold across
//! replicas. Every attempt (a password, a code, a forgotten-password
//! request) is counted *before* it is judged, by a conditional update that
//! only one of several racing requests can win for each place, so a burst
//! of parallel guesses cannot all pass a count of zero: no more than a
//! counter's limit are even checked.
//!
//! Counters:
//! - per login from one client (an IPv4 address or an IPv6 /64), so a
//!   stranger elsewhere cannot lock the owner out; and per client over all
//!   logins;
//! - per account from browsers it has not signed in from before, with
//!   growing delays that hold whatever the address, and never more than 100
//!   consecutive failures (NIST SP 800-63B 5.2.2);
//! - per known browser (OWASP's device cookie, `devices.rs`): a browser the
//!   person signed in from before keeps its own allowance, so an attacker
//!   spending the account's does not lock the owner out;
//! - wrong authentication codes per account, from anywhere (whoever tries
//!   already has the password), and wrong current passwords on My profile;
//! - forgotten-password requests per account key and per client.

use crate::clock::UnixTime;
use crate::db::Db;
use std::net::IpAddr;

/// How a counter limits attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// At most `limit` attempts in a window of `seconds` from the first.
    Window { seconds: i64, limit: i64 },
    /// `free` consecutive attempts, then each waits twice as long as the
    /// one before (from `first_delay`, at most `max_delay`), and none at
    /// all after `cap` until a success.
    Backoff {
        free: i64,
        first_delay: i64,
        max_delay: i64,
        cap: i64,
    },
}

/// What a success does to a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnSuccess {
    /// Forgets every attempt: the person proved who they are.
    Forget,
    /// Gives back the place this attempt took, keeping others' failures
    /// (a client's counter, shared by everyone behind one address).
    GiveBack,
    /// Keeps it (forgotten-password requests, which succeed every time).
    Keep,
}

/// One counter: what it counts (`kind`), about what (`subject`), and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    kind: &'static str,
    subject: String,
    rule: Rule,
    on_success: OnSuccess,
}

const FIFTEEN_MINUTES: Rule = Rule::Window {
    seconds: 15 * 60,
    limit: 5,
};

impl Counter {
    /// Sign-ins with one login from one client.
    pub fn sign_in_login(login_key: &str, client: &str) -> Counter {
        Counter {
            kind: "sign_in",
            subject: format!("{login_key}|{}", client_block(client)),
            rule: FIFTEEN_MINUTES,
            on_success: OnSuccess::Forget,
        }
    }

    /// Sign-ins from one client, whatever the login.
    pub fn sign_in_client(client: &str) -> Counter {
        Counter {
            kind: "sign_in_client",
            subject: client_block(client),
            rule: Rule::Window {
                seconds: 15 * 60,
                limit: 30,
            },
            on_success: OnSuccess::GiveBack,
        }
    }

    /// Sign-ins to one account from browsers it has not signed in from.
    pub fn sign_in_account(user_id: i64) -> Counter {
        Counter {
            kind: "sign_in_account",
            subject: user_id.to_string(),
            rule: Rule::Backoff {
                free: 10,
                first_delay: 60,
                max_delay: 24 * 3600,
                cap: 100,
            },
            on_success: OnSuccess::Forget,
        }
    }

    /// Sign-ins from a browser the account signed in from before.
    pub fn sign_in_device(device: &str) -> Counter {
        Counter {
            kind: "sign_in_device",
            subject: device.to_owned(),
            rule: Rule::Window {
                seconds: 15 * 60,
                limit: 10,
            },
            on_success: OnSuccess::Forget,
        }
    }

    /// Authentication codes (TOTP or recovery) of one account.
    pub fn two_factor(user_id: i64) -> Counter {
        Counter {
            kind: "two_factor",
            subject: user_id.to_string(),
            rule: FIFTEEN_MINUTES,
            on_success: OnSuccess::Forget,
        }
    }

    /// The current password typed on My profile (to change the password,
    /// the email address or two-factor authentication).
    pub fn current_password(user_id: i64) -> Counter {
        Counter {
            kind: "current_password",
            subject: user_id.to_string(),
            rule: FIFTEEN_MINUTES,
            on_success: OnSuccess::Forget,
        }
    }

    /// Forgotten-password requests for one login.
    pub fn password_reset_login(login_key: &str) -> Counter {
        Counter {
            kind: "password_reset",
            subject: login_key.to_owned(),
            rule: Rule::Window {
                seconds: 3600,
                limit: 5,
            },
            on_success: OnSuccess::Keep,
        }
    }

    /// Forgotten-password requests from one client.
    pub fn password_reset_client(client: &str) -> Counter {
        Counter {
            kind: "password_reset_client",
            subject: client_block(client),
            rule: Rule::Window {
                seconds: 3600,
                limit: 20,
            },
            on_success: OnSuccess::Keep,
        }
    }
}

/// The client a counter is kept for: an IPv4 address, or the /64 of an
/// IPv6 one (one home or one server gets a whole /64, so counting single
/// IPv6 addresses would count nothing).
pub fn client_block(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_canonical().to_string(),
        _ => address.to_owned(),
    }
}

/// A counter's state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Count {
    attempts: i64,
    window_start: i64,
    last_at: i64,
}

/// What a counter says to one more attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Counted: the counter becomes this.
    Admit(Count),
    /// Refused: try again in this many seconds.
    Wait(i64),
}

impl Rule {
    fn decide(self, count: Count, now: UnixTime) -> Decision {
        match self {
            Rule::Window { seconds, limit } => {
                if now >= count.window_start + seconds {
                    Decision::Admit(Count {
                        attempts: 1,
                        window_start: now,
                        last_at: now,
                    })
                } else if count.attempts < limit {
                    Decision::Admit(Count {
                        attempts: count.attempts + 1,
                        last_at: now,
                        ..count
                    })
                } else {
                    Decision::Wait(count.window_start + seconds - now)
                }
            }
            Rule::Backoff {
                free,
                first_delay,
                max_delay,
                cap,
            } => {
                if count.attempts >= cap {
                    return Decision::Wait(max_delay);
                }
                let beyond = count.attempts - free;
                let delay = if beyond < 0 {
                    0
                } else {
                    // 2^beyond minutes, without overflowing.
                    first_delay
                        .saturating_mul(1_i64 << beyond.min(40))
                        .min(max_delay)
                };
                let allowed_at = count.last_at + delay;
                if now >= allowed_at {
                    Decision::Admit(Count {
                        attempts: count.attempts + 1,
                        last_at: now,
                        ..count
                    })
                } else {
                    Decision::Wait(allowed_at - now)
                }
            }
        }
    }
}

/// Seconds to wait, when an attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub i64);

impl Wait {
    /// For messages that speak in minutes (at least one).
    pub fn minutes(self) -> u32 {
        u32::try_from((self.0 + 59) / 60).unwrap_or(u32::MAX).max(1)
    }
}

/// How often one request tries again when racing requests take the place
/// it saw; past this it is refused (so many racing attempts are a burst).
const RACE_RETRIES: usize = 8;

/// Counts one attempt on every counter before it is judged, or refuses it
/// with the longest wait any counter asks for (the counters already passed
/// keep the attempt: a refused attempt is an attempt).
pub async fn admit(
    db: &Db,
    counters: &[Counter],
    now: UnixTime,
) -> Result<Result<(), Wait>, sqlx::Error> {
    for counter in counters {
        if let Err(wait) = admit_one(db, counter, now).await? {
            return Ok(Err(wait));
        }
    }
    Ok(Ok(()))
}

async fn admit_one(
    db: &Db,
    counter: &Counter,
    now: UnixTime,
) -> Result<Result<(), Wait>, sqlx::Error> {
    for _ in 0..RACE_RETRIES {
        // A success elsewhere may delete the row at any moment: make it
        // exist, then read it, and start again if it went in between.
        sqlx::query(
            "INSERT INTO throttle_counters (kind, subject, attempts, window_start, last_at)
             VALUES ($1, $2, 0, $3, $3) ON CONFLICT (kind, subject) DO NOTHING",
        )
        .bind(counter.kind)
        .bind(&counter.subject)
        .bind(now)
        .execute(&db.pool)
        .await?;
        let seen: Option<Count> = sqlx::query_as(
            "SELECT attempts, window_start, last_at FROM throttle_counters
             WHERE kind = $1 AND subject = $2",
        )
        .bind(counter.kind)
        .bind(&counter.subject)
        .fetch_optional(&db.pool)
        .await?;
        let Some(seen) = seen else { continue };
        let next = match counter.rule.decide(seen, now) {
            Decision::Wait(seconds) => return Ok(Err(Wait(seconds.max(1)))),
            Decision::Admit(next) => next,
        };
        // Only one of several racing requests can move the counter on from
        // what they all saw; the others look again.
        let taken = sqlx::query(
            "UPDATE throttle_counters SET attempts = $1, window_start = $2, last_at = $3
             WHERE kind = $4 AND subject = $5 AND attempts = $6 AND window_start = $7 AND last_at = $8",
        )
        .bind(next.attempts)
        .bind(next.window_start)
        .bind(next.last_at)
        .bind(counter.kind)
        .bind(&counter.subject)
        .bind(seen.attempts)
        .bind(seen.window_start)
        .bind(seen.last_at)
        .execute(&db.pool)
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(Ok(()));
        }
    }
    Ok(Err(Wait(1)))
}

/// After a successful attempt: each counter forgets, gives back or keeps
/// the attempts as its kind says.
pub async fn succeeded(db: &Db, counters: &[Counter]) -> Result<(), sqlx::Error> {
    for counter in counters {
        let sql = match counter.on_success {
            OnSuccess::Forget => "DELETE FROM throttle_counters WHERE kind = $1 AND subject = $2",
            OnSuccess::GiveBack => {
                "UPDATE throttle_counters SET attempts = attempts - 1
                 WHERE kind = $1 AND subject = $2 AND attempts > 0"
            }
            OnSuccess::Keep => continue,
        };
        sqlx::query(sql)
            .bind(counter.kind)
            .bind(&counter.subject)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// Housekeeping: forgets counters untouched for longer than any of them
/// looks back (the account's delays reach a day; a month leaves room).
pub async fn forget_before(db: &Db, cutoff: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle_counters WHERE last_at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn count(attempts: i64, window_start: i64, last_at: i64) -> Count {
        Count {
            attempts,
            window_start,
            last_at,
        }
    }

    #[test]
    fn a_window_admits_its_limit_then_waits_for_its_end() {
        let rule = FIFTEEN_MINUTES;
        assert_eq!(
            rule.decide(count(4, NOW - 60, NOW - 1), NOW),
            Decision::Admit(count(5, NOW - 60, NOW))
        );
        assert_eq!(
            rule.decide(count(5, NOW - 60, NOW - 1), NOW),
            Decision::Wait(15 * 60 - 60)
        );
        assert_eq!(
            rule.decide(count(5, NOW - 15 * 60, NOW - 1), NOW),
            Decision::Admit(count(1, NOW, NOW)),
            "a new window"
        );
    }

    #[test]
    fn backoff_doubles_the_wait_after_the_free_attempts_and_stops_at_the_cap() {
        let rule = Counter::sign_in_account(1).rule;
        assert!(matches!(
            rule.decide(count(9, 0, NOW), NOW),
            Decision::Admit(_)
        ));
        assert_eq!(rule.decide(count(10, 0, NOW), NOW), Decision::Wait(60));
        assert_eq!(rule.decide(count(11, 0, NOW), NOW), Decision::Wait(120));
        assert_eq!(
            rule.decide(count(13, 0, NOW - 100), NOW),
            Decision::Wait(380)
        );
        assert_eq!(
            rule.decide(count(60, 0, NOW), NOW),
            Decision::Wait(24 * 3600),
            "at most a day"
        );
        assert!(matches!(
            rule.decide(count(99, 0, NOW - 24 * 3600), NOW),
            Decision::Admit(_)
        ));
        assert_eq!(
            rule.decide(count(100, 0, NOW - 365 * 24 * 3600), NOW),
            Decision::Wait(24 * 3600),
            "never more than 100 consecutive failures"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            client_block("2001:db8:1:2:3:4:5:6"),
            client_block("2001:db8:1:2:ffff::1")
        );
        assert_eq!(client_block("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_ne!(
            client_block("2001:db8:1:2::1"),
            client_block("2001:db8:1:3::1")
        );
        assert_eq!(client_block("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_block("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_block("unknown"), "unknown");
    }

    #[test]
    fn waits_read_in_whole_minutes() {
        assert_eq!(Wait(1).minutes(), 1);
        assert_eq!(Wait(60).minutes(), 1);
        assert_eq!(Wait(61).minutes(), 2);
    }
}
