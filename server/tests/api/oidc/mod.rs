//! Gatehouse as an OpenID Connect provider, tested with the `openidconnect`
//! crate as a real relying party: it discovers the provider, builds the
//! authorization request (code flow, PKCE S256, state, nonce), exchanges
//! the code and verifies the ID token against the published keys. The
//! person's browser is a reqwest client with its own cookies that does not
//! follow redirects, so each step's answer is looked at.

mod applications;
mod flows;
mod hardening;
mod introspection;
mod keys;
mod logout;
mod refusals;
mod signing_out;

use crate::helpers::*;
use backend::Clock;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreTokenResponse};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope,
};
use reqwest::StatusCode;
use serde_json::Value;

/// Where the test applications say they live (nothing listens there: the
/// tests read the redirect instead of following it).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A registered application and the relying party that acts for it.
pub struct RelyingParty {
    pub client: Client,
    pub http: reqwest::Client,
    pub id: i64,
    pub client_id: String,
    pub secret: Option<String>,
    clock: backend::ManualClock,
}

/// An authorization request on its way: what the relying party keeps.
pub struct Started {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

/// The registration form's fields with `changes` applied.
pub fn application_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", "Staff wiki"),
        ("client_kind", "confidential"),
        ("redirect_uris", REDIRECT_URI),
        ("post_logout_redirect_uris", ""),
        ("backchannel_logout_uri", ""),
        ("audience", "everyone"),
        ("id_token_algorithm", "RS256"),
        ("access_token_minutes", "10"),
        ("refresh_token_hours", "720"),
    ];
    for (field, value) in changes {
        form.retain(|(f, _)| f != field || field.ends_with("[]"));
        form.push((field, value));
    }
    form
}

impl TestApp {
    /// Registers an application as Siân (who holds every permission) and
    /// returns its id, client id and secret (shown once).
    pub async fn register_application(
        &self,
        changes: &[(&str, &str)],
    ) -> (i64, String, Option<String>) {
        let form = application_form(changes);
        let name = form
            .iter()
            .rev()
            .find(|(f, _)| *f == "name")
            .map(|(_, v)| v.to_string())
            .expect("name");
        let response = self.call("register_application", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let list: Value = self
            .call("applications", &[])
            .await
            .json()
            .await
            .expect("json");
        let line = list
            .as_array()
            .expect("list")
            .iter()
            .find(|a| a["name"] == name.as_str())
            .expect("the application is listed")
            .clone();
        let id = line["id"].as_i64().expect("id");
        let detail: Value = self
            .call("application", &[("id", &id.to_string())])
            .await
            .json()
            .await
            .expect("json");
        (
            id,
            line["client_id"].as_str().expect("client id").to_owned(),
            detail["new_secret"].as_str().map(str::to_owned),
        )
    }

    /// Registers an application and discovers Gatehouse as its relying party.
    pub async fn relying_party(&self, changes: &[(&str, &str)]) -> RelyingParty {
        let (id, client_id, secret) = self.register_application(changes).await;
        self.relying_party_for(id, &client_id, secret).await
    }

    pub async fn relying_party_for(
        &self,
        id: i64,
        client_id: &str,
        secret: Option<String>,
    ) -> RelyingParty {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        let issuer = IssuerUrl::new(self.address.clone()).expect("issuer");
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_owned()),
            secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect"));
        RelyingParty {
            client,
            http,
            id,
            client_id: client_id.to_owned(),
            secret,
            clock: self.clock.clone(),
        }
    }
}

/// Where the sign-in page Gatehouse sent the browser to (`location`) will
/// send it back: the authorization request again, without what asked for
/// the sign-in.
pub fn sign_in_next(app: &TestApp, location: &str) -> String {
    assert!(location.starts_with("/sign-in?next="), "{location}");
    let next = query_value(&format!("{}{location}", app.address), "next").expect("next");
    assert!(next.starts_with("/oauth/authorize?"), "{next}");
    next
}

/// The value of `name` in the query of `url`.
pub fn query_value(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl RelyingParty {
    /// A fresh authorization request for `scopes` (besides `openid`).
    pub fn start(&self, scopes: &[&str]) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        let (url, state, nonce) = request.url();
        Started {
            url: url.to_string(),
            state,
            nonce,
            verifier,
        }
    }

    /// Opens the authorization request in `browser`; returns where Gatehouse
    /// sends it.
    pub async fn open(&self, browser: &reqwest::Client, url: &str) -> String {
        let response = browser.get(url).send().await.expect("authorize");
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "authorize answers with a redirect"
        );
        response
            .headers()
            .get("location")
            .expect("location")
            .to_str()
            .expect("text")
            .to_owned()
    }

    /// The code Gatehouse sends back to the application, after checking
    /// that it came with the request's state and Gatehouse as issuer.
    pub async fn code_for(&self, browser: &reqwest::Client, started: &Started) -> String {
        let location = self.open(browser, &started.url).await;
        assert!(
            location.starts_with(REDIRECT_URI),
            "sent back to the application: {location}"
        );
        assert_eq!(
            query_value(&location, "state").as_deref(),
            Some(started.state.secret().as_str())
        );
        assert!(query_value(&location, "iss").is_some(), "RFC 9207 iss");
        query_value(&location, "code").unwrap_or_else(|| panic!("a code: {location}"))
    }

    /// Exchanges a code as the application does.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> Result<CoreTokenResponse, String> {
        self.client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint")
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| error_text(&e))
    }

    /// The whole sign-in in `browser`: request, code, exchange, and the ID
    /// token verified (signature against the JWKS, issuer, audience, expiry
    /// at Gatehouse's time, nonce). Returns the tokens and the ID token's claims.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        scopes: &[&str],
    ) -> (CoreTokenResponse, Value) {
        let started = self.start(scopes);
        let code = self.code_for(browser, &started).await;
        let tokens = self
            .exchange(&code, started.verifier)
            .await
            .expect("the code is exchanged");
        let claims = self.verified_claims(&tokens, &started.nonce);
        (tokens, claims)
    }

    /// Signs `login` in on `browser` from the sign-in page with `next`, as
    /// the person would, then follows `next` back: the code is exchanged and
    /// the ID token verified; returns its claims.
    pub async fn sign_in_and_come_back(
        &self,
        app: &TestApp,
        browser: &reqwest::Client,
        login: &str,
        next: &str,
        started: Started,
    ) -> Value {
        let signed_in = app
            .call_as(
                browser,
                "sign_in",
                &[("login", login), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        // The browser goes on through Gatehouse's continue page: a redirect
        // from the form post may not leave the origin.
        let continued = format!(
            "/applications/continue?to={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        assert_eq!(
            signed_in
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok()),
            Some(continued.as_str())
        );
        let back = Started {
            url: format!("{}{next}", app.address),
            ..started
        };
        let code = self.code_for(browser, &back).await;
        let tokens = self
            .exchange(&code, back.verifier)
            .await
            .expect("exchanged");
        self.verified_claims(&tokens, &back.nonce)
    }

    /// The ID token's claims, once `openidconnect` has verified it.
    pub fn verified_claims(&self, tokens: &CoreTokenResponse, nonce: &Nonce) -> Value {
        use openidconnect::TokenResponse;
        let clock = self.clock.clone();
        let verifier = self
            .client
            .id_token_verifier()
            .set_time_fn(move || chrono::DateTime::from_timestamp(clock.now(), 0).expect("time"));
        let id_token = tokens.id_token().expect("an ID token");
        id_token
            .claims(&verifier, nonce)
            .expect("the ID token verifies");
        // Verified: its payload (which has Gatehouse's own claims too) can be read.
        let payload = id_token
            .to_string()
            .split('.')
            .nth(1)
            .expect("payload")
            .to_owned();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .expect("base64");
        serde_json::from_slice(&bytes).expect("claims")
    }

    /// UserInfo's answer to `access_token`: its status and body.
    pub async fn userinfo(&self, access_token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/oauth/userinfo", issuer_of(&self.client)))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A refresh grant as the application makes it.
    pub async fn refresh(&self, refresh_token: &str) -> Result<CoreTokenResponse, String> {
        let token = openidconnect::RefreshToken::new(refresh_token.to_owned());
        self.client
            .exchange_refresh_token(&token)
            .expect("token endpoint")
            .request_async(&self.http)
            .await
            .map_err(|e| error_text(&e))
    }
}

fn issuer_of(client: &Client) -> String {
    client.auth_uri().url().origin().ascii_serialization()
}

/// An error and its causes, as one line (the OAuth error code shows).
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// A person of Riverside College, activated and signed in (no roles, no
/// two-factor authentication): Zoë Evans.
pub async fn zoe(app: &TestApp) -> (i64, reqwest::Client) {
    app.add_and_activate(&person_form(
        "Zoë",
        "Evans",
        "zoe.evans@riverside.example",
        "ZE",
    ))
    .await
}

/// The id of the *Office staff* role (a starter role) of `user_id`'s organisation.
pub async fn office_staff_of(app: &TestApp, user_id: i64) -> String {
    let (id,): (i64,) = sqlx::query_as(
        "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
         WHERE u.id = $1 AND r.name = 'Office staff'",
    )
    .bind(user_id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("role");
    id.to_string()
}
