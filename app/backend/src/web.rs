//! HTTP middleware shared by every route: who is asking (client address and
//! session), refusing cross-site writes, and security headers.

use crate::auth::sessions::{self, ClientInfo, SignedIn};
use crate::clock::Stopwatch;
use crate::metrics::{Outbox, Readings};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::AppError;
use std::net::SocketAddr;

/// The built browser files, the same for everyone.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Resolves the client and the session once per request and stores both in
/// the request's extensions, where server functions and handlers read them.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let client = client_info(&state, &request);
    // Static files need no session; skip the database for them.
    let is_asset = is_static_asset(request.uri().path());
    let token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| sessions::token_from_cookie_header(&state.settings, v))
        .filter(|_| !is_asset);
    let mut stale_cookie = false;
    let mut new_token = None;
    let signed_in: Option<SignedIn> = match &token {
        None => None,
        Some(token) => {
            match sessions::resolve(&state.db, &state.settings, state.now(), token).await {
                Ok(Some(resolved)) => {
                    new_token = resolved.new_token;
                    Some(resolved.signed_in)
                }
                Ok(None) => {
                    stale_cookie = true;
                    None
                }
                Err(error) => return unanswerable(AppError::from(error)),
            }
        }
    };
    request.extensions_mut().insert(client);
    request.extensions_mut().insert(signed_in);
    let mut response = next.run(request).await;
    // A rotated session id goes out unless the response already ends or
    // replaces this session (sign-out, a new sign-in).
    if let Some(token) = new_token
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(value) = HeaderValue::from_str(&sessions::session_cookie(&state.settings, token))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    if stale_cookie
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(value) = HeaderValue::from_str(&sessions::clearing_cookie(&state.settings))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn client_info(state: &AppState, request: &Request) -> ClientInfo {
    let socket = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = state
        .settings
        .trust_forwarded_for
        .then(|| forwarded_client(request.headers(), state.settings.forwarded_for_proxies))
        .flatten();
    let cookies: Vec<&str> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    ClientInfo {
        address: forwarded
            .or(socket)
            .map_or_else(|| "unknown".into(), |ip| ip.to_canonical().to_string()),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        cookie_header: cookies.join("; "),
    }
}

/// The client as our own reverse proxies saw it: each proxy appends the
/// address it was reached from to `X-Forwarded-For`, so with `proxies` of
/// them the client is that many entries from the right. Entries further
/// left were written by the client and prove nothing. `None` when the
/// header is missing, too short (a request that did not come through every
/// proxy) or not an IP address there.
fn forwarded_client(headers: &HeaderMap, proxies: usize) -> Option<std::net::IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let entry = entries.len().checked_sub(proxies).map(|i| entries[i])?;
    let bare = entry
        .strip_prefix('[')
        .and_then(|e| e.split_once(']'))
        .map_or(entry, |(ip, _)| ip);
    bare.parse().ok()
}

/// The route template a request matched, handed back on its response to
/// [`measure`], which runs outside routing.
#[derive(Clone)]
struct RouteTemplate(axum::extract::MatchedPath);

/// Names the route a request matched (`/setup/{token}`, not the path
/// holding the token) in its request span, for every log line under it,
/// and on its response, for the metrics.
pub async fn record_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    if let Some(route) = &route {
        tracing::Span::current().record("route", route.as_str());
    }
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Counts every answered request and its latency by route template (or
/// `unmatched`), method and status.
pub async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = Stopwatch::start();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |RouteTemplate(route)| route.as_str());
    state.metrics.request(
        &method,
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The credentials of an `Authorization` header of `scheme`, whose name is
/// case-insensitive (RFC 9110 11.1).
pub fn credentials<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (name, value) = header.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| value.trim())
}

/// Refuses state-changing requests that a browser marks as cross-site, or
/// whose `Origin` is not Gatehouse's public origin. Requests without either
/// header (API clients with bearer tokens, curl) carry no ambient cookie
/// authority worth forging and pass, and so do the OpenID Connect endpoints
/// that applications' own scripts call and that read no cookie.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !is_safe_method(request.method())
        && !crate::oidc::endpoints::is_cookieless_endpoint(request.uri().path())
        && is_cross_site(request.headers(), &state.settings.public_origin())
    {
        tracing::warn!(method = %request.method(), "refused a cross-site request");
        return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed").into_response();
    }
    next.run(request).await
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin != public_origin,
        None => false,
    }
}

/// Headers every response carries. HTML pages set their own CSP (with the
/// per-response nonce) in the shell; everything else gets a closed one.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_asset = is_static_asset(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Pages and answers may show a person's data or a secret (a new token,
    // recovery codes, a link's form): no cache, shared or the browser's
    // own, keeps them.
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let defaults: [(&str, &str); 5] = [
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if state.settings.is_https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The CSP of an HTML page: scripts only from here or carrying the nonce,
/// and WebAssembly compilation for the hydration bundle.
pub fn page_content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

/// The largest request body any route reads: far more than any form or API
/// request needs, and small enough that reading one in full is harmless.
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// Reads every request's body up to `MAX_REQUEST_BODY_BYTES` and answers a
/// larger one 413 (a problem for the REST API, an `AppError` for server
/// functions), whether it declares its length or streams without one, so no
/// handler ever waits on an endless body.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let path = request.uri().path().to_owned();
    if declared.is_some_and(|length| length > MAX_REQUEST_BODY_BYTES as u64) {
        return too_large(&path);
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => too_large(&path),
    }
}

fn too_large(path: &str) -> Response {
    let detail = "The request is larger than 64 KiB";
    if path.starts_with("/api/") {
        crate::rest::problem::Problem::too_large(detail).into_response()
    } else {
        let error = AppError::BadRequest(detail.into());
        (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response()
    }
}

/// A request that failed before it reached a handler answers with its
/// error's status and a JSON body naming the problem.
fn unanswerable(error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "error": error.to_string(), "fields": [] });
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = error.retry_after_seconds() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A server function that fails before its body runs (missing or malformed
/// arguments) is answered 500 by the framework, though its body is our
/// `AppError`; give such answers the status their error stands for.
pub async fn server_function_status(request: Request, next: Next) -> Response {
    let is_server_function = request.uri().path().starts_with("/fn/");
    let response = next.run(request).await;
    if !is_server_function || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status_code())
    {
        parts.status = status;
        if let Some(seconds) = error.retry_after_seconds() {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `/health`: the process is up.
pub async fn health() -> &'static str {
    "ok"
}

/// `/metrics`, for the bearer of the configured `metrics_token` only; with
/// none configured there is no such page. The gauges are read now.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.settings.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| credentials(v, "Bearer"));
    if !given.is_some_and(|token| expected.matches(token)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"gatehouse metrics\"",
            )],
            "Send the metrics token: Authorization: Bearer <metrics_token>",
        )
            .into_response();
    }
    // With the database down the scrape still answers: it says so, and
    // the outboxes keep their last readings.
    let outboxes = async {
        let mut outboxes = crate::background::undelivered(&state.db, Outbox::Mail).await?;
        outboxes.extend(crate::background::undelivered(&state.db, Outbox::Logout).await?);
        Ok::<_, sqlx::Error>(outboxes)
    };
    let outboxes = outboxes
        .await
        .inspect_err(|error| tracing::warn!(%error, "metrics: cannot read the outboxes"))
        .ok();
    let pool = &state.db.pool;
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    let readings = Readings {
        password_hashes_in_line: state.hasher.in_line(),
        password_hash_capacity: state.hasher.capacity(),
        connections_in_use: pool.size().saturating_sub(idle),
        connections_idle: idle,
        connections_max: pool.options().get_max_connections(),
        outboxes,
    };
    match state.metrics.render(readings) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => unanswerable(crate::db::internal(format!("metrics: {error}"))),
    }
}

/// `/ready`: the database answers.
pub async fn ready(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str], proxies: usize) -> Option<String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("header"),
            );
        }
        forwarded_client(&headers, proxies).map(|ip| ip.to_string())
    }

    #[test]
    fn the_client_is_the_entry_our_own_proxies_added() {
        // The client wrote the first entry itself; our one proxy added the last.
        assert_eq!(
            forwarded(&["203.0.113.66, 198.51.100.7"], 1).as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            forwarded(&["203.0.113.66, 198.51.100.7, 10.0.0.2"], 2).as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            forwarded(&["203.0.113.66", "198.51.100.7"], 1).as_deref(),
            Some("198.51.100.7"),
            "several headers read as one list"
        );
        assert_eq!(
            forwarded(&["[2001:db8::1]:443"], 1).as_deref(),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn a_short_or_unreadable_header_names_no_client() {
        assert_eq!(forwarded(&[], 1), None);
        assert_eq!(forwarded(&["198.51.100.7"], 2), None);
        assert_eq!(forwarded(&["198.51.100.7, not-an-address"], 1), None);
        assert_eq!(forwarded(&["198.51.100.7, "], 1), None);
    }
}
