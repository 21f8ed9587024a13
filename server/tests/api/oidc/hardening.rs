//! What a careful review of the endpoints asked for: bad bytes answered as
//! errors, silent sign-ins answered as OAuth errors, the two-factor `acr`
//! honoured, replays that prove nothing, and the wire details relying
//! parties depend on.

use super::*;
use crate::both_backends;
use openidconnect::OAuth2TokenResponse;

both_backends!(
    async fn control_characters_are_clear_errors_never_500s(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        // In the client id: an unknown application.
        let location = rp
            .open(&zoe, &started.url.replace(&rp.client_id, "abc%00def"))
            .await;
        assert!(
            location.contains("reason=unknown_application"),
            "{location}"
        );
        // In another parameter: an error sent back to the application.
        let location = rp.open(&zoe, &format!("{}&nonce=a%00b", started.url)).await;
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(
            query_value(&location, "error").as_deref(),
            Some("invalid_request")
        );
        // At the token endpoint.
        let response = rp
            .http
            .post(format!("{}/oauth/token", app.address))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "a\0b"),
                ("client_id", rp.client_id.as_str()),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_request");
        let response = rp
            .http
            .post(format!("{}/oauth/token", app.address))
            .basic_auth("a\0b", Some("c"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn a_silent_sign_in_is_answered_with_an_oauth_error(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let office_staff = office_staff_of(&app, zoe_id).await;
        let rp = app
            .relying_party(&[("audience", "chosen"), ("role_ids[]", &office_staff)])
            .await;
        let started = rp.start(&[]);
        let location = rp.open(&zoe, &format!("{}&prompt=none", started.url)).await;
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(
            query_value(&location, "error").as_deref(),
            Some("access_denied")
        );
    }
);

both_backends!(
    async fn asking_for_the_two_factor_acr_requires_a_second_factor(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let url = format!(
            "{}&acr_values=urn%3Agatehouse%3Aacr%3Atwo-factor",
            started.url
        );
        let location = rp.open(&zoe, &url).await;
        assert!(
            location.contains("reason=two_factor_required"),
            "{location}"
        );
        // Siân signed in with her code: granted, and the acr says so.
        let code = rp.code_for(&app.client, &Started { url, ..started }).await;
        assert!(!code.is_empty());
    }
);

both_backends!(
    async fn a_used_code_replayed_without_its_verifier_ends_nothing(app: TestApp) {
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
        let (_, stranger) = openidconnect::PkceCodeChallenge::new_random_sha256();
        let refused = rp.exchange(&code, stranger).await.expect_err("no verifier");
        assert!(refused.contains("invalid_grant"), "{refused}");
        let (status, _) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::OK, "a stranger's replay ends nothing");
        rp.exchange(&code, openidconnect::PkceCodeVerifier::new(verifier))
            .await
            .expect_err("the holder's replay");
        let (status, _) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn the_wire_details_relying_parties_depend_on(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        // A public application may send an empty secret: it is no secret.
        let public = app
            .relying_party(&[("client_kind", "public"), ("name", "Phone app")])
            .await;
        let started = public.start(&[]);
        let code = public.code_for(&zoe, &started).await;
        let response = public
            .http
            .post(format!("{}/oauth/token", app.address))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", started.verifier.secret().as_str()),
                ("client_id", public.client_id.as_str()),
                ("client_secret", ""),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["pragma"], "no-cache");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.expect("json");
        let access = body["access_token"].as_str().expect("access token");
        // Authorization schemes are case-insensitive.
        let answer = public
            .http
            .get(format!("{}/oauth/userinfo", app.address))
            .header("authorization", format!("bearer {access}"))
            .send()
            .await
            .expect("userinfo");
        assert_eq!(answer.status(), StatusCode::OK);
        // Without credentials the challenge names no error.
        let answer = public
            .http
            .get(format!("{}/oauth/userinfo", app.address))
            .send()
            .await
            .expect("userinfo");
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(answer.headers()["www-authenticate"], "Bearer");
    }
);

both_backends!(
    async fn introspection_shows_another_applications_refresh_tokens_as_inactive(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let api = app.relying_party(&[("name", "Timetable API")]).await;
        let (tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let refresh = tokens.refresh_token().expect("refresh").secret().clone();
        let introspect = |rp: &RelyingParty| {
            let request = rp
                .http
                .post(format!("{}/oauth/introspect", app.address))
                .basic_auth(&rp.client_id, rp.secret.as_deref())
                .form(&[("token", refresh.as_str())]);
            async move {
                request
                    .send()
                    .await
                    .expect("introspect")
                    .json::<Value>()
                    .await
                    .expect("json")
            }
        };
        assert_eq!(
            introspect(&api).await,
            serde_json::json!({ "active": false })
        );
        assert_eq!(introspect(&wiki).await["active"], true, "its own");
    }
);
