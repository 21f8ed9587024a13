//! Time is passed in, so tests can move it (session expiry, link lifetimes,
//! TOTP steps). Nothing else reads the system clock or sleeps: clippy
//! refuses it elsewhere (`disallowed-methods` in clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Seconds since the Unix epoch; what the database stores.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// Real elapsed time, which no test clock moves: for time budgets and for
/// answering only after a fixed time (so timing tells nothing).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(tokio::time::Instant);

impl Stopwatch {
    pub fn start() -> Self {
        Stopwatch(tokio::time::Instant::now())
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    /// Waits until `duration` has passed since the start.
    pub async fn wait_until(&self, duration: Duration) {
        tokio::time::sleep_until(self.0 + duration).await;
    }
}

/// A clock that only moves when told to; shared by tests and the app they drive.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn starting_at(now: UnixTime) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats a stored time for programs (the REST API): `2026-11-23T14:05:00Z`.
pub fn format_rfc3339(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| at.to_string())
}

/// Formats a stored time for people: `2026-11-23 14:05 UTC`.
pub fn format_utc(at: UnixTime) -> String {
    use time::macros::format_description;
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| at.to_string())
}

/// The start (00:00 UTC) of a day written `YYYY-MM-DD`, as browsers' date
/// fields send it.
pub fn parse_day(text: &str) -> Result<UnixTime, time::error::Parse> {
    use time::macros::format_description;
    let day = time::Date::parse(text, format_description!("[year]-[month]-[day]"))?;
    Ok(day.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight_utc() {
        assert_eq!(
            parse_day("2026-11-23").map(format_utc).as_deref(),
            Ok("2026-11-23 00:00 UTC")
        );
        assert!(parse_day("23/11/2026").is_err());
        assert!(parse_day("2026-02-30").is_err());
    }
}
