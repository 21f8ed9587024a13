//! API users and the REST API: making an API user and its tokens, requests
//! with a bearer token, and reading JSON answers and problems.

use super::accounts::fields_named;
use super::{TestApp, person_form, with};
use reqwest::{Response, StatusCode};
use serde_json::Value;

impl TestApp {
    /// Adds an API user (as the main client's administrator) holding the
    /// organisation's roles named `roles`, makes it a token called
    /// `token_name` and returns the API user's id and the token, read back
    /// from the page section that shows it once.
    pub async fn api_user_with_token(
        &self,
        first_name: &'static str,
        last_name: &'static str,
        email: &'static str,
        initials: &'static str,
        roles: &[&str],
        token_name: &str,
    ) -> (i64, String) {
        let form = with(
            &person_form(first_name, last_name, email, initials),
            "api_user",
            "on",
        );
        let id = self.add_person(&form).await;
        let mut access: Vec<(&str, String)> = vec![("id", id.to_string())];
        for role in roles {
            let (role_id,): (i64,) = sqlx::query_as(
                "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
                 WHERE u.id = $1 AND r.name = $2",
            )
            .bind(id)
            .bind(*role)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap_or_else(|e| panic!("role {role}: {e}"));
            access.push(("roles[]", role_id.to_string()));
        }
        let access: Vec<(&str, &str)> = access.iter().map(|(f, v)| (*f, v.as_str())).collect();
        let saved = self.call("save_user_access", &access).await;
        assert_eq!(saved.status(), StatusCode::OK, "roles given");
        let token = self.create_token(id, token_name, "").await;
        (id, token)
    }

    /// Makes a token for the API user `id` as the main client's
    /// administrator (`expires_on` as the form takes it) and returns it.
    pub async fn create_token(&self, id: i64, name: &str, expires_on: &str) -> String {
        self.create_token_as(&self.client, id, name, expires_on)
            .await
    }

    /// `create_token` as the administrator signed in on `client`.
    pub async fn create_token_as(
        &self,
        client: &reqwest::Client,
        id: i64,
        name: &str,
        expires_on: &str,
    ) -> String {
        let id = id.to_string();
        let created = self
            .call_as(
                client,
                "create_api_token",
                &[("id", &id), ("name", name), ("expires_on", expires_on)],
            )
            .await;
        assert_eq!(
            created.status(),
            StatusCode::OK,
            "{}",
            created.text().await.unwrap_or_default()
        );
        let section = self.call_as(client, "api_tokens", &[("id", &id)]).await;
        assert_eq!(section.status(), StatusCode::OK);
        let body: Value = section.json().await.expect("json");
        body["new_token"]
            .as_str()
            .expect("the new token, shown once")
            .to_owned()
    }

    /// A REST API request with `token` (none: `None`) to `base` (an instance's address).
    pub fn api_at(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().request(method, format!("{base}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A REST API request to this instance.
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        self.api_at(&self.address, method, path, token)
    }
}

/// The JSON body of a REST answer, after checking its status (the body is
/// printed when the status is not the one expected).
pub async fn api_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The problem (RFC 9457) a REST answer carries, after checking its status,
/// its content type and that the body's `status` says the same.
pub async fn api_problem(response: Response, status: StatusCode) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = api_json(response, status).await;
    assert_eq!(content_type, "application/problem+json", "{problem}");
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
    for member in ["type", "title", "detail"] {
        assert!(problem[member].is_string(), "{member} in {problem}");
    }
    problem
}

/// The fields a problem's `errors` name.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    fields_named(&problem["errors"])
}
