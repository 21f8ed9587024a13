//! Signing in to an application: discovery, the code flow with PKCE, the ID
//! token, UserInfo, refresh tokens that rotate, and what ends them.

use super::*;
use crate::both_backends;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

both_backends!(
    async fn discovery_names_every_endpoint_and_the_keys_verify(app: TestApp) {
        app.set_up_first_administrator().await;
        let discovery: Value = app
            .client
            .get(format!("{}/.well-known/openid-configuration", app.address))
            .send()
            .await
            .expect("discovery")
            .json()
            .await
            .expect("json");
        assert_eq!(discovery["issuer"], app.address.as_str());
        for endpoint in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ] {
            let url = discovery[endpoint].as_str().expect(endpoint);
            assert!(url.starts_with(&app.address), "{endpoint}: {url}");
        }
        assert_eq!(
            discovery["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            discovery["response_types_supported"],
            serde_json::json!(["code"])
        );
        let jwks: Value = app
            .client
            .get(discovery["jwks_uri"].as_str().expect("jwks"))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("json");
        let algorithms: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["alg"].as_str().expect("alg"))
            .collect();
        assert_eq!(algorithms.len(), 2, "{jwks}");
        assert!(algorithms.contains(&"RS256") && algorithms.contains(&"EdDSA"));
        assert!(
            !jwks.to_string().contains("\"d\""),
            "no private key material is published"
        );
    }
);

both_backends!(
    async fn a_person_signs_in_and_the_application_learns_who_they_are(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, claims) = rp.sign_in(&zoe, &["profile", "email", "roles"]).await;
        assert_eq!(claims["sub"], zoe_id.to_string());
        assert_eq!(claims["aud"], rp.client_id.as_str());
        assert_eq!(claims["preferred_username"], "zoe.evans");
        assert_eq!(claims["name"], "Zoë Evans");
        assert_eq!(claims["email"], "zoe.evans@riverside.example");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(claims["organisation_name"], "Riverside College");
        assert_eq!(
            claims["amr"],
            serde_json::json!(["pwd"]),
            "a password alone"
        );
        assert_eq!(claims["acr"], "urn:gatehouse:acr:password");
        assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(claims["auth_time"].as_i64(), Some(app.state.now()));
        assert_eq!(
            tokens.expires_in().map(|d| d.as_secs()),
            Some(600),
            "the application's access token lifetime"
        );

        let (status, userinfo) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(userinfo["sub"], zoe_id.to_string());
        assert_eq!(userinfo["given_name"], "Zoë");
        assert_eq!(userinfo["roles"], serde_json::json!([]));
        assert!(
            app.audit_actions_for(zoe_id)
                .await
                .contains(&"application.signed_in".to_owned())
        );
    }
);

both_backends!(
    async fn scopes_decide_which_claims_are_given(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, claims) = rp.sign_in(&zoe, &[]).await;
        assert!(claims.get("email").is_none(), "{claims}");
        assert!(claims.get("preferred_username").is_none(), "{claims}");
        let (_, userinfo) = rp.userinfo(tokens.access_token().secret()).await;
        assert!(userinfo.get("email").is_none(), "{userinfo}");
        assert_eq!(tokens.scopes().map(|s| s.len()), Some(1), "openid alone");
    }
);

both_backends!(
    async fn one_gatehouse_session_signs_in_to_several_applications(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let timetable = app
            .relying_party(&[("name", "Timetable"), ("id_token_algorithm", "EdDSA")])
            .await;
        let (_, first) = wiki.sign_in(&zoe, &["profile"]).await;
        // No password again: the same browser goes straight back with a code.
        let (_, second) = timetable.sign_in(&zoe, &["profile"]).await;
        assert_eq!(first["sub"], zoe_id.to_string());
        assert_eq!(second["sub"], zoe_id.to_string());
        assert_ne!(
            first["sid"], second["sid"],
            "each application has its own sid"
        );
    }
);

both_backends!(
    async fn someone_not_signed_in_signs_in_first_and_comes_back(app: TestApp) {
        app.set_up_first_administrator().await;
        zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let browser = app.new_browser();
        let started = rp.start(&["profile"]);
        let location = rp.open(&browser, &started.url).await;
        let next = sign_in_next(&app, &location);
        let claims = rp
            .sign_in_and_come_back(&app, &browser, "zoe.evans", &next, started)
            .await;
        assert_eq!(claims["preferred_username"], "zoe.evans");
    }
);

both_backends!(
    async fn prompt_login_asks_for_the_password_again(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let timetable = app.relying_party(&[("name", "Timetable")]).await;
        let (earlier, _) = timetable.sign_in(&zoe, &[]).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let url = format!("{}&prompt=login", started.url);
        let location = rp.open(&zoe, &url).await;
        let next = sign_in_next(&app, &location);
        assert!(
            !next.contains("prompt=login"),
            "coming back must not ask again: {next}"
        );
        // Coming back without having signed in again is not enough.
        let again = rp.open(&zoe, &format!("{}{next}", app.address)).await;
        assert!(again.starts_with("/sign-in?next="), "{again}");
        let claims = rp
            .sign_in_and_come_back(&app, &zoe, "zoe.evans", &next, started)
            .await;
        assert_eq!(claims["auth_time"].as_i64(), Some(app.state.now()));
        // Signing in again is not signing out: the timetable stays signed in.
        timetable
            .refresh(earlier.refresh_token().expect("refresh").secret())
            .await
            .expect("still signed in to the timetable");
    }
);

both_backends!(
    async fn prompt_none_without_a_session_answers_login_required(app: TestApp) {
        app.set_up_first_administrator().await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let location = rp
            .open(&app.new_browser(), &format!("{}&prompt=none", started.url))
            .await;
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(
            query_value(&location, "error").as_deref(),
            Some("login_required")
        );
        assert_eq!(
            query_value(&location, "state").as_deref(),
            Some(started.state.secret().as_str())
        );
    }
);

both_backends!(
    async fn refresh_tokens_rotate_and_a_reused_one_ends_the_application_session(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &["profile"]).await;
        let first_refresh = tokens
            .refresh_token()
            .expect("refresh token")
            .secret()
            .clone();
        app.clock.advance(60);
        let renewed = rp.refresh(&first_refresh).await.expect("refreshed");
        let second_refresh = renewed.refresh_token().expect("rotated").secret().clone();
        assert_ne!(first_refresh, second_refresh);
        assert!(renewed.id_token().is_none(), "no ID token on refresh");
        let (status, _) = rp.userinfo(renewed.access_token().secret()).await;
        assert_eq!(status, StatusCode::OK);

        // The first one again: someone else has it. Everything ends.
        let reused = rp.refresh(&first_refresh).await.expect_err("reuse refused");
        assert!(reused.contains("invalid_grant"), "{reused}");
        let after = rp
            .refresh(&second_refresh)
            .await
            .expect_err("the family ended");
        assert!(after.contains("invalid_grant"), "{after}");
        let (status, _) = rp.userinfo(renewed.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            app.audit_actions_for(zoe_id)
                .await
                .contains(&"application.refresh_token_reused".to_owned())
        );
        // Gatehouse itself stays signed in, and the application can start over.
        assert!(app.whoami_as(&zoe).await.is_some());
        rp.sign_in(&zoe, &[]).await;
    }
);

both_backends!(
    async fn a_code_works_once_and_its_replay_revokes_what_it_gave(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let verifier = started.verifier.secret().clone();
        let tokens = rp
            .exchange(&code, started.verifier)
            .await
            .expect("first use");
        let replay = rp
            .exchange(&code, openidconnect::PkceCodeVerifier::new(verifier))
            .await
            .expect_err("second use");
        assert!(replay.contains("invalid_grant"), "{replay}");
        let (status, _) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the first use's tokens are revoked"
        );
    }
);

both_backends!(
    async fn a_code_needs_its_verifier_redirect_and_time(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;

        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let (_, wrong_verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
        let refused = rp
            .exchange(&code, wrong_verifier)
            .await
            .expect_err("wrong verifier");
        assert!(refused.contains("invalid_grant"), "{refused}");

        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        app.clock.advance(61);
        let refused = rp
            .exchange(&code, started.verifier)
            .await
            .expect_err("expired");
        assert!(refused.contains("invalid_grant"), "{refused}");

        // The token request names another redirect address than the request did.
        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let response = rp
            .http
            .post(format!("{}/oauth/token", app.address))
            .basic_auth(&rp.client_id, rp.secret.as_deref())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("code_verifier", started.verifier.secret().as_str()),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_grant");
    }
);

both_backends!(
    async fn a_wrong_secret_or_another_applications_code_is_refused(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let impostor = app
            .relying_party_for(rp.id, &rp.client_id, Some("gcs_wrong".into()))
            .await;
        let refused = impostor
            .exchange(&code, started.verifier)
            .await
            .expect_err("wrong secret");
        assert!(refused.contains("invalid_client"), "{refused}");

        let other = app.relying_party(&[("name", "Timetable")]).await;
        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let refused = other
            .exchange(&code, started.verifier)
            .await
            .expect_err("another application's code");
        assert!(refused.contains("invalid_grant"), "{refused}");
    }
);

both_backends!(
    async fn a_public_application_proves_itself_with_pkce_alone(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[("client_kind", "public")]).await;
        assert!(rp.secret.is_none(), "a public application has no secret");
        let (tokens, claims) = rp.sign_in(&zoe, &["profile"]).await;
        assert_eq!(claims["preferred_username"], "zoe.evans");
        assert!(tokens.refresh_token().is_some());
    }
);

both_backends!(
    async fn deactivation_ends_every_application_session_at_once(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let refresh = tokens.refresh_token().expect("refresh").secret().clone();
        app.deactivate(zoe_id).await;
        let refused = rp.refresh(&refresh).await.expect_err("deactivated");
        assert!(refused.contains("invalid_grant"), "{refused}");
        let (status, _) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn signing_out_of_gatehouse_ends_the_applications_tokens(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let signed_out = app.call_as(&zoe, "sign_out", &[]).await;
        assert!(signed_out.status().is_success() || signed_out.status().is_redirection());
        let refresh = tokens.refresh_token().expect("refresh").secret().clone();
        let refused = rp.refresh(&refresh).await.expect_err("signed out");
        assert!(refused.contains("invalid_grant"), "{refused}");
    }
);

both_backends!(
    async fn refreshing_keeps_the_gatehouse_session_alive_until_its_absolute_end(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let mut refresh = tokens.refresh_token().expect("refresh").secret().clone();
        // Every 20 minutes for two hours: never idle for the 30-minute timeout.
        for _ in 0..6 {
            app.clock.advance(20 * 60);
            let renewed = rp.refresh(&refresh).await.expect("still signed in");
            refresh = renewed.refresh_token().expect("rotated").secret().clone();
        }
        // Idle past the timeout: the Gatehouse session is over, and so is this.
        app.clock.advance(31 * 60);
        let refused = rp.refresh(&refresh).await.expect_err("idle");
        assert!(refused.contains("invalid_grant"), "{refused}");
    }
);

both_backends!(
    async fn max_age_asks_for_a_sign_in_no_older_than_it_allows(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        app.clock.advance(10 * 60);
        // Signed in ten minutes ago: enough for an hour, not for five minutes.
        let started = rp.start(&[]);
        rp.code_for(
            &zoe,
            &Started {
                url: format!("{}&max_age=3600", started.url),
                ..started
            },
        )
        .await;
        let started = rp.start(&[]);
        let location = rp.open(&zoe, &format!("{}&max_age=300", started.url)).await;
        let next = sign_in_next(&app, &location);
        assert!(!next.contains("max_age"), "{next}");
        let claims = rp
            .sign_in_and_come_back(&app, &zoe, "zoe.evans", &next, started)
            .await;
        assert_eq!(claims["auth_time"].as_i64(), Some(app.state.now()));
    }
);

both_backends!(
    async fn expired_codes_and_tokens_are_forgotten_a_day_later(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[("refresh_token_hours", "1")]).await;
        rp.sign_in(&zoe, &[]).await;
        let count = |table: &'static str| {
            let pool = app.state.db.pool.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                n
            }
        };
        backend::oidc::grants::forget_expired(&app.state.db, app.state.now())
            .await
            .expect("housekeeping");
        assert_eq!(count("application_tokens").await, 2, "live tokens are kept");
        assert_eq!(count("authorization_codes").await, 1);
        app.clock.advance(3600 + 24 * 3600 + 1);
        backend::oidc::grants::forget_expired(&app.state.db, app.state.now())
            .await
            .expect("housekeeping");
        assert_eq!(count("application_tokens").await, 0);
        assert_eq!(count("authorization_codes").await, 0);
    }
);
