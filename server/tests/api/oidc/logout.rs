//! Access ends everywhere at once: when a Gatehouse session ends, each
//! application it signed in to gets a back-channel logout token, delivered
//! through the database like mail, retried while the application is down.

use super::*;
use crate::both_backends;
use axum::extract::State;
use axum::http::StatusCode as Status;
use std::sync::{Arc, Mutex};

/// An application's back-channel logout endpoint: keeps the logout tokens it
/// is sent, and answers 503 to the first `failures` of them.
#[derive(Clone, Default)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<usize>>,
}

impl Receiver {
    /// Starts listening; returns the receiver and its address.
    async fn start(failures: usize) -> (Receiver, String) {
        let receiver = Receiver::default();
        *receiver.failures.lock().expect("lock") = failures;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!(
            "http://{}/backchannel-logout",
            listener.local_addr().expect("address")
        );
        let app = axum::Router::new()
            .route("/backchannel-logout", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, address)
    }

    fn tokens(&self) -> Vec<String> {
        self.tokens.lock().expect("lock").clone()
    }
}

async fn receive(State(receiver): State<Receiver>, body: String) -> Status {
    let mut failures = receiver.failures.lock().expect("lock");
    if *failures > 0 {
        *failures -= 1;
        return Status::SERVICE_UNAVAILABLE;
    }
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    receiver.tokens.lock().expect("lock").push(token);
    Status::OK
}

/// Siân set up, and Zoë signed in to an application whose back-channel
/// logout address is a [`Receiver`] (answering 503 to its first `failures`).
struct Signed {
    zoe_id: i64,
    zoe: reqwest::Client,
    receiver: Receiver,
    rp: RelyingParty,
    tokens: openidconnect::core::CoreTokenResponse,
    claims: Value,
}

async fn signed_in_with_receiver(
    app: &TestApp,
    failures: usize,
    changes: &[(&str, &str)],
) -> Signed {
    app.set_up_first_administrator().await;
    let (zoe_id, zoe) = zoe(app).await;
    let (receiver, address) = Receiver::start(failures).await;
    let mut changes = changes.to_vec();
    changes.push(("backchannel_logout_uri", &address));
    let rp = app.relying_party(&changes).await;
    let (tokens, claims) = rp.sign_in(&zoe, &[]).await;
    Signed {
        zoe_id,
        zoe,
        receiver,
        rp,
        tokens,
        claims,
    }
}

impl TestApp {
    /// One delivery pass, as the worker makes it every two seconds.
    async fn deliver_logouts(&self) -> backend::oidc::logout::LogoutReport {
        backend::oidc::logout::deliver_due(&self.state.db, &self.state.settings, self.state.now())
            .await
            .expect("delivery pass")
    }
}

/// Verifies a logout token against Gatehouse's published keys as an
/// application must (OpenID Connect Back-Channel Logout 1.0, 2.6) and
/// returns its claims.
async fn verified_logout_token(app: &TestApp, token: &str, client_id: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .client
        .get(format!("{}/oauth/jwks", app.address))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let jwk = jwks
        .find(header.kid.as_deref().expect("kid"))
        .expect("a published key");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("key");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[app.address.as_str()]);
    validation.validate_exp = false; // Gatehouse's clock is the tests' own.
    let claims: Value = jsonwebtoken::decode(token, &key, &validation)
        .expect("the logout token verifies")
        .claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert!((1..=120).contains(&lifetime), "short-lived: {lifetime}");
    claims
}

both_backends!(
    |s| s.allow_private_callbacks = true,
    async fn signing_out_of_gatehouse_sends_each_application_a_logout_token(app: TestApp) {
        let Signed {
            zoe_id,
            zoe,
            receiver,
            rp,
            claims,
            ..
        } = signed_in_with_receiver(&app, 0, &[]).await;
        assert!(app.deliver_logouts().await.sent == 0, "nothing to say yet");

        let signed_out = app.call_as(&zoe, "sign_out", &[]).await;
        assert!(signed_out.status().is_success());
        let report = app.deliver_logouts().await;
        assert_eq!(report.sent, 1);
        let tokens = receiver.tokens();
        assert_eq!(tokens.len(), 1);
        let logout = verified_logout_token(&app, &tokens[0], &rp.client_id).await;
        assert_eq!(logout["sub"], zoe_id.to_string());
        assert_eq!(logout["sid"], claims["sid"], "the sid the ID token gave");
        assert_eq!(app.deliver_logouts().await.sent, 0, "sent once");
    }
);

both_backends!(
    |s| s.allow_private_callbacks = true,
    async fn deactivation_sends_the_logout_token_and_refresh_is_refused(app: TestApp) {
        use openidconnect::OAuth2TokenResponse;
        let Signed {
            zoe_id,
            receiver,
            rp,
            tokens,
            ..
        } = signed_in_with_receiver(&app, 0, &[("id_token_algorithm", "EdDSA")]).await;
        app.deactivate(zoe_id).await;
        let refused = rp
            .refresh(tokens.refresh_token().expect("refresh").secret())
            .await
            .expect_err("deactivated");
        assert!(refused.contains("invalid_grant"), "{refused}");
        assert_eq!(app.deliver_logouts().await.sent, 1);
        let logout = verified_logout_token(&app, &receiver.tokens()[0], &rp.client_id).await;
        assert_eq!(logout["sub"], zoe_id.to_string());
    }
);

both_backends!(
    |s| s.allow_private_callbacks = true,
    async fn an_application_that_is_down_gets_its_notice_when_it_is_back(app: TestApp) {
        let Signed { zoe, receiver, .. } = signed_in_with_receiver(&app, 2, &[]).await;
        app.call_as(&zoe, "sign_out", &[]).await;

        let first = app.deliver_logouts().await;
        assert_eq!((first.sent, first.failed), (0, 1));
        assert_eq!(
            app.deliver_logouts().await.failed,
            0,
            "not retried before its time"
        );
        app.clock.advance(30);
        assert_eq!(
            app.deliver_logouts().await.failed,
            1,
            "second attempt after 30 s"
        );
        app.clock.advance(60);
        assert_eq!(
            app.deliver_logouts().await.sent,
            1,
            "third attempt after 60 s more"
        );
        assert_eq!(receiver.tokens().len(), 1);
        let (attempts, error): (i64, Option<String>) =
            sqlx::query_as("SELECT attempts, last_error FROM logout_outbox")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("notice");
        assert_eq!(attempts, 2);
        assert!(error.is_some_and(|e| e.contains("503")));
    }
);

both_backends!(
    |s| s.allow_private_callbacks = true,
    async fn a_session_that_times_out_logs_its_applications_out_too(app: TestApp) {
        let Signed { zoe, receiver, .. } = signed_in_with_receiver(&app, 0, &[]).await;
        app.clock.advance(29 * 60);
        assert_eq!(
            app.deliver_logouts().await.sent,
            0,
            "still within the idle timeout"
        );
        app.clock.advance(2 * 60);
        assert_eq!(
            app.deliver_logouts().await.sent,
            1,
            "idle: ended, and the application told"
        );
        assert_eq!(receiver.tokens().len(), 1);
        assert!(app.whoami_as(&zoe).await.is_none());
    }
);

both_backends!(
    async fn notices_never_go_to_this_machine_or_a_private_network_by_default(app: TestApp) {
        let Signed { zoe, receiver, .. } = signed_in_with_receiver(&app, 0, &[]).await;
        app.call_as(&zoe, "sign_out", &[]).await;
        let report = app.deliver_logouts().await;
        assert_eq!((report.sent, report.failed), (0, 1));
        assert!(receiver.tokens().is_empty(), "nothing reached 127.0.0.1");
        let (error,): (Option<String>,) = sqlx::query_as("SELECT last_error FROM logout_outbox")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("notice");
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("allow_private_callbacks")),
            "{error:?}"
        );
    }
);
