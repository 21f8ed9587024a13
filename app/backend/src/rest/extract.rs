//! What a REST handler takes from the request, each refusing with a
//! [`Problem`]: the caller (bearer token, throttled), the JSON body, the
//! query and the ids in the address.

use crate::access::actor::{Actor, TokenUse};
use crate::api_tokens;
use crate::auth::sessions::ClientInfo;
use crate::metrics::Limit;
use crate::rest::problem::Problem;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The largest JSON body the API reads.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API user calling, from `Authorization: Bearer <token>`, checked
/// against the database on this request; each call counts towards the
/// token's requests per minute.
pub struct ApiCaller {
    pub actor: Actor,
    pub token: TokenUse,
    pub client_address: String,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::web::credentials(v, "Bearer"));
        let Some(token) = bearer.filter(|t| !t.is_empty()) else {
            return Err(Problem::unauthorized(
                api_tokens::Refusal::Missing.message(),
            ));
        };
        let now = state.now();
        let actor = match api_tokens::authenticate(&state.db, now, token).await? {
            Ok(actor) => actor,
            Err(refusal) => {
                tracing::info!(?refusal, "API token refused");
                return Err(Problem::unauthorized(refusal.message()));
            }
        };
        let Some(token) = actor.token.clone() else {
            return Err(Problem::unauthorized(
                api_tokens::Refusal::Unknown.message(),
            ));
        };
        if let Err(retry_after) = api_tokens::count_request(
            &state.db,
            now,
            token.id,
            state.settings.api_requests_per_minute,
        )
        .await?
        {
            state.metrics.throttled(Limit::ApiToken).inc();
            return Err(Problem::rate_limited(retry_after));
        }
        let client_address = parts
            .extensions
            .get::<ClientInfo>()
            .map(|c| c.address.clone())
            .unwrap_or_else(|| "unknown".into());
        Ok(ApiCaller {
            actor,
            token,
            client_address,
        })
    }
}

/// A JSON body. Whatever `Content-Type` says, the body is read as JSON:
/// syntax errors are 400, a field of the wrong type or an unknown field 422
/// naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, Problem> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                Problem::bad_request(
                    None,
                    format!("The body is too large (at most {MAX_BODY_BYTES} bytes)"),
                )
            })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => Ok(ApiJson(value)),
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if inner.is_data() {
                    let message = readable(&inner.to_string());
                    // serde names a missing field only in its message.
                    let missing = message
                        .strip_prefix("missing field `")
                        .and_then(|rest| rest.split('`').next())
                        .map(str::to_owned);
                    let field = match missing {
                        Some(field) => field,
                        None if path == "." => "body".to_owned(),
                        None => path,
                    };
                    Err(Problem::from(domain::AppError::field(&field, message)))
                } else {
                    Err(Problem::bad_request(
                        None,
                        format!("The body is not valid JSON: {inner}"),
                    ))
                }
            }
        }
    }
}

/// The query string, read into `T`; what does not fit is 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = readable(&error.into_inner().to_string());
                let field = (path != ".").then_some(path);
                Problem::bad_request(field.as_deref(), message)
            })
    }
}

/// Ids in the address (`/users/{id}`), which are whole numbers.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| {
                Problem::not_found("There is nothing at this address: ids are whole numbers")
            })
    }
}

/// serde's messages, with its Rust-flavoured words put plainly and
/// without the position (" at line 1 column 17").
fn readable(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    message
        .replace("invalid type: ", "wrong type: ")
        .replace("i64", "a whole number")
        .replace("u32", "a whole number")
}
