//! API users and the REST API: making an API user and its tokens, requests
//! with a bearer token, and reading answers and problems, as raw JSON (for
//! tests of the wire format) or through `Rest`, a typed client that reads
//! them into the API's own types (`backend::rest`).

use super::{TestApp, person_form, with};
use backend::rest::problem::Problem;
use backend::rest::users::{EmailQueued, Named, User, UserList};
use backend::rest::{Caller, Profile, Role};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

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

    /// Rhodri Evans, an API user holding Office staff, and his token
    /// "directory sync".
    pub async fn office_staff_api_token(&self) -> String {
        let (_, token) = self
            .api_user_with_token(
                "Rhodri",
                "Evans",
                "rhodri.evans@riverside.example",
                "RE",
                &["Office staff"],
                "directory sync",
            )
            .await;
        token
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

    /// A raw REST API request to this instance with `token` (none: `None`),
    /// for tests of the wire itself; `rest` gives the typed client.
    pub fn api(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = reqwest::Client::new().request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
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

/// The problem a REST answer carries, checked as `api_problem` checks it and
/// read as the API's own `Problem`.
pub async fn typed_problem(response: Response, status: StatusCode) -> Problem {
    let mut body = api_problem(response, status).await;
    // `errors` is left out of the body when there are none.
    if let Some(members) = body.as_object_mut() {
        members.entry("errors").or_insert_with(|| json!([]));
    }
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("not a problem as the API describes it ({e}): {body}"))
}

/// The fields a problem's `errors` name.
pub fn problem_fields(problem: &Problem) -> Vec<String> {
    problem.errors.iter().map(|e| e.field.clone()).collect()
}

/// The names of a list of roles or profiles, in its order.
pub fn names(list: &[Named]) -> Vec<String> {
    list.iter().map(|n| n.name.clone()).collect()
}

/// What a typed REST call answers: the body as the API's type, or the problem.
pub type Answer<T> = Result<T, Problem>;

/// A REST answer read as `T` when its status is `success`; otherwise the
/// problem it carries (an error status is required).
pub async fn typed_answer<T: DeserializeOwned>(
    response: Response,
    success: StatusCode,
) -> Answer<T> {
    let status = response.status();
    if status == success {
        let body = api_json(response, success).await;
        return Ok(serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("not the documented answer ({e}): {body}")));
    }
    if !(status.is_client_error() || status.is_server_error()) {
        let text = response.text().await.unwrap_or_default();
        panic!("expected {success} or a problem, got {status}: {text}");
    }
    Err(typed_problem(response, status).await)
}

/// The problem of a refused call, after checking that it was refused with `status`.
pub fn problem_of<T: std::fmt::Debug>(answer: Answer<T>, status: StatusCode) -> Problem {
    let problem = answer.expect_err("a problem");
    assert_eq!(problem.status, status.as_u16(), "{problem:?}");
    problem
}

/// A program using the REST API with one token: each endpoint a method that
/// answers with the API's own types, or with its `Problem`.
#[derive(Debug, Clone)]
pub struct Rest {
    /// The instance's address, e.g. `http://127.0.0.1:4321`.
    pub base: String,
    pub token: String,
}

impl TestApp {
    /// A typed REST client with `token`, on this instance.
    pub fn rest(&self, token: &str) -> Rest {
        Rest {
            base: self.address.clone(),
            token: token.to_owned(),
        }
    }
}

impl Rest {
    /// A request with the token, for what the typed methods do not cover.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        success: StatusCode,
    ) -> Answer<T> {
        typed_answer(request.send().await.expect("request"), success).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Answer<T> {
        self.answer(self.request(Method::GET, path), StatusCode::OK)
            .await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str) -> Answer<T> {
        self.answer(self.request(Method::POST, path), StatusCode::OK)
            .await
    }

    /// `GET /api/v1/whoami`: the calling API user, its token and permissions.
    pub async fn whoami(&self) -> Answer<Caller> {
        self.get("/api/v1/whoami").await
    }

    /// `GET /api/v1/users?{query}` (`query` as it goes in the address, `""` for none).
    pub async fn list_users(&self, query: &str) -> Answer<UserList> {
        if query.is_empty() {
            self.get("/api/v1/users").await
        } else {
            self.get(&format!("/api/v1/users?{query}")).await
        }
    }

    /// `GET /api/v1/users/{id}`.
    pub async fn get_user(&self, id: i64) -> Answer<User> {
        self.get(&format!("/api/v1/users/{id}")).await
    }

    /// `POST /api/v1/users`; a new account answers `201 Created`.
    pub async fn create_user(&self, body: &Value) -> Answer<User> {
        let request = self.request(Method::POST, "/api/v1/users").json(body);
        self.answer(request, StatusCode::CREATED).await
    }

    /// `PATCH /api/v1/users/{id}` with the details to change.
    pub async fn update_user(&self, id: i64, body: &Value) -> Answer<User> {
        let request = self
            .request(Method::PATCH, &format!("/api/v1/users/{id}"))
            .json(body);
        self.answer(request, StatusCode::OK).await
    }

    /// `POST /api/v1/users/{id}/deactivate`.
    pub async fn deactivate(&self, id: i64) -> Answer<User> {
        self.post(&format!("/api/v1/users/{id}/deactivate")).await
    }

    /// `POST /api/v1/users/{id}/reactivate`.
    pub async fn reactivate(&self, id: i64) -> Answer<User> {
        self.post(&format!("/api/v1/users/{id}/reactivate")).await
    }

    /// `POST /api/v1/users/{id}/emails` with `kind` (`welcome`,
    /// `set_password`); a queued email answers `202 Accepted`.
    pub async fn send_email(&self, id: i64, kind: &str) -> Answer<EmailQueued> {
        let request = self
            .request(Method::POST, &format!("/api/v1/users/{id}/emails"))
            .json(&json!({ "kind": kind }));
        self.answer(request, StatusCode::ACCEPTED).await
    }

    /// `GET /api/v1/roles`.
    pub async fn roles(&self) -> Answer<Vec<Role>> {
        self.get("/api/v1/roles").await
    }

    /// `GET /api/v1/profiles`.
    pub async fn profiles(&self) -> Answer<Vec<Profile>> {
        self.get("/api/v1/profiles").await
    }

    /// `PUT /api/v1/users/{user}/roles/{role}`.
    pub async fn give_role(&self, user: i64, role: i64) -> Answer<User> {
        self.access(Method::PUT, user, "roles", role).await
    }

    /// `DELETE /api/v1/users/{user}/roles/{role}`.
    pub async fn take_role(&self, user: i64, role: i64) -> Answer<User> {
        self.access(Method::DELETE, user, "roles", role).await
    }

    /// `PUT /api/v1/users/{user}/profiles/{profile}`.
    pub async fn give_profile(&self, user: i64, profile: i64) -> Answer<User> {
        self.access(Method::PUT, user, "profiles", profile).await
    }

    /// `DELETE /api/v1/users/{user}/profiles/{profile}`.
    pub async fn take_profile(&self, user: i64, profile: i64) -> Answer<User> {
        self.access(Method::DELETE, user, "profiles", profile).await
    }

    async fn access(&self, method: Method, user: i64, what: &str, id: i64) -> Answer<User> {
        let path = format!("/api/v1/users/{user}/{what}/{id}");
        self.answer(self.request(method, &path), StatusCode::OK)
            .await
    }
}
