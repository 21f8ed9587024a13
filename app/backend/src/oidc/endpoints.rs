//! The OpenID Connect endpoints over HTTP. One issuer for the whole
//! deployment, its public URL; the application's organisation travels in
//! the tokens.

use super::authorize::{self, Decision, has_control};
use super::grants::{self, ClientCredentials, OAuthError, TokenRequest};
use super::{ACR_PASSWORD, ACR_TWO_FACTOR, SCOPES, keys, paths};
use crate::auth::sessions::{ClientInfo, SignedIn};
use crate::config::CheckedSettings;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Extension, RawQuery, State};
use axum::http::Method;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::AppError;
use percent_encoding::percent_decode_str;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};
use url::form_urlencoded;

/// The issuer: the public URL's origin, as `iss` carries it.
pub fn issuer(settings: &CheckedSettings) -> String {
    settings.public_origin()
}

pub fn router() -> Router<AppState> {
    // Called by applications' servers and by single-page applications'
    // scripts on other origins: answers any origin, reads no cookie.
    let for_applications = Router::new()
        .route(paths::DISCOVERY, get(discovery))
        .route(paths::JWKS, get(jwks))
        .route(paths::TOKEN, post(token))
        .route(paths::USERINFO, get(userinfo).post(userinfo))
        .route(paths::REVOKE, post(revoke))
        .route(paths::INTROSPECT, post(introspect))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    // Opened in the person's browser, with their Gatehouse session.
    Router::new()
        .route(paths::AUTHORIZE, get(authorize))
        .route(paths::END_SESSION, get(end_session))
        .merge(for_applications)
}

/// Whether a request is for an endpoint applications call from their own
/// servers or scripts, with no cookie: refusing cross-site requests does not
/// apply to them, and browsers may read their answers from any origin.
pub fn is_cookieless_endpoint(path: &str) -> bool {
    matches!(
        path,
        paths::TOKEN
            | paths::USERINFO
            | paths::JWKS
            | paths::DISCOVERY
            | paths::REVOKE
            | paths::INTROSPECT
    )
}

async fn discovery(State(state): State<AppState>) -> Response {
    let link = |path: &str| state.settings.link(path);
    let document = json!({
        "issuer": issuer(&state.settings),
        "authorization_endpoint": link(paths::AUTHORIZE),
        "token_endpoint": link(paths::TOKEN),
        "userinfo_endpoint": link(paths::USERINFO),
        "jwks_uri": link(paths::JWKS),
        "revocation_endpoint": link(paths::REVOKE),
        "introspection_endpoint": link(paths::INTROSPECT),
        "end_session_endpoint": link(paths::END_SESSION),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "acr_values_supported": [ACR_PASSWORD, ACR_TWO_FACTOR],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
            "name", "given_name", "family_name", "preferred_username", "updated_at",
            "email", "email_verified", "organisation_id", "organisation_name", "roles"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    axum::Json(document).into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    let now = state.now();
    // The first request after a fresh start makes the keys if needed.
    let published = async {
        keys::ensure(&state.db, &state.settings, now).await?;
        keys::published(&state.db, now).await
    };
    match published.await {
        Ok(set) => axum::Json(set).into_response(),
        Err(error) => failure(error),
    }
}

async fn authorize(
    State(state): State<AppState>,
    Extension(signed_in): Extension<Option<SignedIn>>,
    RawQuery(query): RawQuery,
) -> Response {
    let decision = authorize::decide(
        &state,
        signed_in.as_ref(),
        query.as_deref().unwrap_or_default(),
    )
    .await;
    match decision {
        Ok(Decision::Redirect(to)) => found(&to),
        Ok(Decision::SignIn { next }) => {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            found(&format!("/sign-in?next={next}"))
        }
        Ok(Decision::Refuse { refusal, client_id }) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("reason", refusal.as_str());
            if let Some(client_id) = &client_id {
                query.append_pair("client_id", client_id);
            }
            found(&format!("{}?{}", paths::REFUSED, query.finish()))
        }
        Err(error) => failure(error),
    }
}

/// 302 Found, as OAuth's redirects are.
fn found(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => Redirect::to("/").into_response(),
    }
}

/// An error that is nobody's fault but Gatehouse's, or a busy moment.
fn failure(error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.to_string()).into_response()
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (status, axum::Json(body)).into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"gatehouse\""),
            );
        }
        response
    }
}

/// `Authorization: Basic` as RFC 6749 2.3.1 has it: the client id and
/// secret each form-encoded, then joined by a colon.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let decoded = value
        .to_str()
        .ok()
        .and_then(|v| crate::web::credentials(v, "Basic"))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let pair = decoded.as_deref().and_then(|text| text.split_once(':'));
    let decode = |part: &str| {
        percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    match pair.and_then(|(id, secret)| Some((decode(id)?, decode(secret)?))) {
        Some(credentials) if has_control(&credentials.0) || has_control(&credentials.1) => {
            Err(OAuthError::invalid_client(true))
        }
        Some(credentials) => Ok(Some(credentials)),
        None => Err(OAuthError::invalid_client(true)),
    }
}

/// A form posted to the token, revocation or introspection endpoint, with
/// the client's credentials. A parameter given twice is refused (RFC 6749 3.2).
fn token_form(
    headers: &HeaderMap,
    body: &str,
) -> Result<(ClientCredentials, TokenRequest), OAuthError> {
    let basic = basic_credentials(headers)?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .enumerate()
        .find(|(i, (key, _))| pairs[..*i].iter().any(|(earlier, _)| earlier == key))
        .map(|(_, pair)| pair)
    {
        return Err(OAuthError::invalid_request(format!(
            "{name} is given more than once"
        )));
    }
    if let Some((name, _)) = pairs.iter().find(|(_, value)| has_control(value)) {
        return Err(OAuthError::invalid_request(format!(
            "{name} holds control characters"
        )));
    }
    // An empty parameter is an omitted one (RFC 6749 3.1).
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .filter(|value| !value.is_empty())
    };
    let request = TokenRequest {
        grant_type: field("grant_type"),
        code: field("code"),
        redirect_uri: field("redirect_uri"),
        code_verifier: field("code_verifier"),
        refresh_token: field("refresh_token"),
        client_id: field("client_id"),
        client_secret: field("client_secret"),
        token: field("token"),
    };
    Ok((ClientCredentials { basic }, request))
}

async fn token(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: String,
) -> Result<impl IntoResponse, OAuthError> {
    let (credentials, request) = token_form(&headers, &body)?;
    let answer = grants::token(&state, &client.address, &credentials, &request).await?;
    // `Cache-Control: no-store` comes from the middleware; `Pragma` for
    // HTTP/1.0 caches, as RFC 6749 5.1 asks.
    Ok(([(header::PRAGMA, "no-cache")], axum::Json(answer)))
}

async fn revoke(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode, OAuthError> {
    let (credentials, request) = token_form(&headers, &body)?;
    grants::revoke(&state, &client.address, &credentials, &request).await?;
    Ok(StatusCode::OK)
}

async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<axum::Json<serde_json::Value>, OAuthError> {
    let (credentials, request) = token_form(&headers, &body)?;
    Ok(axum::Json(
        grants::introspect(&state, &credentials, &request).await?,
    ))
}

async fn end_session(
    State(state): State<AppState>,
    Extension(signed_in): Extension<Option<SignedIn>>,
    Extension(client): Extension<ClientInfo>,
    RawQuery(query): RawQuery,
) -> Response {
    let ended = super::end_session::end_session(
        &state,
        signed_in.as_ref(),
        &client,
        query.as_deref().unwrap_or_default(),
    )
    .await;
    match ended {
        Ok(ended) => {
            let mut response = found(&ended.location);
            if ended.signed_out
                && let Ok(cookie) =
                    HeaderValue::from_str(&crate::auth::sessions::clearing_cookie(&state.settings))
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => failure(error),
    }
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::web::credentials(v, "Bearer"));
    // Without credentials the challenge names no error (RFC 6750 3.1).
    let challenge = |error: &str| {
        let value = if error.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer error=\"{error}\"")
        };
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = token.filter(|t| !has_control(t)) else {
        return challenge("");
    };
    match grants::userinfo(&state, token).await {
        Ok(Some(claims)) => axum::Json(claims).into_response(),
        Ok(None) => challenge("invalid_token"),
        Err(error) => failure(error),
    }
}
