//! What an operator scrapes at `/metrics`, in the OpenMetrics text format
//! that Prometheus reads: requests by route template, method and status
//! with their latency, sign-ins by outcome, throttling, deliveries of mail
//! and logout notices, and, read when scraped, the password hashing queue,
//! the outboxes and the database pool. Each state holds its own registry,
//! no globals, so every test measures only itself.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// Latency buckets from 1 ms to 10 s: a cached page, a query, a password
/// check (~100 ms), a slow mail server.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    step: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    outbox: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    outbox: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    state: &'static str,
}

/// Which step of signing in an outcome belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInStep {
    Password,
    SecondFactor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    Success,
    Failure,
    Throttled,
}

/// Each limit that turns requests away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Guesses at a password at sign-in (`throttle.rs`).
    SignIn,
    /// Guesses at a second-factor code.
    SecondFactor,
    /// Guesses at the current password before a sensitive change.
    CurrentPassword,
    /// An API token's requests per minute.
    ApiToken,
    /// Password checks beyond the hashing queue (503).
    PasswordQueue,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Limit::SignIn => "sign_in",
            Limit::SecondFactor => "second_factor",
            Limit::CurrentPassword => "current_password",
            Limit::ApiToken => "api_token",
            Limit::PasswordQueue => "password_queue",
        }
    }
}

/// The two queues a background worker empties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outbox {
    Mail,
    Logout,
}

impl Outbox {
    fn label(self) -> &'static str {
        match self {
            Outbox::Mail => "mail",
            Outbox::Logout => "logout",
        }
    }
}

/// Where an undelivered message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undelivered {
    /// Not tried yet.
    Waiting,
    /// Tried and failed; it will be tried again.
    Retrying,
    /// Given up on.
    Failed,
}

impl Undelivered {
    const ALL: [Undelivered; 3] = [
        Undelivered::Waiting,
        Undelivered::Retrying,
        Undelivered::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            Undelivered::Waiting => "waiting",
            Undelivered::Retrying => "retrying",
            Undelivered::Failed => "failed",
        }
    }
}

/// What is read at each scrape rather than counted as it happens.
pub struct Readings {
    pub password_hashes_in_line: usize,
    pub password_hash_capacity: usize,
    pub connections_in_use: u32,
    pub connections_idle: u32,
    pub connections_max: u32,
    /// Messages not yet delivered, by outbox and state (a state not given
    /// reads zero); `None` when the database could not be read.
    pub outboxes: Option<Vec<(Outbox, Undelivered, i64)>>,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sign_ins: Family<SignInLabels, Counter>,
    throttled: Family<LimitLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    password_hashes_in_line: Gauge,
    password_hash_capacity: Gauge,
    connections: Family<ConnectionLabels, Gauge>,
    connections_max: Gauge,
    database_up: Gauge,
    outbox: Family<OutboxLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        // The unit is in the name; a UNIT line on a histogram trips some
        // OpenMetrics parsers.
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to its headers), by route template and method",
            request_duration.clone(),
        );
        let sign_ins = Family::default();
        registry.register(
            "sign_ins",
            "Sign-in attempts by step (password, second_factor) and outcome (success, failure, throttled)",
            sign_ins.clone(),
        );
        let throttled = Family::default();
        registry.register(
            "throttled",
            "Requests turned away by a limit (sign_in, second_factor, current_password, api_token, password_queue)",
            throttled.clone(),
        );
        let deliveries = Family::default();
        registry.register(
            "deliveries",
            "Delivery attempts of mail and back-channel logout notices, by outcome (sent, failed)",
            deliveries.clone(),
        );
        let password_hashes_in_line = Gauge::default();
        registry.register(
            "password_hashes_in_line",
            "Password hashes running or waiting for a hashing thread",
            password_hashes_in_line.clone(),
        );
        let password_hash_capacity = Gauge::default();
        registry.register(
            "password_hash_capacity",
            "Password hashes that may run or wait at once (threads plus password_queue)",
            password_hash_capacity.clone(),
        );
        let connections = Family::default();
        registry.register(
            "database_connections",
            "Database connections open, by state (in_use, idle)",
            connections.clone(),
        );
        let connections_max = Gauge::default();
        registry.register(
            "database_connections_max",
            "The most database connections the pool opens",
            connections_max.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the last scrape could read the database, else 0",
            database_up.clone(),
        );
        let outbox = Family::default();
        registry.register(
            "outbox_messages",
            "Messages not yet delivered, by outbox (mail, logout) and state (waiting, retrying, failed)",
            outbox.clone(),
        );
        Metrics {
            registry,
            requests,
            request_duration,
            sign_ins,
            throttled,
            deliveries,
            password_hashes_in_line,
            password_hash_capacity,
            connections,
            connections_max,
            database_up,
            outbox,
        }
    }

    /// One answered request. `method` is one of the standard methods or
    /// `other`, and `route` a template or `unmatched`, so what a client
    /// sends can never add a series.
    pub fn request(&self, method: &http::Method, route: &str, status: u16, took: Duration) {
        let method = standard_method(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels {
                method,
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn sign_in(&self, step: SignInStep, outcome: SignInOutcome) {
        let step = match step {
            SignInStep::Password => "password",
            SignInStep::SecondFactor => "second_factor",
        };
        let outcome = match outcome {
            SignInOutcome::Success => "success",
            SignInOutcome::Failure => "failure",
            SignInOutcome::Throttled => "throttled",
        };
        self.sign_ins
            .get_or_create(&SignInLabels { step, outcome })
            .inc();
    }

    /// The counter of requests `limit` turns away, for code that counts
    /// without knowing the metrics (the password hasher).
    pub fn throttled(&self, limit: Limit) -> Counter {
        self.throttled.get_or_create_owned(&LimitLabels {
            limit: limit.label(),
        })
    }

    pub fn delivered(&self, outbox: Outbox, sent: usize, failed: usize) {
        for (outcome, count) in [("sent", sent), ("failed", failed)] {
            if count > 0 {
                self.deliveries
                    .get_or_create(&DeliveryLabels {
                        outbox: outbox.label(),
                        outcome,
                    })
                    .inc_by(count as u64);
            }
        }
    }

    /// The whole exposition, with `readings` as the gauges' values.
    pub fn render(&self, readings: Readings) -> Result<String, std::fmt::Error> {
        self.password_hashes_in_line
            .set(gauge_value(readings.password_hashes_in_line));
        self.password_hash_capacity
            .set(gauge_value(readings.password_hash_capacity));
        for (state, count) in [
            ("in_use", readings.connections_in_use),
            ("idle", readings.connections_idle),
        ] {
            self.connections
                .get_or_create(&ConnectionLabels { state })
                .set(i64::from(count));
        }
        self.connections_max
            .set(i64::from(readings.connections_max));
        self.database_up.set(i64::from(readings.outboxes.is_some()));
        let Some(outboxes) = readings.outboxes else {
            return self.encode();
        };
        for outbox in [Outbox::Mail, Outbox::Logout] {
            for state in Undelivered::ALL {
                let count = outboxes
                    .iter()
                    .filter(|(o, s, _)| *o == outbox && *s == state)
                    .map(|(_, _, count)| count)
                    .sum();
                self.outbox
                    .get_or_create(&OutboxLabels {
                        outbox: outbox.label(),
                        state: state.label(),
                    })
                    .set(count);
            }
        }
        self.encode()
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn standard_method(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_cannot_add_series_through_the_method() {
        let metrics = Metrics::new();
        let invented = http::Method::from_bytes(b"INVENTED").expect("a method");
        metrics.request(&invented, "/users", 405, Duration::from_millis(2));
        let text = metrics
            .render(Readings {
                password_hashes_in_line: 0,
                password_hash_capacity: 2,
                connections_in_use: 0,
                connections_idle: 1,
                connections_max: 10,
                outboxes: None,
            })
            .expect("rendered");
        assert!(!text.contains("INVENTED"), "{text}");
        assert!(text.contains("method=\"other\""), "{text}");
        assert!(text.contains("gatehouse_database_up 0"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
