//! Small helpers for server functions: the state, the request, the signed-in
//! person. Each returns a `Result`, never panics.

use backend::auth::sessions::{ClientInfo, SignedIn, Stage};
use backend::state::AppState;
use domain::AppError;
use http::request::Parts;
use http::{HeaderValue, header};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(abandoned_render)
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(abandoned_render)
}

/// The request's context is gone only when its page render was abandoned
/// (the browser left mid-render, e.g. a new search as you type) while a
/// resource of that render still ran on: nobody reads this answer, so it is
/// not an error worth logging as one. (That lookup, racing the render's
/// teardown, could hang its thread in reactive_graph 0.2.16: the workspace
/// patches it, vendor/README.md.)
fn abandoned_render() -> AppError {
    tracing::debug!("server function ran after its page render was abandoned");
    AppError::Transport
}

/// The session of this request at whatever stage, as resolved by the
/// session middleware: for replacing or ending it.
pub fn session() -> Option<SignedIn> {
    parts()
        .ok()?
        .extensions
        .get::<Option<SignedIn>>()
        .cloned()
        .flatten()
}

/// The fully signed-in person. Someone still owing their authentication
/// code is not signed in; someone who must enrol in two-factor
/// authentication first is refused with that reason.
pub fn signed_in() -> Result<SignedIn, AppError> {
    let session = session().ok_or(AppError::Unauthorized)?;
    match session.stage {
        Stage::Complete => Ok(session),
        Stage::EnrolmentRequired => Err(AppError::TwoFactorEnrolmentRequired),
        Stage::CodeRequired => Err(AppError::Unauthorized),
    }
}

/// The person whose password was right and whose authentication code is
/// still to come (the sign-in code step only).
pub fn awaiting_code() -> Result<SignedIn, AppError> {
    session()
        .filter(|s| s.stage == Stage::CodeRequired)
        .ok_or(AppError::Unauthorized)
}

/// The signed-in person, also while they must enrol (the enrolment steps only).
pub fn enrolling() -> Result<SignedIn, AppError> {
    session()
        .filter(|s| matches!(s.stage, Stage::Complete | Stage::EnrolmentRequired))
        .ok_or(AppError::Unauthorized)
}

/// The signed-in person, if they hold `permission` now (checked in the database).
pub async fn require(permission: domain::Permission) -> Result<SignedIn, AppError> {
    let user = signed_in()?;
    backend::access::require(&state()?.db.pool, &user, permission).await?;
    Ok(user)
}

pub fn client() -> Result<ClientInfo, AppError> {
    parts()?
        .extensions
        .get::<ClientInfo>()
        .cloned()
        .ok_or_else(|| backend::db::internal("client info missing from request"))
}

pub fn set_cookie(cookie: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// Gives this browser the new session `token`, ending the session it had
/// (perhaps someone else's), so none lives on unseen behind the new one.
pub async fn replace_session(
    state: &AppState,
    previous: Option<SignedIn>,
    token: String,
) -> Result<(), AppError> {
    if let Some(previous) = previous {
        backend::auth::sessions::replace(
            &state.db,
            state.now(),
            &previous,
            &token,
            "replaced_by_sign_in",
        )
        .await?;
    }
    set_cookie(backend::auth::sessions::session_cookie(
        &state.settings,
        token,
    ));
    Ok(())
}

/// Sets the page's Content-Security-Policy with this response's nonce.
pub fn set_page_security_policy(nonce: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&backend::web::page_content_security_policy(nonce)),
    ) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
