//! People following email links: activation from the welcome email, a new
//! password from a set-password email, and the forgotten-password flow.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";
const NEW_PASSWORD: &str = "a brand new passphrase 7";

fn zoe() -> Vec<(&'static str, &'static str)> {
    person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA")
}

fn welcomed(form: Vec<(&'static str, &'static str)>) -> Vec<(&'static str, &'static str)> {
    with(&form, "send_welcome_email", "on")
}

async fn send_email(app: &TestApp, id: i64, kind: &str) {
    let response = app
        .call(
            "send_user_email",
            &[("id", &id.to_string()), ("kind", kind)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

async fn choose(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.choose_password_in_new_browser(token, password).await.1
}

/// Asks for a forgotten-password email from a fresh browser; returns the
/// status, the body and how long the answer took.
async fn forgotten(app: &TestApp, login: &str) -> (StatusCode, String, Duration) {
    let started = Instant::now();
    let response = app
        .call_as(
            &app.new_browser(),
            "forgotten_password",
            &[("login", login)],
        )
        .await;
    let status = response.status();
    let body = response.text().await.expect("body");
    (status, body, started.elapsed())
}

// --- The welcome link -----------------------------------------------------------

both_backends!(
    async fn opening_a_welcome_link_shows_the_form_and_uses_nothing_up(app: TestApp) {
        app.set_up_first_administrator().await;
        app.add_person(&welcomed(zoe())).await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        for _ in 0..2 {
            let page = app.get(&format!("/activate/{token}")).await;
            assert_eq!(page.status(), StatusCode::OK);
            let html = page.text().await.expect("html");
            assert!(html.contains("Welcome to Riverside College"), "{html}");
            assert!(html.contains("zoe.angstrom"), "{html}");
            assert!(html.contains("name=\"password\""), "{html}");
        }
        assert_eq!(
            choose(&app, &token, PASSWORD).await.status(),
            StatusCode::OK
        );
        let used = app
            .get(&format!("/activate/{token}"))
            .await
            .text()
            .await
            .expect("html");
        assert!(
            used.contains("This link has expired or has already been used"),
            "{used}"
        );
        assert!(
            used.contains("name=\"login\""),
            "offers the forgotten-password form"
        );
    }
);

both_backends!(
    async fn choosing_a_password_from_the_welcome_link_activates_the_account_and_signs_in(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        app.clock.advance(600);
        let (browser, response) = app.choose_password_in_new_browser(&token, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (state, _, _, activated_at) = app.account_row(id).await;
        assert_eq!(state, "active");
        assert_eq!(activated_at, Some(START + 600));
        let me = app.whoami_as(&browser).await.expect("signed in");
        assert_eq!(me["username"], "zoe.angstrom");
        let actions = app.audit_actions_for(id).await;
        assert_eq!(
            actions,
            [
                "account.created",
                "email.queued",
                "account.activated",
                "password.changed"
            ]
        );

        let again = choose(&app, &token, NEW_PASSWORD).await;
        assert_eq!(again.status(), StatusCode::GONE);
        assert_eq!(error_of(again).await, "LinkExpired");
        // The chosen password signs in; the second attempt changed nothing.
        app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        assert!(app.whoami_as(&browser).await.is_some());
    }
);

both_backends!(
    async fn a_welcome_link_works_until_seventy_two_hours_have_passed(app: TestApp) {
        app.set_up_first_administrator().await;
        let zoe_id = app.add_person(&welcomed(zoe())).await;
        let yan = person_form("Yan", "Li", "yan.li@riverside.example", "YL");
        let yan_id = app.add_person(&welcomed(yan)).await;
        let zoe_token = app.token_in_last_email(ZOE_EMAIL).await;
        let yan_token = app.token_in_last_email("yan.li@riverside.example").await;

        app.clock.advance(72 * 3600 - 1);
        assert_eq!(
            choose(&app, &zoe_token, PASSWORD).await.status(),
            StatusCode::OK
        );
        app.clock.advance(1);
        let late = choose(&app, &yan_token, PASSWORD).await;
        assert_eq!(late.status(), StatusCode::GONE);
        assert_eq!(error_of(late).await, "LinkExpired");
        assert_eq!(app.account_row(zoe_id).await.0, "active");
        assert_eq!(app.account_row(yan_id).await.0, "pending");
        let page = app
            .get(&format!("/activate/{yan_token}"))
            .await
            .text()
            .await
            .expect("html");
        assert!(page.contains("This link has expired"), "{page}");
    }
);

both_backends!(
    async fn following_a_link_in_a_browser_signed_in_as_someone_else_ends_that_session(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        app.add_person(&welcomed(zoe())).await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let browser = app.new_browser();
        let admin_cookie = session_cookie(
            app.call_as(
                &browser,
                "sign_in",
                &[("login", "sian.obrien"), ("password", PASSWORD)],
            )
            .await,
        );
        let response = app
            .call_as(
                &browser,
                "choose_password",
                &[("token", &token), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            app.whoami_as(&browser).await.expect("signed in")["username"],
            "zoe.angstrom"
        );
        assert!(whoami_with_cookie(&app, &admin_cookie).await.is_none());
        assert!(
            app.whoami().await.is_some(),
            "the administrator's other browser is untouched"
        );
    }
);

both_backends!(
    async fn a_new_welcome_email_makes_the_older_link_stop_working(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let older = app.token_in_last_email(ZOE_EMAIL).await;
        send_email(&app, id, "welcome").await;
        let newer = app.token_in_last_email(ZOE_EMAIL).await;
        assert_ne!(older, newer);
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len(), 2);
        assert_eq!(
            choose(&app, &older, PASSWORD).await.status(),
            StatusCode::GONE
        );
        assert_eq!(
            choose(&app, &newer, PASSWORD).await.status(),
            StatusCode::OK
        );
        let queued = app
            .audit_actions_for(id)
            .await
            .into_iter()
            .filter(|a| a == "email.queued")
            .count();
        assert_eq!(queued, 2);
        // An active account gets a set-password email, not a welcome one.
        let response = app
            .call(
                "send_user_email",
                &[("id", &id.to_string()), ("kind", "welcome")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
    }
);

both_backends!(
    async fn a_deactivated_accounts_welcome_link_does_not_work(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let response = app
            .call(
                "set_user_active",
                &[("id", &id.to_string()), ("active", "false")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let refused = choose(&app, &token, PASSWORD).await;
        assert_eq!(refused.status(), StatusCode::GONE);
        assert_eq!(app.account_row(id).await.0, "deactivated");
    }
);

both_backends!(
    async fn a_weak_password_is_refused_with_the_reason_and_the_link_still_works(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        for weak in ["short", "zoe.angstrom is me", "password1234"] {
            let response = choose(&app, &token, weak).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{weak}"
            );
            let body = error_of(response).await;
            assert_eq!(fields_of(&body), ["password"], "{weak}: {body}");
            assert!(
                !field_message(&body, "password")
                    .unwrap_or_default()
                    .is_empty(),
                "{weak}: a reason is given"
            );
        }
        let named = error_of(choose(&app, &token, "zoe.angstrom is me").await).await;
        let reason = field_message(&named, "password").expect("reason");
        assert!(
            reason.contains("name") || reason.contains("username"),
            "{reason}"
        );
        assert_eq!(app.account_row(id).await.0, "pending");
        assert_eq!(
            choose(&app, &token, PASSWORD).await.status(),
            StatusCode::OK
        );
    }
);

// --- The set-password link ----------------------------------------------------

both_backends!(
    async fn a_set_password_link_works_for_one_hour(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, _) = app.add_and_activate(&zoe()).await;
        let (yan_id, _) = app
            .add_and_activate(&person_form("Yan", "Li", "yan.li@riverside.example", "YL"))
            .await;
        send_email(&app, zoe_id, "set_password").await;
        send_email(&app, yan_id, "set_password").await;
        let (subject, _) = app.last_email_to(ZOE_EMAIL).await;
        assert_eq!(subject, "Choose a new password for Riverside College");
        let link = app.link_in_last_email(ZOE_EMAIL).await;
        assert!(
            link.starts_with(&format!("{}/set-password/", app.address)),
            "{link}"
        );
        let zoe_token = app.token_in_last_email(ZOE_EMAIL).await;
        let yan_token = app.token_in_last_email("yan.li@riverside.example").await;

        let page = app
            .get(&format!("/set-password/{zoe_token}"))
            .await
            .text()
            .await
            .expect("html");
        assert!(page.contains("Choose a new password"), "{page}");
        app.clock.advance(3600 - 1);
        assert_eq!(
            choose(&app, &zoe_token, NEW_PASSWORD).await.status(),
            StatusCode::OK
        );
        app.clock.advance(1);
        assert_eq!(
            choose(&app, &yan_token, NEW_PASSWORD).await.status(),
            StatusCode::GONE
        );
        // Zoë has the new password, Yan still the old one.
        app.signed_in_browser("zoe.angstrom", NEW_PASSWORD).await;
        app.signed_in_browser("yan.li", PASSWORD).await;
        let actions = app.audit_actions_for(zoe_id).await;
        assert_eq!(
            actions.last().map(String::as_str),
            Some("sign_in.succeeded")
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "password.changed").count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "account.activated").count(),
            1,
            "{actions:?}"
        );
    }
);

both_backends!(
    async fn using_one_password_link_revokes_the_accounts_other_password_links(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let welcome = app.token_in_last_email(ZOE_EMAIL).await;
        send_email(&app, id, "set_password").await;
        let set_password = app.token_in_last_email(ZOE_EMAIL).await;
        assert_eq!(
            choose(&app, &set_password, PASSWORD).await.status(),
            StatusCode::OK
        );
        assert_eq!(app.account_row(id).await.0, "active");
        let leftover = choose(&app, &welcome, NEW_PASSWORD).await;
        assert_eq!(
            leftover.status(),
            StatusCode::GONE,
            "the welcome link is spent too"
        );
        app.signed_in_browser("zoe.angstrom", PASSWORD).await;
    }
);

both_backends!(
    async fn a_new_password_from_a_link_ends_the_accounts_other_sessions(app: TestApp) {
        app.set_up_first_administrator().await;
        let (id, first_browser) = app.add_and_activate(&zoe()).await;
        let second_browser = app.signed_in_browser("zoe.angstrom", PASSWORD).await;
        send_email(&app, id, "set_password").await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let (third_browser, response) = app
            .choose_password_in_new_browser(&token, NEW_PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(app.whoami_as(&first_browser).await.is_none());
        assert!(app.whoami_as(&second_browser).await.is_none());
        assert_eq!(
            app.whoami_as(&third_browser).await.expect("signed in")["username"],
            "zoe.angstrom"
        );
        let old = app
            .call_as(
                &app.new_browser(),
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    }
);

// --- Forgotten password ---------------------------------------------------------

both_backends!(
    async fn forgotten_password_answers_the_same_for_every_address_and_mails_only_real_people(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let (zoe_id, _) = app.add_and_activate(&zoe()).await;
        let dai = app
            .add_person(&person_form(
                "Dai",
                "Morgan",
                "dai.morgan@riverside.example",
                "DM",
            ))
            .await;
        let response = app
            .call(
                "set_user_active",
                &[("id", &dai.to_string()), ("active", "false")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let api = app
            .add_person(&with(
                &person_form("Timetable", "Sync", "timetable@riverside.example", "TS"),
                "api_user",
                "on",
            ))
            .await;
        let mails_before = app.sent_emails().await.len();

        let real = forgotten(&app, "ZOE.ANGSTROM@Riverside.example").await;
        let unknown = forgotten(&app, "nobody@riverside.example").await;
        let deactivated = forgotten(&app, "dai.morgan@riverside.example").await;
        let api_user = forgotten(&app, "timetable.sync").await;
        for (label, answer) in [
            ("unknown", &unknown),
            ("deactivated", &deactivated),
            ("API user", &api_user),
        ] {
            assert_eq!((answer.0, &answer.1), (real.0, &real.1), "{label}");
        }
        assert_eq!(real.0, StatusCode::OK);
        for (label, answer) in [
            ("real", &real),
            ("unknown", &unknown),
            ("deactivated", &deactivated),
            ("API user", &api_user),
        ] {
            assert!(
                answer.2 >= Duration::from_millis(400),
                "{label} answered in {:?}",
                answer.2
            );
        }
        let spread = real.2.abs_diff(unknown.2);
        assert!(
            spread < Duration::from_millis(300),
            "{:?} vs {:?}",
            real.2,
            unknown.2
        );

        let sent = app.sent_emails().await;
        let new: Vec<_> = sent[mails_before..].iter().collect();
        assert_eq!(new.len(), 1, "{new:?}");
        assert_eq!(new[0].to, ZOE_EMAIL);
        assert_eq!(
            new[0].subject,
            "Choose a new password for Riverside College"
        );
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        assert_eq!(
            choose(&app, &token, NEW_PASSWORD).await.status(),
            StatusCode::OK
        );

        let actions = app.audit_actions_for(zoe_id).await;
        assert!(
            actions.contains(&"password_reset.requested".to_owned()),
            "{actions:?}"
        );
        for id in [dai, api] {
            let actions = app.audit_actions_for(id).await;
            assert!(
                !actions.contains(&"password_reset.requested".to_owned()),
                "{actions:?}"
            );
        }
    }
);

both_backends!(
    async fn forgotten_password_for_a_pending_account_sends_a_fresh_one_hour_activation_link(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let id = app.add_person(&welcomed(zoe())).await;
        let welcome = app.token_in_last_email(ZOE_EMAIL).await;
        app.clock.advance(73 * 3600);
        assert_eq!(
            choose(&app, &welcome, PASSWORD).await.status(),
            StatusCode::GONE
        );

        let (status, _, _) = forgotten(&app, "zoe.angstrom").await;
        assert_eq!(status, StatusCode::OK);
        let (subject, _) = app.last_email_to(ZOE_EMAIL).await;
        assert_eq!(subject, "Activate your Riverside College account");
        let link = app.link_in_last_email(ZOE_EMAIL).await;
        assert!(
            link.starts_with(&format!("{}/activate/", app.address)),
            "{link}"
        );
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        let (expires_at,): (i64,) = sqlx::query_as(
            "SELECT expires_at FROM one_time_links WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("one open link");
        assert_eq!(
            expires_at,
            app.state.now() + 3600,
            "a forgotten-password link lasts an hour"
        );

        app.clock.advance(3600 - 1);
        assert_eq!(
            choose(&app, &token, PASSWORD).await.status(),
            StatusCode::OK
        );
        assert_eq!(app.account_row(id).await.0, "active");
        let actions = app.audit_actions_for(id).await;
        assert!(
            actions.contains(&"password_reset.requested".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"account.activated".to_owned()),
            "{actions:?}"
        );
    }
);

both_backends!(
    async fn forgotten_password_requests_for_one_address_stop_mailing_after_five_an_hour(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        app.add_and_activate(&zoe()).await;
        let before = app.emails_to(ZOE_EMAIL).await.len();
        let first = forgotten(&app, ZOE_EMAIL).await;
        for _ in 0..6 {
            app.clock.advance(60);
            let answer = forgotten(&app, ZOE_EMAIL).await;
            assert_eq!(
                (answer.0, &answer.1),
                (first.0, &first.1),
                "the answer does not change"
            );
            assert!(answer.2 >= Duration::from_millis(400));
        }
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len() - before, 5);
        // An hour after the first request, one more is allowed.
        app.clock.advance(3600 - 6 * 60);
        forgotten(&app, ZOE_EMAIL).await;
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len() - before, 6);
    }
);
