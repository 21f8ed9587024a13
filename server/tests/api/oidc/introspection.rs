//! Token introspection for an organisation's confidential applications
//! (an API checking the tokens it is sent), and the endpoints that
//! single-page applications call from their own origin.

use super::*;
use crate::both_backends;
use openidconnect::OAuth2TokenResponse;

async fn introspect(app: &TestApp, rp: &RelyingParty, token: &str) -> (StatusCode, Value) {
    let response = rp
        .http
        .post(format!("{}/oauth/introspect", app.address))
        .basic_auth(&rp.client_id, rp.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

both_backends!(
    async fn an_api_of_the_organisation_learns_whether_a_token_works(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let api = app.relying_party(&[("name", "Timetable API")]).await;
        let (tokens, _) = wiki.sign_in(&zoe, &["profile"]).await;
        let (status, answer) = introspect(&app, &api, tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["active"], true);
        assert_eq!(answer["sub"], zoe_id.to_string());
        assert_eq!(answer["client_id"], wiki.client_id.as_str());
        assert_eq!(answer["username"], "zoe.evans");
        assert_eq!(answer["scope"], "openid profile");

        app.deactivate(zoe_id).await;
        let (_, answer) = introspect(&app, &api, tokens.access_token().secret()).await;
        assert_eq!(answer, serde_json::json!({ "active": false }));
        let (_, answer) = introspect(&app, &api, "gaa_unknown").await;
        assert_eq!(answer, serde_json::json!({ "active": false }));
    }
);

both_backends!(
    async fn another_organisation_or_a_public_application_learns_nothing(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let (tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let token = tokens.access_token().secret().clone();

        let public = app
            .relying_party(&[("name", "Phone app"), ("client_kind", "public")])
            .await;
        let response = public
            .http
            .post(format!("{}/oauth/introspect", app.address))
            .form(&[
                ("token", token.as_str()),
                ("client_id", public.client_id.as_str()),
            ])
            .send()
            .await
            .expect("introspect");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

        let (tomasz, _) = app.second_organisation().await;
        let registered = app
            .call_as(
                &tomasz,
                "register_application",
                &application_form(&[("name", "Hillside API")]),
            )
            .await;
        assert_eq!(registered.status(), StatusCode::OK);
        let list: Value = app
            .call_as(&tomasz, "applications", &[])
            .await
            .json()
            .await
            .expect("json");
        let id = list[0]["id"].as_i64().expect("id");
        let detail: Value = app
            .call_as(&tomasz, "application", &[("id", &id.to_string())])
            .await
            .json()
            .await
            .expect("json");
        let hillside = app
            .relying_party_for(
                id,
                list[0]["client_id"].as_str().expect("client id"),
                detail["new_secret"].as_str().map(str::to_owned),
            )
            .await;
        let (status, answer) = introspect(&app, &hillside, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, serde_json::json!({ "active": false }));
    }
);

both_backends!(
    async fn single_page_applications_may_call_the_token_endpoints_from_their_origin(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/oauth/token", app.address),
            )
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("preflight");
        assert!(response.status().is_success());
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        // A cross-site POST without cookies is not refused as a forgery.
        let response = app
            .client
            .post(format!("{}/oauth/token", app.address))
            .header("origin", "https://spa.example")
            .header("sec-fetch-site", "cross-site")
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "gar_x"),
                ("client_id", "nobody"),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_client");
        // The authorization endpoint, which reads the session cookie, sends no CORS headers.
        let response = app
            .client
            .get(format!("{}/oauth/authorize", app.address))
            .header("origin", "https://spa.example")
            .send()
            .await
            .expect("authorize");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
);
