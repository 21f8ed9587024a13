use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn a_person_signs_in_with_username_or_email_in_any_case(app: TestApp) {
        app.set_up_first_administrator().await;
        for login in [
            "sian.obrien",
            "SIAN.OBRIEN",
            "sian.obrien@riverside.example",
            "  Sian.OBrien@Riverside.Example ",
        ] {
            let browser = app.new_browser();
            let response = app
                .call_as(
                    &browser,
                    "sign_in",
                    &[("login", login), ("password", PASSWORD)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{login}");
            assert_eq!(
                app.whoami_as(&browser).await.expect("signed in")["username"],
                "sian.obrien"
            );
        }
        assert!(
            app.audit_actions()
                .await
                .contains(&"sign_in.succeeded".to_owned())
        );
    }
);

both_backends!(
    async fn unknown_logins_and_wrong_passwords_get_the_same_answer(app: TestApp) {
        app.set_up_first_administrator().await;
        let signed_out = app.new_browser();
        let wrong = app
            .call_as(
                &signed_out,
                "sign_in",
                &[
                    ("login", "sian.obrien"),
                    ("password", "not the password at all"),
                ],
            )
            .await;
        let unknown = app
            .call_as(
                &signed_out,
                "sign_in",
                &[("login", "nobody.here"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(wrong).await, error_of(unknown).await);
        assert!(app.whoami_as(&signed_out).await.is_none());
        let failures = app
            .audit_actions()
            .await
            .iter()
            .filter(|a| *a == "sign_in.failed")
            .count();
        assert_eq!(failures, 2);
    }
);

both_backends!(
    async fn a_deactivated_account_cannot_sign_in_and_gets_the_generic_answer(app: TestApp) {
        app.set_up_first_administrator().await;
        let id = app.user_id("sian.obrien").await;
        app.deactivate(id).await;
        let response = app.sign_in("sian.obrien", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(response).await, "InvalidCredentials");
    }
);

both_backends!(
    async fn repeated_failures_throttle_that_login_from_that_address_only(app: TestApp) {
        app.set_up_first_administrator().await;
        let attacker = "203.0.113.66";
        for _ in 0..5 {
            let response = app
                .sign_in_from(attacker, "sian.obrien", "wrong password guess")
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        // Even the right password is refused from the attacker's address now…
        let throttled = app.sign_in_from(attacker, "sian.obrien", PASSWORD).await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(error_of(throttled).await["RateLimited"].is_object());
        // …but the owner, elsewhere, is not locked out.
        let owner = app
            .sign_in_from("198.51.100.7", "sian.obrien", PASSWORD)
            .await;
        assert_eq!(owner.status(), StatusCode::OK);
        // After the window the attacker's address may try again.
        app.clock.advance(15 * 60 + 1);
        let later = app.sign_in_from(attacker, "sian.obrien", PASSWORD).await;
        assert_eq!(later.status(), StatusCode::OK);
    }
);

both_backends!(
    async fn unknown_logins_are_throttled_like_known_ones(app: TestApp) {
        for _ in 0..5 {
            app.sign_in_from("203.0.113.9", "nobody.here", "whatever password")
                .await;
        }
        let response = app
            .sign_in_from("203.0.113.9", "nobody.here", "whatever password")
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
);

both_backends!(
    async fn one_address_trying_many_logins_is_throttled(app: TestApp) {
        app.set_up_first_administrator().await;
        for n in 0..30 {
            let login = format!("guess.{n}");
            app.sign_in_from("203.0.113.10", &login, "whatever password")
                .await;
        }
        let response = app
            .sign_in_from("203.0.113.10", "sian.obrien", PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
);

both_backends!(
    async fn sign_out_ends_the_session_on_the_server_so_a_copied_cookie_fails(app: TestApp) {
        app.set_up_first_administrator().await;
        let cookie = session_cookie(app.sign_in("sian.obrien", PASSWORD).await);
        assert!(whoami_with_cookie(&app, &cookie).await.is_some());
        assert_eq!(app.call("sign_out", &[]).await.status(), StatusCode::OK);
        assert!(app.whoami().await.is_none());
        assert!(
            whoami_with_cookie(&app, &cookie).await.is_none(),
            "the old cookie still works"
        );
        assert!(app.audit_actions().await.contains(&"sign_out".to_owned()));
    }
);

both_backends!(
    async fn an_email_used_in_two_organisations_signs_in_to_the_account_whose_password_it_is(
        app: TestApp,
    ) {
        const SHARED: &str = "zoe@shared.example";
        const OTHER_PASSWORD: &str = "another long passphrase 77";
        app.set_up_first_administrator().await;
        app.add_and_activate(&person_form("Zoë", "Ångström", SHARED, "ZA"))
            .await;
        let (tomasz, _) = app.second_organisation().await;
        let added = app
            .call_as(
                &tomasz,
                "add_user",
                &with(
                    &person_form("Zoë", "Brown", SHARED, "ZB"),
                    "send_welcome_email",
                    "on",
                ),
            )
            .await;
        assert_eq!(added.status(), StatusCode::OK);
        let token = app.token_in_last_email(SHARED).await;
        app.choose_password_in_new_browser(&token, OTHER_PASSWORD)
            .await;
        for (password, username) in [(PASSWORD, "zoe.angstrom"), (OTHER_PASSWORD, "zoe.brown")] {
            let browser = app.new_browser();
            let response = app
                .call_as(
                    &browser,
                    "sign_in",
                    &[("login", SHARED), ("password", password)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{username}");
            assert_eq!(
                app.whoami_as(&browser).await.expect("signed in")["username"],
                username
            );
        }
        let wrong = app
            .call_as(
                &app.new_browser(),
                "sign_in",
                &[("login", SHARED), ("password", "neither of theirs at all")],
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
);
