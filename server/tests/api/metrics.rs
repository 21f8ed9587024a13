//! `/metrics`: there only when a token is configured, answered only to its
//! bearer, in the OpenMetrics text format (read back here by a real
//! parser), and counting what happened: requests by route template,
//! sign-ins by outcome, throttling, the outbox and the hashing queue.

use crate::both_backends;
use crate::helpers::*;
use backend::config::MetricsToken;
use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use reqwest::StatusCode;

const TOKEN: &str = "scraper-0123456789abcdef0123456789abcdef";

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

/// `/metrics` with the token.
fn metrics_with_token(app: &TestApp) -> reqwest::RequestBuilder {
    app.client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(TOKEN)
}

async fn scrape(app: &TestApp) -> Exposition {
    let response = metrics_with_token(app).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    parse_openmetrics(&text).unwrap_or_else(|e| panic!("not OpenMetrics ({e:?}):\n{text}"))
}

/// The value of the sample of `family` whose labels include `labels`: a
/// counter's or gauge's value, a histogram's count; `None` when absent (a
/// family shows once it has a sample).
fn value(exposition: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition
        .families
        .get(family)?
        .iter_samples()
        .find(|sample| {
            let set = sample.get_labelset().expect("labels");
            labels
                .iter()
                .all(|(name, value)| set.get_label_value(name) == Some(*value))
        })
        .map(|sample| match &sample.value {
            OpenMetricsValue::Counter(counter) => counter.value.as_f64(),
            OpenMetricsValue::Gauge(gauge) => gauge.as_f64(),
            OpenMetricsValue::Histogram(histogram) => histogram.count.unwrap_or(0) as f64,
            other => panic!("unexpected {other:?}"),
        })
}

fn count(exposition: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    value(exposition, family, labels).unwrap_or(0.0)
}

both_backends!(
    async fn without_a_token_configured_there_are_no_metrics(app: TestApp) {
        let response = metrics_with_token(&app).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
);

both_backends!(
    |s| s.metrics_token = MetricsToken::parse(TOKEN),
    async fn only_the_bearer_of_the_token_reads_the_metrics(app: TestApp) {
        let url = format!("{}/metrics", app.address);
        let anonymous = app.client.get(&url).send().await.expect("request");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert!(
            anonymous.headers()["www-authenticate"]
                .to_str()
                .expect("text")
                .starts_with("Bearer")
        );
        let wrong = app
            .client
            .get(&url)
            .bearer_auth(format!("{TOKEN}x"))
            .send()
            .await
            .expect("request");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let other_scheme = app
            .client
            .get(&url)
            .basic_auth("scraper", Some(TOKEN))
            .send()
            .await
            .expect("request");
        assert_eq!(other_scheme.status(), StatusCode::UNAUTHORIZED);
        let exposition = scrape(&app).await;
        assert_eq!(value(&exposition, "gatehouse_database_up", &[]), Some(1.0));
    }
);

both_backends!(
    |s| s.metrics_token = MetricsToken::parse(TOKEN),
    async fn requests_are_counted_by_route_template_method_and_status(app: TestApp) {
        app.set_up_first_administrator().await;
        let before = scrape(&app).await;
        for _ in 0..3 {
            assert_eq!(app.get("/ready").await.status(), StatusCode::OK);
        }
        assert_eq!(
            app.get("/no/such/page").await.status(),
            StatusCode::NOT_FOUND
        );
        // A link page: its template is counted, never the token in its path.
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        app.get(&format!("/activate/{token}")).await;
        let invented = reqwest::Method::from_bytes(b"INVENTED").expect("a method");
        app.client
            .request(invented, format!("{}/ready", app.address))
            .send()
            .await
            .expect("request");
        let after = scrape(&app).await;
        let ready = [("route", "/ready"), ("method", "GET"), ("status", "200")];
        assert_eq!(
            count(&after, "gatehouse_http_requests", &ready)
                - count(&before, "gatehouse_http_requests", &ready),
            3.0
        );
        let ready_latency = [("route", "/ready"), ("method", "GET")];
        assert_eq!(
            count(
                &after,
                "gatehouse_http_request_duration_seconds",
                &ready_latency
            ) - count(
                &before,
                "gatehouse_http_request_duration_seconds",
                &ready_latency
            ),
            3.0
        );
        assert!(
            count(
                &after,
                "gatehouse_http_requests",
                &[("route", "unmatched"), ("status", "404")]
            ) >= 1.0
        );
        assert_eq!(
            count(
                &after,
                "gatehouse_http_requests",
                &[("route", "/activate/{token}"), ("method", "GET")]
            ),
            1.0
        );
        assert!(count(&after, "gatehouse_http_requests", &[("method", "other")]) >= 1.0);
        let text = format!("{after}");
        assert!(!text.contains(token), "a token in the metrics");
        assert!(
            !text.contains("INVENTED"),
            "a client's method in the metrics"
        );
    }
);

both_backends!(
    |s| {
        s.metrics_token = MetricsToken::parse(TOKEN);
        s.api_requests_per_minute = 2;
    },
    async fn sign_ins_throttling_and_the_outbox_are_counted(app: TestApp) {
        app.set_up_first_administrator().await;
        let api_token = app.office_staff_api_token().await;
        let before = scrape(&app).await;
        let stranger = app.new_browser();
        for password in ["not the password", PASSWORD] {
            stranger
                .post(format!("{}/fn/sign_in", app.address))
                .header("origin", &app.address)
                .form(&[("login", "sian.obrien"), ("password", password)])
                .send()
                .await
                .expect("request");
        }
        let rest = app.rest(&api_token);
        for _ in 0..3 {
            let _ = rest.whoami().await;
        }
        app.add_person(&with(
            &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
            "send_welcome_email",
            "on",
        ))
        .await;
        let after = scrape(&app).await;
        let difference = |family: &str, labels: &[(&str, &str)]| {
            count(&after, family, labels) - count(&before, family, labels)
        };
        assert_eq!(
            difference(
                "gatehouse_sign_ins",
                &[("step", "password"), ("outcome", "failure")]
            ),
            1.0
        );
        assert_eq!(
            difference(
                "gatehouse_sign_ins",
                &[("step", "password"), ("outcome", "success")]
            ),
            1.0
        );
        assert_eq!(
            difference("gatehouse_throttled", &[("limit", "api_token")]),
            1.0
        );
        // The welcome email waits; the worker is not running in tests.
        assert_eq!(
            value(
                &after,
                "gatehouse_outbox_messages",
                &[("outbox", "mail"), ("state", "waiting")]
            ),
            Some(
                count(
                    &before,
                    "gatehouse_outbox_messages",
                    &[("outbox", "mail"), ("state", "waiting")]
                ) + 1.0
            )
        );
        assert_eq!(
            value(
                &after,
                "gatehouse_outbox_messages",
                &[("outbox", "logout"), ("state", "failed")]
            ),
            Some(0.0)
        );
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(
            value(&after, "gatehouse_password_hash_capacity", &[]),
            Some((cores + app.state.settings.password_queue) as f64)
        );
        assert_eq!(
            value(&after, "gatehouse_password_hashes_in_line", &[]),
            Some(0.0)
        );
        assert!(
            value(&after, "gatehouse_database_connections_max", &[]).expect("pool size") >= 1.0
        );
    }
);
