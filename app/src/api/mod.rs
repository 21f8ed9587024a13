//! Server functions: the browser's only way into the backend. Each is thin:
//! parse the input with the domain types, check who is asking, call the
//! backend, and answer with `AppError` on failure. Paths are stable
//! (`/fn/<name>`) so tests and tools can call them.

pub mod api_docs;
pub mod api_tokens;
pub mod applications;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod context;
pub mod onboarding;
pub mod organisations;
pub mod profile;
pub mod roles;
pub mod setup;
pub mod two_factor;
pub mod users;

use domain::AppError;
use domain::wire::CurrentUser;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    backend::auth::redirect::local_next,
    backend::auth::{devices, sessions, sign_in as signing},
    domain::Login,
};

/// The signed-in person, or `None` when nobody is signed in.
#[server(prefix = "/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    let s = match context::signed_in() {
        Ok(s) => s,
        Err(AppError::Unauthorized) => return Ok(None),
        // Someone who must enrol first is told so (the shell takes them there).
        Err(other) => return Err(other),
    };
    let permissions = backend::access::held(&context::state()?.db.pool, &s).await?;
    let is_platform_admin = s.is_platform_admin();
    let s = s.actor;
    Ok(Some(CurrentUser {
        first_name: s.first_name,
        last_name: s.last_name,
        username: s.username,
        email: s.email,
        initials: s.initials,
        is_platform_admin,
        organisation_name: s.organisation_name,
        working_organisation_name: s.working_organisation_name,
        permissions,
    }))
}

#[server(prefix = "/fn", endpoint = "sign_in")]
pub async fn sign_in(
    login: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let state = context::state()?;
    let login = Login::parse(&login)?;
    if password.is_empty() {
        return Err(AppError::field("password", "Enter your password"));
    }
    let previous = context::session();
    let opened = signing::sign_in(&state, &login, &password, &context::client()?).await?;
    context::replace_session(&state, previous, opened.token).await?;
    if opened.stage == sessions::Stage::Complete {
        context::set_cookie(devices::cookie_for(&state.settings, opened.user_id)?);
    }
    leptos_axum::redirect(&two_factor::after_password(
        opened.stage,
        &local_next(&state.settings.public_url, next.as_deref()),
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let state = context::state()?;
    if let Some(session) = context::session() {
        signing::sign_out(&state, &session, &context::client()?).await?;
    }
    context::set_cookie(sessions::clearing_cookie(&state.settings));
    leptos_axum::redirect("/sign-in");
    Ok(())
}
