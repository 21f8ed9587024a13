//! Two-factor authentication: administrators must use it, so every sign-in of
//! Siân (and of any administrator) goes through the code step or enrolment.

use super::TestApp;
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Where a server function's answer sends the browser.
pub fn location(response: &Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The 6-digit code an authenticator app with `secret` shows at `time`.
pub fn totp_code(secret: &[u8], time: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .build()
        .expect("a valid secret")
        .generate(u64::try_from(time).expect("a time after 1970"))
        .to_string()
}

/// The secret bytes of a key as the enrolment page writes it (`ABCD EFGH …`).
pub fn secret_from_key(key: &str) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(key.replace(' ', ""))
        .expect("a base32 key")
        .as_bytes()
        .to_vec()
}

impl TestApp {
    /// Completes the step a response sends the browser to, if it is the
    /// code step or enrolment; otherwise returns the response as it is.
    pub(super) async fn complete_second_factor(
        &self,
        client: &reqwest::Client,
        response: Response,
    ) -> Response {
        if response.status() != StatusCode::OK {
            return response;
        }
        match location(&response).as_deref() {
            Some(path) if path.starts_with("/sign-in/code") => {
                let user_id = self.session_user(&response).await;
                self.forget_used_step(user_id).await;
                let code = self.current_code(user_id).await;
                self.call_raw_as(client, "sign_in_code", &[("code", &code)])
                    .await
            }
            Some("/two-factor/enrol") => self.enrol_as(client).await.1,
            _ => response,
        }
    }

    /// Enrols the person signed in on `client`: reads the key from the
    /// enrolment page's data, confirms with its current code. Returns the
    /// secret and the confirming response.
    pub async fn enrol_as(&self, client: &reqwest::Client) -> (Vec<u8>, Response) {
        let enrolment = self.call_raw_as(client, "two_factor_enrolment", &[]).await;
        assert_eq!(enrolment.status(), StatusCode::OK, "enrolment page data");
        let body: Value = enrolment.json().await.expect("json");
        let secret = secret_from_key(body["key"].as_str().expect("key"));
        let code = totp_code(&secret, self.state.now());
        let confirmed = self
            .call_raw_as(client, "confirm_two_factor", &[("code", &code)])
            .await;
        assert_eq!(
            location(&confirmed).as_deref(),
            Some("/two-factor/recovery-codes"),
            "enrolment confirmed"
        );
        (secret, confirmed)
    }

    /// The code a person's authenticator app shows now.
    pub async fn current_code(&self, user_id: i64) -> String {
        let secret = backend::auth::two_factor::enrolled_secret(
            &self.state.db.pool,
            &self.state.settings,
            user_id,
        )
        .await
        .expect("secret")
        .expect("enrolled");
        totp_code(&secret, self.state.now())
    }

    /// Tests sign in many times within one 30-second step, which no person
    /// does; a code works only once, so the stand-in authenticator forgets
    /// which step was used last instead of waiting for the next one.
    async fn forget_used_step(&self, user_id: i64) {
        sqlx::query("UPDATE two_factor SET last_step = NULL WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.state.db.pool)
            .await
            .expect("forget the used step");
    }

    /// Whose session the cookie a response set belongs to.
    async fn session_user(&self, response: &Response) -> i64 {
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("gatehouse_session="))
            .expect("a session cookie");
        let token = cookie
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, token)| token)
            .expect("name=value");
        let (user_id,): (i64,) =
            sqlx::query_as("SELECT user_id FROM sessions WHERE token_hash = $1")
                .bind(backend::crypto::tokens::hash(token))
                .fetch_one(&self.state.db.pool)
                .await
                .expect("session");
        user_id
    }
}
