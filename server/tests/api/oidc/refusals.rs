//! What the authorization endpoint refuses, and how: Gatehouse's own page
//! where the application cannot be trusted with an answer, an OAuth error
//! sent back where it can.

use super::*;
use crate::both_backends;

/// Where a refusal page sends the browser: its reason.
fn refusal_reason(location: &str) -> Option<String> {
    location
        .starts_with("/applications/refused?")
        .then(|| query_value(&format!("http://gatehouse{location}"), "reason"))
        .flatten()
}

both_backends!(
    async fn an_unregistered_redirect_address_is_never_redirected_to(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        for evil in [
            "https://evil.example/callback",
            "http://127.0.0.1:9/callback/../other",
            "http://127.0.0.1:9/callback?x=1",
            "http://127.0.0.1:9/CALLBACK",
        ] {
            let url = started.url.replace(
                &format!("redirect_uri={}", url_encoded(REDIRECT_URI)),
                &format!("redirect_uri={}", url_encoded(evil)),
            );
            assert_ne!(url, started.url);
            let location = rp.open(&zoe, &url).await;
            assert_eq!(
                refusal_reason(&location).as_deref(),
                Some("unregistered_redirect"),
                "{evil}: {location}"
            );
        }
        // And an unknown application, likewise.
        let url = started
            .url
            .replace(&rp.client_id, "0123456789abcdef0123456789abcdef");
        let location = rp.open(&zoe, &url).await;
        assert_eq!(
            refusal_reason(&location).as_deref(),
            Some("unknown_application")
        );
    }
);

fn url_encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

both_backends!(
    async fn a_request_without_pkce_s256_goes_back_with_an_error(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let started = rp.start(&[]);
        let without_pkce: String = {
            let mut url = url::Url::parse(&started.url).expect("url");
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| !k.starts_with("code_challenge"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            url.to_string()
        };
        let plain = started
            .url
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        for url in [without_pkce, plain] {
            let location = rp.open(&zoe, &url).await;
            assert!(location.starts_with(REDIRECT_URI), "{location}");
            assert_eq!(
                query_value(&location, "error").as_deref(),
                Some("invalid_request")
            );
            assert!(query_value(&location, "code").is_none());
        }
        let without_openid = started.url.replace("scope=openid", "scope=profile");
        let location = rp.open(&zoe, &without_openid).await;
        assert_eq!(
            query_value(&location, "error").as_deref(),
            Some("invalid_scope")
        );
    }
);

both_backends!(
    async fn a_person_outside_the_chosen_roles_is_told_so(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let office_staff = office_staff_of(&app, zoe_id).await;
        let rp = app
            .relying_party(&[("audience", "chosen"), ("role_ids[]", &office_staff)])
            .await;
        let started = rp.start(&[]);
        let location = rp.open(&zoe, &started.url).await;
        assert_eq!(
            refusal_reason(&location).as_deref(),
            Some("not_for_you"),
            "{location}"
        );
        assert!(
            location.contains(&format!("client_id={}", rp.client_id)),
            "{location}"
        );
        // The page names the application from Gatehouse's records, not the address.
        let name = app
            .call_raw_as(&zoe, "refused_application", &[("client_id", &rp.client_id)])
            .await;
        assert_eq!(name.json::<Value>().await.expect("json"), "Staff wiki");

        // Given the role, she may; and the roles claim names it.
        let given = app
            .call(
                "save_user_access",
                &[("id", &zoe_id.to_string()), ("roles[]", &office_staff)],
            )
            .await;
        assert_eq!(given.status(), StatusCode::OK);
        let (_, claims) = rp.sign_in(&zoe, &["roles"]).await;
        assert_eq!(claims["roles"], serde_json::json!(["Office staff"]));

        // Taken away again, her refresh token stops working too.
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let taken = app
            .call("save_user_access", &[("id", &zoe_id.to_string())])
            .await;
        assert_eq!(taken.status(), StatusCode::OK);
        use openidconnect::OAuth2TokenResponse;
        let refresh = tokens.refresh_token().expect("refresh").secret().clone();
        let refused = rp.refresh(&refresh).await.expect_err("no longer allowed");
        assert!(refused.contains("invalid_grant"), "{refused}");
    }
);

both_backends!(
    async fn an_application_that_requires_two_factor_authentication(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[("requires_two_factor", "on")]).await;
        // Zoë has not set it up: Gatehouse says what to do.
        let started = rp.start(&[]);
        let location = rp.open(&zoe, &started.url).await;
        assert_eq!(
            refusal_reason(&location).as_deref(),
            Some("two_factor_required"),
            "{location}"
        );
        // Siân has, and signed in with her code: she goes through, and the
        // ID token says a second factor was used.
        let (_, claims) = rp.sign_in(&app.client, &[]).await;
        assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
        assert_eq!(claims["acr"], "urn:gatehouse:acr:two-factor");
    }
);

both_backends!(
    async fn a_disabled_application_signs_nobody_in(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let disabled = app
            .call(
                "set_application_disabled",
                &[("id", &rp.id.to_string()), ("disabled", "true")],
            )
            .await;
        assert_eq!(disabled.status(), StatusCode::OK);
        let started = rp.start(&[]);
        let location = rp.open(&zoe, &started.url).await;
        assert_eq!(refusal_reason(&location).as_deref(), Some("disabled"));
        use openidconnect::OAuth2TokenResponse;
        let (status, _) = rp.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let refused = rp
            .refresh(tokens.refresh_token().expect("refresh").secret())
            .await
            .expect_err("disabled");
        assert!(refused.contains("invalid_client"), "{refused}");
    }
);
