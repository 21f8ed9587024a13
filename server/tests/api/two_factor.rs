//! Two-factor authentication: enrolment, the code step of sign-in, codes
//! that work once (also when two requests race), recovery codes, required
//! enrolment, throttling, encryption at rest, and what administrators and
//! the person themselves can change.

use crate::both_backends;
use crate::helpers::*;
use reqwest::{Response, StatusCode};
use serde_json::Value;

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

fn zoe() -> Vec<(&'static str, &'static str)> {
    person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA")
}

/// First-run setup exactly as the browser posts it, without enrolling.
async fn set_up_without_enrolling(app: &TestApp) -> Response {
    let token = app.setup_token().await;
    let mut form = vec![("token", token.as_str())];
    form.extend(admin_form());
    app.call_raw_as(&app.client, "complete_setup", &form).await
}

/// Siân, set up and enrolled as the helpers do it, and her secret.
async fn enrolled_sian(app: &TestApp) -> Vec<u8> {
    app.set_up_first_administrator().await;
    secret_of(app, app.user_id("sian.obrien").await).await
}

async fn secret_of(app: &TestApp, user_id: i64) -> Vec<u8> {
    backend::auth::two_factor::enrolled_secret(&app.state.db.pool, &app.state.settings, user_id)
        .await
        .expect("secret")
        .expect("enrolled")
}

/// A new browser whose password step as `login` succeeded; it now owes the code.
async fn at_code_step(app: &TestApp, login: &str) -> reqwest::Client {
    let browser = app.new_browser();
    let response = app
        .call_raw_as(
            &browser,
            "sign_in",
            &[("login", login), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        location(&response).as_deref(),
        Some("/sign-in/code?next=%2F")
    );
    browser
}

async fn send_code(app: &TestApp, browser: &reqwest::Client, code: &str) -> Response {
    app.call_raw_as(browser, "sign_in_code", &[("code", code)])
        .await
}

async fn assert_wrong_code(response: Response) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(&error_of(response).await), ["code"]);
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit log")
        .into_iter()
        .map(|(d,)| d)
        .collect()
}

async fn json(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// The recovery codes waiting to be shown in this browser's session.
async fn recovery_codes(app: &TestApp, browser: &reqwest::Client) -> Vec<String> {
    let body = json(app.call_raw_as(browser, "recovery_codes", &[]).await).await;
    body["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect()
}

/// Gives `user_id` a role of their organisation, as another administrator would.
async fn grant_role(app: &TestApp, user_id: i64, role: &str) {
    let mut conn = app.state.db.pool.acquire().await.expect("connection");
    let (organisation_id,): (i64,) =
        sqlx::query_as("SELECT organisation_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await
            .expect("user");
    backend::access::grant_role_by_name(
        &mut conn,
        app.state.now(),
        user_id,
        organisation_id,
        role,
        None,
    )
    .await
    .expect("role");
}

both_backends!(
    async fn an_administrator_is_taken_to_enrolment_right_after_setup_and_can_do_nothing_else(
        app: TestApp,
    ) {
        let response = set_up_without_enrolling(&app).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(location(&response).as_deref(), Some("/two-factor/enrol"));

        let id = app.user_id("sian.obrien").await.to_string();
        let refused = [
            app.call_raw_as(&app.client, "whoami", &[]).await,
            app.call_raw_as(&app.client, "profile", &[]).await,
            app.call_raw_as(&app.client, "my_two_factor", &[]).await,
            app.call_raw_as(&app.client, "user", &[("id", &id)]).await,
            app.call_raw_as(&app.client, "add_user", &zoe()).await,
            app.call_raw_as(
                &app.client,
                "update_my_details",
                &[
                    ("first_name", "Sian"),
                    ("last_name", "OBrien"),
                    ("initials", "SO"),
                ],
            )
            .await,
        ];
        for response in refused {
            let path = response.url().path().to_owned();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            assert_eq!(
                error_of(response).await,
                "TwoFactorEnrolmentRequired",
                "{path}"
            );
        }
        for page in ["/", "/users", "/profile"] {
            let response = app.get(page).await;
            assert_eq!(response.status(), StatusCode::FOUND, "{page}");
            assert_eq!(
                location(&response).as_deref(),
                Some("/two-factor/enrol"),
                "{page}"
            );
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(count, 1, "nothing was added");

        app.enrol_as(&app.client).await;
        assert_eq!(
            app.whoami().await.expect("signed in")["username"],
            "sian.obrien"
        );
    }
);

both_backends!(
    async fn enrolment_shows_a_qr_code_and_key_and_a_valid_code_confirms_it(app: TestApp) {
        set_up_without_enrolling(&app).await;
        let page = app.get("/two-factor/enrol").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains("<img src=\"data:image/svg+xml;charset=utf-8,%3C%3Fxml"));
        assert!(html.contains("Authentication code"));

        let enrolment = json(
            app.call_raw_as(&app.client, "two_factor_enrolment", &[])
                .await,
        )
        .await;
        let key = enrolment["key"].as_str().expect("key").to_owned();
        assert_eq!(key.len(), 32 + 7, "160 bits of base32 in groups of four");
        assert!(html.contains(&key), "the key is written on the page");
        let uri = enrolment["uri"].as_str().expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/Gatehouse:sian.obrien?secret="),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", key.replace(' ', ""))));
        assert!(uri.contains("issuer=Gatehouse"));
        assert_eq!(enrolment["required"], true);
        // The same secret on every visit until it is confirmed.
        let again = json(
            app.call_raw_as(&app.client, "two_factor_enrolment", &[])
                .await,
        )
        .await;
        assert_eq!(again["key"], enrolment["key"]);

        let secret = secret_from_key(&key);
        let wrong = app
            .call_raw_as(&app.client, "confirm_two_factor", &[("code", "000000")])
            .await;
        assert_wrong_code(wrong).await;
        let confirmed = app
            .call_raw_as(
                &app.client,
                "confirm_two_factor",
                &[("code", &totp_code(&secret, app.state.now()))],
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        assert_eq!(
            location(&confirmed).as_deref(),
            Some("/two-factor/recovery-codes")
        );
        assert_eq!(audit_details(&app, "two_factor.enrolled").await, ["first"]);
        assert_eq!(
            audit_details(&app, "two_factor.failed").await,
            ["during=enrolment reason=wrong_code"]
        );

        // Ten codes, on a page that shows them once, with a download link
        // and a copy button run by a script carrying the page's nonce.
        let page = app.get("/two-factor/recovery-codes").await;
        assert_eq!(page.status(), StatusCode::OK);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_owned();
        let html = page.text().await.expect("html");
        assert!(html.contains("download=\"gatehouse-recovery-codes.txt\""));
        assert!(html.contains("href=\"data:text/plain;charset=utf-8,"));
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the CSP");
        assert!(html.contains(&format!("<script nonce=\"{nonce}\">(function(){{")));
        let codes: Vec<String> = html
            .split("<textarea")
            .nth(1)
            .and_then(|rest| rest.split('>').nth(1))
            .and_then(|rest| rest.split("</textarea").next())
            .expect("the codes")
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(codes.len(), 10);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        let again = app
            .get("/two-factor/recovery-codes")
            .await
            .text()
            .await
            .expect("html");
        assert!(!again.contains(&codes[0]));
        assert!(again.contains("shown only once"));
        assert!(recovery_codes_shown_none(&app).await);
    }
);

async fn recovery_codes_shown_none(app: &TestApp) -> bool {
    json(app.call_raw_as(&app.client, "recovery_codes", &[]).await)
        .await
        .is_null()
}

both_backends!(
    async fn the_secret_is_stored_encrypted_and_opens_with_the_server_key(app: TestApp) {
        set_up_without_enrolling(&app).await;
        let (secret, _) = app.enrol_as(&app.client).await;
        let base32 = secret_from_key_text(&secret);
        let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT secret FROM two_factor")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("stored");
        let as_text = String::from_utf8_lossy(&stored).to_uppercase();
        assert!(!as_text.contains(&base32[..8]), "no base32 of the secret");
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_slice()),
            "no raw secret"
        );
        assert_eq!(
            stored.len(),
            12 + secret.len() + 16,
            "nonce ‖ ciphertext ‖ tag"
        );

        let id = app.user_id("sian.obrien").await;
        assert_eq!(secret_of(&app, id).await, secret, "opens with the key");
        let mut other_key = (*app.state.settings).clone();
        other_key.two_factor_key = Some(backend::config::EncryptionKey::random());
        assert!(
            backend::auth::two_factor::enrolled_secret(&app.state.db.pool, &other_key, id)
                .await
                .is_err(),
            "another key cannot open it"
        );
    }
);

fn secret_from_key_text(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

both_backends!(
    async fn sign_in_asks_for_the_code_and_allows_one_step_of_drift_but_not_two(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        // Clear of the step her enrolment used.
        app.clock.advance(120);
        let now = app.state.now();
        let browser = at_code_step(&app, "sian.obrien").await;
        assert!(app.whoami_as(&browser).await.is_none(), "not signed in yet");
        let page = app
            .client
            .get(format!("{}/sign-in/code", app.address))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains(">Authentication code</label>"));
        assert!(page.contains(">Sign in</button>"));

        assert_wrong_code(send_code(&app, &browser, &totp_code(&secret, now - 60)).await).await;
        assert_wrong_code(send_code(&app, &browser, &totp_code(&secret, now + 60)).await).await;
        let accepted = send_code(&app, &browser, &totp_code(&secret, now - 30)).await;
        assert_eq!(accepted.status(), StatusCode::OK);
        assert_eq!(location(&accepted).as_deref(), Some("/"));
        assert_eq!(
            app.whoami_as(&browser).await.expect("signed in")["username"],
            "sian.obrien"
        );
        // A step ahead works too (the phone's clock runs fast).
        let ahead = at_code_step(&app, "sian.obrien").await;
        let accepted = send_code(&app, &ahead, &totp_code(&secret, now + 30)).await;
        assert_eq!(accepted.status(), StatusCode::OK);

        let succeeded = audit_details(&app, "sign_in.succeeded").await;
        assert_eq!(
            succeeded[succeeded.len() - 2..],
            ["factor=totp", "factor=totp"]
        );
        assert_eq!(
            audit_details(&app, "two_factor.failed").await,
            [
                "during=sign_in reason=wrong_code",
                "during=sign_in reason=wrong_code"
            ]
        );
    }
);

both_backends!(
    async fn the_code_step_gives_a_new_session_and_ends_the_waiting_one(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        let browser = at_code_step(&app, "sian.obrien").await;
        let (waiting,): (i64,) =
            sqlx::query_as("SELECT MAX(id) FROM sessions WHERE stage = 'code_required'")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("waiting session");
        let accepted = send_code(&app, &browser, &totp_code(&secret, app.state.now() + 30)).await;
        let cookie = session_cookie(accepted);
        assert!(whoami_with_cookie(&app, &cookie).await.is_some());
        let (reason,): (Option<String>,) =
            sqlx::query_as("SELECT end_reason FROM sessions WHERE id = $1")
                .bind(waiting)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("session");
        assert_eq!(reason.as_deref(), Some("code_accepted"));
    }
);

both_backends!(
    async fn the_code_step_must_follow_within_ten_minutes(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        let browser = at_code_step(&app, "sian.obrien").await;
        app.clock.advance(10 * 60);
        let late = send_code(&app, &browser, &totp_code(&secret, app.state.now())).await;
        assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn a_code_is_accepted_once_even_from_another_browser(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        let code = totp_code(&secret, app.state.now() + 30);
        let first = at_code_step(&app, "sian.obrien").await;
        assert_eq!(
            send_code(&app, &first, &code).await.status(),
            StatusCode::OK
        );
        let second = at_code_step(&app, "sian.obrien").await;
        assert_wrong_code(send_code(&app, &second, &code).await).await;
        // An older step is refused too once a newer one was used.
        let older = totp_code(&secret, app.state.now());
        assert_wrong_code(send_code(&app, &second, &older).await).await;
        assert!(app.whoami_as(&second).await.is_none());
        assert_eq!(
            audit_details(&app, "two_factor.failed").await,
            [
                "during=sign_in reason=code_already_used",
                "during=sign_in reason=code_already_used"
            ]
        );
    }
);

both_backends!(
    async fn two_requests_racing_with_one_code_let_exactly_one_in(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        for round in 1..=3 {
            app.clock.advance(90);
            let code = totp_code(&secret, app.state.now());
            let browsers = [
                at_code_step(&app, "sian.obrien").await,
                at_code_step(&app, "sian.obrien").await,
            ];
            let (a, b) = tokio::join!(
                send_code(&app, &browsers[0], &code),
                send_code(&app, &browsers[1], &code)
            );
            let mut statuses = [a.status(), b.status()];
            statuses.sort();
            assert_eq!(
                statuses,
                [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
                "round {round}"
            );
        }
    }
);

both_backends!(
    async fn a_recovery_code_signs_in_once_in_place_of_a_code(app: TestApp) {
        set_up_without_enrolling(&app).await;
        app.enrol_as(&app.client).await;
        let codes = recovery_codes(&app, &app.client).await;
        assert_eq!(codes.len(), 10);

        let browser = at_code_step(&app, "sian.obrien").await;
        // Typed without the hyphen and in capitals, as people do.
        let typed = codes[3].replace('-', " ").to_uppercase();
        let accepted = send_code(&app, &browser, &typed).await;
        assert_eq!(accepted.status(), StatusCode::OK);
        assert!(app.whoami_as(&browser).await.is_some());
        assert_eq!(
            audit_details(&app, "sign_in.succeeded")
                .await
                .last()
                .map(String::as_str),
            Some("factor=recovery_code")
        );
        assert_eq!(
            audit_details(&app, "two_factor.recovery_code_used").await,
            ["during=sign_in left=9"]
        );

        let again = at_code_step(&app, "sian.obrien").await;
        assert_wrong_code(send_code(&app, &again, &codes[3]).await).await;
        assert_wrong_code(send_code(&app, &again, "abcde-fghjk").await).await;
        let status = json(app.call_raw_as(&browser, "my_two_factor", &[]).await).await;
        assert_eq!(status["recovery_codes_left"], 9);
    }
);

both_backends!(
    async fn wrong_codes_are_throttled_on_their_own_counter_and_audited(app: TestApp) {
        let secret = enrolled_sian(&app).await;
        let browser = at_code_step(&app, "sian.obrien").await;
        for _ in 0..5 {
            assert_wrong_code(send_code(&app, &browser, "000000").await).await;
        }
        let right = totp_code(&secret, app.state.now());
        let throttled = send_code(&app, &browser, &right).await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(audit_details(&app, "two_factor.failed").await.len(), 5);
        assert_eq!(
            audit_details(&app, "sign_in.throttled").await,
            ["factor=code"]
        );
        // The password counter is untouched: the password step still works.
        let kinds: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, attempts FROM throttle_counters WHERE attempts > 0 ORDER BY kind",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("events");
        assert_eq!(kinds, [("two_factor".to_owned(), 5)]);
        at_code_step(&app, "sian.obrien").await;

        app.clock.advance(15 * 60);
        let browser = at_code_step(&app, "sian.obrien").await;
        let accepted = send_code(&app, &browser, &totp_code(&secret, app.state.now())).await;
        assert_eq!(accepted.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn gaining_a_two_factor_permission_while_signed_in_requires_enrolment_at_the_next_request(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let (zoe_id, browser) = app.add_and_activate(&zoe()).await;
        assert!(app.whoami_as(&browser).await.is_some(), "no 2FA needed yet");

        grant_role(&app, zoe_id, "User administrator").await;
        let refused = app.call_raw_as(&browser, "whoami", &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_of(refused).await, "TwoFactorEnrolmentRequired");
        let page = browser
            .get(format!("{}/users", app.address))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page");
        assert_eq!(location(&page).as_deref(), Some("/two-factor/enrol"));

        app.enrol_as(&browser).await;
        assert_eq!(
            app.whoami_as(&browser).await.expect("signed in")["username"],
            "zoe.angstrom"
        );
        let users = app.call_raw_as(&browser, "list_users", &[("q", "")]).await;
        assert_eq!(users.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn activation_leads_to_enrolment_when_the_permissions_require_it(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app
            .add_person(&with(&zoe(), "send_welcome_email", "on"))
            .await;
        grant_role(&app, id, "Teacher").await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let browser = app.new_browser();
        let activated = app
            .call_raw_as(
                &browser,
                "choose_password",
                &[("token", &token), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(activated.status(), StatusCode::OK);
        assert_eq!(location(&activated).as_deref(), Some("/two-factor/enrol"));
        let refused = app.call_raw_as(&browser, "profile", &[]).await;
        assert_eq!(error_of(refused).await, "TwoFactorEnrolmentRequired");
    }
);

both_backends!(
    async fn a_password_from_an_emailed_link_does_not_skip_the_code(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .call_raw_as(
                &app.new_browser(),
                "forgotten_password",
                &[("login", "sian.obrien")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let token = app
            .token_in_last_email("Sian.OBrien@riverside.example")
            .await;
        let browser = app.new_browser();
        let chosen = app
            .call_raw_as(
                &browser,
                "choose_password",
                &[("token", &token), ("password", "a brand new passphrase 7")],
            )
            .await;
        assert_eq!(chosen.status(), StatusCode::OK);
        assert_eq!(location(&chosen).as_deref(), Some("/sign-in/code?next=%2F"));
        assert!(app.whoami_as(&browser).await.is_none());
    }
);

both_backends!(
    async fn an_administrator_resets_a_persons_two_factor_and_they_enrol_again(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, browser) = app.add_and_activate(&zoe()).await;
        grant_role(&app, zoe_id, "User administrator").await;
        app.enrol_as(&browser).await;
        let id = zoe_id.to_string();
        let security = json(app.call("user_security", &[("id", &id)]).await).await;
        assert!(security["enrolled_since"].is_string());
        assert_eq!(security["sessions"].as_array().expect("sessions").len(), 1);

        // Not from another organisation, nor by someone without users.manage.
        let (hillside, _) = app.second_organisation().await;
        let elsewhere = app
            .call_as(&hillside, "reset_two_factor", &[("id", &id)])
            .await;
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);

        let reset = app.call("reset_two_factor", &[("id", &id)]).await;
        assert_eq!(reset.status(), StatusCode::OK);
        assert!(
            app.whoami_as(&browser).await.is_none(),
            "her sessions ended"
        );
        assert_eq!(
            audit_details(&app, "two_factor.reset").await,
            ["sessions_ended=1"]
        );
        let again = app.call("reset_two_factor", &[("id", &id)]).await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);

        let browser = app.new_browser();
        let signed_in = app
            .call_raw_as(
                &browser,
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(location(&signed_in).as_deref(), Some("/two-factor/enrol"));
        app.enrol_as(&browser).await;
        assert!(app.whoami_as(&browser).await.is_some());
    }
);

both_backends!(
    async fn an_administrator_ends_every_session_of_a_person(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, browser) = app.add_and_activate(&zoe()).await;
        let other = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        let id = zoe_id.to_string();
        let ended = app.call("end_user_sessions", &[("id", &id)]).await;
        assert_eq!(ended.status(), StatusCode::OK);
        assert!(app.whoami_as(&browser).await.is_none());
        assert!(app.whoami_as(&other).await.is_none());
        assert_eq!(
            audit_details(&app, "sessions.ended_by_administrator").await,
            ["sessions_ended=2"]
        );
        let (hillside, _) = app.second_organisation().await;
        let elsewhere = app
            .call_as(&hillside, "end_user_sessions", &[("id", &id)])
            .await;
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn moving_to_a_new_phone_needs_the_password_and_a_current_code(app: TestApp) {
        let old = enrolled_sian(&app).await;
        app.clock.advance(30);
        let change = |password: &'static str, code: String| {
            let app = &app;
            async move {
                app.call_raw_as(
                    &app.client,
                    "change_two_factor",
                    &[
                        ("password", password),
                        ("code", &code),
                        ("change", "new_device"),
                    ],
                )
                .await
            }
        };
        let now = app.state.now();
        let wrong_password = change("not my password at all", totp_code(&old, now)).await;
        assert_eq!(wrong_password.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&error_of(wrong_password).await), ["password"]);
        assert_wrong_code(change(PASSWORD, "123456".into()).await).await;
        let too_early = app
            .call_raw_as(&app.client, "two_factor_enrolment", &[])
            .await;
        assert_eq!(
            too_early.status(),
            StatusCode::BAD_REQUEST,
            "enrolled already"
        );

        let confirmed = change(PASSWORD, totp_code(&old, now)).await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        assert_eq!(location(&confirmed).as_deref(), Some("/two-factor/enrol"));
        let enrolment = json(
            app.call_raw_as(&app.client, "two_factor_enrolment", &[])
                .await,
        )
        .await;
        assert_eq!(enrolment["again"], true);
        let new = secret_from_key(enrolment["key"].as_str().expect("key"));
        assert_ne!(new, old);

        // The old phone keeps working until the new one is confirmed.
        app.clock.advance(30);
        let id = app.user_id("sian.obrien").await;
        assert_eq!(secret_of(&app, id).await, old);
        let confirmed = app
            .call_raw_as(
                &app.client,
                "confirm_two_factor",
                &[("code", &totp_code(&new, app.state.now()))],
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        assert_eq!(secret_of(&app, id).await, new);
        assert_eq!(recovery_codes(&app, &app.client).await.len(), 10);
        assert_eq!(
            audit_details(&app, "two_factor.enrolled").await,
            ["first", "again"]
        );

        app.clock.advance(30);
        let browser = at_code_step(&app, "sian.obrien").await;
        assert_wrong_code(send_code(&app, &browser, &totp_code(&old, app.state.now())).await).await;
        let accepted = send_code(&app, &browser, &totp_code(&new, app.state.now())).await;
        assert_eq!(accepted.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn new_recovery_codes_replace_the_old_ones(app: TestApp) {
        set_up_without_enrolling(&app).await;
        let (secret, _) = app.enrol_as(&app.client).await;
        let old = recovery_codes(&app, &app.client).await;
        app.clock.advance(30);
        let made = app
            .call_raw_as(
                &app.client,
                "change_two_factor",
                &[
                    ("password", PASSWORD),
                    ("code", &totp_code(&secret, app.state.now())),
                    ("change", "new_recovery_codes"),
                ],
            )
            .await;
        assert_eq!(made.status(), StatusCode::OK);
        assert_eq!(
            location(&made).as_deref(),
            Some("/two-factor/recovery-codes?next=/profile")
        );
        let new = recovery_codes(&app, &app.client).await;
        assert_eq!(new.len(), 10);
        assert!(new.iter().all(|code| !old.contains(code)));
        assert_eq!(
            audit_details(&app, "two_factor.recovery_codes_regenerated")
                .await
                .len(),
            1
        );

        let browser = at_code_step(&app, "sian.obrien").await;
        assert_wrong_code(send_code(&app, &browser, &old[0]).await).await;
        assert_eq!(
            send_code(&app, &browser, &new[0]).await.status(),
            StatusCode::OK
        );
    }
);

both_backends!(
    async fn people_without_a_two_factor_permission_may_enrol_and_then_always_give_a_code(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let (_, browser) = app.add_and_activate(&zoe()).await;
        let status = json(app.call_raw_as(&browser, "my_two_factor", &[]).await).await;
        assert_eq!(status["required"], false);
        assert!(status["enrolled_since"].is_null());
        let (secret, _) = app.enrol_as(&browser).await;
        app.clock.advance(30);
        let browser = at_code_step(&app, "zoe.angstrom").await;
        let accepted = send_code(&app, &browser, &totp_code(&secret, app.state.now())).await;
        assert_eq!(accepted.status(), StatusCode::OK);
    }
);
