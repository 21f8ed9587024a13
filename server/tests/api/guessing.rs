//! Guessing passwords and codes: the client is the address our proxy saw,
//! IPv6 clients count by /64, an account slows guessers down whatever
//! their address while a browser it signed in from keeps its own allowance,
//! parallel guesses are counted before they are judged, and wrong current
//! passwords on My profile are throttled and audited like sign-in.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

/// One password attempt from `client` (as our proxy reports it) on `browser`.
async fn attempt(
    app: &TestApp,
    browser: &reqwest::Client,
    forwarded_for: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(format!("{}/fn/sign_in", app.address))
        .header("origin", &app.address)
        .header("x-forwarded-for", forwarded_for)
        .form(&[("login", login), ("password", password)])
        .send()
        .await
        .expect("request")
}

/// A wrong password for Siân from `forwarded_for`, in a new browser.
async fn guess(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    attempt(
        app,
        &app.new_browser(),
        forwarded_for,
        "sian.obrien",
        "wrong guess here",
    )
    .await
}

/// Siân's password from `forwarded_for`, in a new browser.
async fn right(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    attempt(
        app,
        &app.new_browser(),
        forwarded_for,
        "sian.obrien",
        PASSWORD,
    )
    .await
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT client_address, detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit")
}

both_backends!(
    async fn the_client_is_the_address_our_proxy_added_not_what_the_client_wrote(app: TestApp) {
        app.set_up_first_administrator().await;
        // Each attempt claims another address in front; our proxy's entry,
        // the last, is the same: the sixth is refused.
        for n in 0..5 {
            let forged = format!("10.9.8.{n}, 198.51.100.7");
            let response = guess(&app, &forged).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let response = attempt(
            &app,
            &app.new_browser(),
            "10.9.8.99, 198.51.100.7",
            "sian.obrien",
            "wrong guess here",
        )
        .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let failures = audit_rows(&app, "sign_in.failed").await;
        assert_eq!(failures.len(), 5);
        assert!(
            failures.iter().all(|(client, _)| client == "198.51.100.7"),
            "{failures:?}"
        );
        // Not an address at all: the connection's own address is used.
        guess(&app, "not-an-address").await;
        let failures = audit_rows(&app, "sign_in.failed").await;
        assert_eq!(failures.last().map(|(c, _)| c.as_str()), Some("127.0.0.1"));
    }
);

both_backends!(
    async fn ipv6_clients_are_counted_by_their_64(app: TestApp) {
        app.set_up_first_administrator().await;
        for n in 1..=5 {
            let address = format!("2001:db8:7:1::{n:x}");
            let response = guess(&app, &address).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let same_64 = right(&app, "2001:db8:7:1:ffff::1").await;
        assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS);
        let next_64 = right(&app, "2001:db8:7:2::1").await;
        assert_eq!(next_64.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn an_account_slows_guessers_down_whatever_their_address_but_not_its_known_browser(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        // Siân signs in on her usual browser, which becomes known.
        let usual = app.signed_in_browser("sian.obrien", PASSWORD).await;
        // Ten guesses, each from another address.
        for n in 0..10 {
            let response = guess(&app, &format!("203.0.113.{n}")).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {n}");
        }
        // The eleventh waits a minute, from anywhere, even with the right password.
        let response = right(&app, "192.0.2.50").await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        // A forged device cookie is no help.
        let forged = app.new_browser();
        let response = forged
            .post(format!("{}/fn/sign_in", app.address))
            .header("origin", &app.address)
            .header("x-forwarded-for", "192.0.2.51")
            .header(
                "cookie",
                format!(
                    "gatehouse_device={}.0123456789abcdef0123456789abcdef.{}",
                    app.user_id("sian.obrien").await,
                    "0".repeat(64)
                ),
            )
            .form(&[("login", "sian.obrien"), ("password", PASSWORD)])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        // Her usual browser is not locked out.
        let response = attempt(&app, &usual, "192.0.2.52", "sian.obrien", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            location(&response)
                .expect("next step")
                .starts_with("/sign-in/code")
        );
        // Proving the password there ends the account's delays for every
        // browser: a new one may try again at once.
        let response = right(&app, "192.0.2.53").await;
        assert_eq!(response.status(), StatusCode::OK);
        // Ten more guesses from elsewhere start the delays again.
        for n in 0..10 {
            let response = guess(&app, &format!("203.0.113.{}", 100 + n)).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let response = right(&app, "192.0.2.54").await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

        // After a minute one more guess; then two minutes, and so on.
        app.clock.advance(60);
        let response = guess(&app, "203.0.113.77").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        app.clock.advance(60);
        let response = right(&app, "203.0.113.78").await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "two minutes now"
        );
        app.clock.advance(60);
        let response = right(&app, "203.0.113.79").await;
        assert_eq!(response.status(), StatusCode::OK);
        let throttled = audit_rows(&app, "sign_in.throttled").await;
        assert_eq!(throttled.len(), 4, "{throttled:?}");
    }
);

/// Of parallel attempts answered `statuses`, between one and five were
/// judged (and audited as `failure`); every other one was refused unjudged.
async fn at_most_five_judged(app: &TestApp, statuses: &[StatusCode], failure: &str) {
    let judged = audit_rows(app, failure).await.len();
    assert!((1..=5).contains(&judged), "{judged} judged ({failure})");
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused, statuses.len() - judged, "{statuses:?}");
}

both_backends!(
    async fn fifty_parallel_wrong_passwords_or_codes_are_counted_before_any_is_judged(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let passwords = (0..50).map(|_| async { guess(&app, "203.0.113.200").await.status() });
        let statuses = futures::future::join_all(passwords).await;
        at_most_five_judged(&app, &statuses, "sign_in.failed").await;

        // At the code step, from another address.
        let browser = app.new_browser();
        let password_step = attempt(&app, &browser, "198.51.100.20", "sian.obrien", PASSWORD).await;
        assert!(
            location(&password_step)
                .expect("code step")
                .starts_with("/sign-in/code")
        );
        let codes = (0..50).map(|_| {
            let (app, browser) = (&app, &browser);
            async move {
                app.call_raw_as(browser, "sign_in_code", &[("code", "000000")])
                    .await
                    .status()
            }
        });
        let statuses = futures::future::join_all(codes).await;
        at_most_five_judged(&app, &statuses, "two_factor.failed").await;
    }
);

both_backends!(
    async fn wrong_current_passwords_on_my_profile_are_throttled_and_audited(app: TestApp) {
        app.set_up_first_administrator().await;
        let new = "a brand new passphrase for 2027";
        for _ in 0..5 {
            let response = app
                .call(
                    "change_my_password",
                    &[
                        ("current_password", "not my password"),
                        ("new_password", new),
                    ],
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(
                field_message(&error_of(response).await, "current_password").as_deref(),
                Some("Your password is not right")
            );
        }
        let response = app
            .call(
                "change_my_password",
                &[("current_password", PASSWORD), ("new_password", new)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(audit_rows(&app, "current_password.failed").await.len(), 5);
        let throttled = audit_rows(&app, "current_password.throttled").await;
        assert_eq!(throttled.len(), 1);
        assert_eq!(throttled[0].1, "during=change_password");
        // The same counter guards two-factor changes.
        let response = app
            .call(
                "change_two_factor",
                &[
                    ("password", PASSWORD),
                    ("code", "123456"),
                    ("change", "new_device"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(15 * 60);
        let response = app
            .call(
                "change_my_password",
                &[("current_password", PASSWORD), ("new_password", new)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn a_refused_client_makes_no_counters_for_the_logins_it_goes_on_trying(app: TestApp) {
        for n in 0..30 {
            let login = format!("spray.{n}");
            attempt(
                &app,
                &app.new_browser(),
                "203.0.113.90",
                &login,
                "whatever password",
            )
            .await;
        }
        let counters = || async {
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM throttle_counters")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
            count
        };
        let before = counters().await;
        for n in 30..60 {
            let login = format!("spray.{n}");
            let response = attempt(
                &app,
                &app.new_browser(),
                "203.0.113.90",
                &login,
                "whatever password",
            )
            .await;
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        }
        assert_eq!(
            counters().await,
            before,
            "no rows for refused attempts' logins"
        );
    }
);

both_backends!(
    async fn a_known_browser_spares_only_its_own_account_of_those_a_login_names(app: TestApp) {
        app.set_up_first_administrator().await;
        let sian = app.user_id("sian.obrien").await;
        // Mallory's username is Siân's email address: that login names both.
        const LOGIN: &str = "sian.obrien@riverside.example";
        const MALLORY: &str = "quiet orchard lantern 58";
        let mut form = person_form("Mallory", "Evans", "mallory@elsewhere.example", "ME");
        form.retain(|(f, _)| *f != "generate_username" && *f != "username");
        form.push(("username", LOGIN));
        let id = app.add_person(&form).await;
        app.call(
            "send_user_email",
            &[("id", &id.to_string()), ("kind", "welcome")],
        )
        .await;
        let token = app.token_in_last_email("mallory@elsewhere.example").await;
        app.choose_password_in_new_browser(&token, MALLORY).await;
        // Her browser becomes known to her account by signing in with that login.
        let known = app.new_browser();
        let response = attempt(&app, &known, "203.0.113.5", LOGIN, MALLORY).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            app.whoami_as(&known).await.expect("signed in")["username"],
            LOGIN
        );

        // Every attempt from that browser counts against Siân too, her own
        // sign-in included: nine guesses make ten.
        for _ in 0..9 {
            let response = attempt(&app, &known, "203.0.113.5", LOGIN, "a guess at hers").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let (attempts,): (i64,) = sqlx::query_as(
            "SELECT attempts FROM throttle_counters WHERE kind = 'sign_in_account' AND subject = $1",
        )
        .bind(sian.to_string())
        .fetch_one(&app.state.db.pool)
        .await
        .expect("Siân's counter");
        assert_eq!(attempts, 10);
        let response = right(&app, "192.0.2.60").await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "Siân's delays apply"
        );
    }
);

both_backends!(
    async fn a_refused_client_uses_up_nobodys_forgotten_password_allowance(app: TestApp) {
        let ask = |n: usize| {
            let app = &app;
            async move {
                app.new_browser()
                    .post(format!("{}/fn/forgotten_password", app.address))
                    .header("origin", &app.address)
                    .header("x-forwarded-for", "203.0.113.91")
                    .form(&[("login", format!("someone.{n}@riverside.example"))])
                    .send()
                    .await
                    .expect("request")
                    .status()
            }
        };
        // One at a time: racing requests may be refused before the limit.
        for n in 0..20 {
            ask(n).await;
        }
        let logins = || async {
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM throttle_counters WHERE kind = 'password_reset'",
            )
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
            count
        };
        assert_eq!(logins().await, 20);
        let answers = futures::future::join_all((20..30).map(ask)).await;
        assert!(
            answers.iter().all(|s| *s == StatusCode::OK),
            "the same answer"
        );
        assert_eq!(logins().await, 20, "no login counted for a refused client");
    }
);
