//! Server functions for people following an email link, or who forgot their
//! password. No session is needed; the link is the authority.

use domain::AppError;
use domain::wire::PasswordLinkInfo;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::api::context, backend::auth::sign_in, backend::clock::Stopwatch, backend::onboarding};

/// What a welcome or set-password link is for. Opening it consumes nothing.
#[server(prefix = "/fn", endpoint = "password_link")]
pub async fn password_link(token: String) -> Result<PasswordLinkInfo, AppError> {
    let link = onboarding::password_link(&context::state()?, &token).await?;
    let account = link.account;
    Ok(PasswordLinkInfo {
        is_welcome: link.is_welcome,
        first_name: account.first_name,
        last_name: account.last_name,
        username: account.username,
        email: account.email,
        organisation_name: account.organisation_name,
    })
}

/// Sets the password from a link (activating a pending account) and signs
/// the person in.
#[server(prefix = "/fn", endpoint = "choose_password")]
pub async fn choose_password(token: String, password: String) -> Result<(), AppError> {
    let state = context::state()?;
    let client = context::client()?;
    let previous = context::session();
    let user_id =
        onboarding::complete_password_link(&state, &token, &password, &client.address).await?;
    // Then the code step if they have enrolled, or enrolment if their
    // permissions require it.
    let opened = sign_in::open_session(&state, user_id, &client).await?;
    context::replace_session(&state, previous, opened.token).await?;
    leptos_axum::redirect(&super::two_factor::after_password(opened.stage, "/"));
    Ok(())
}

/// Forgotten password. Answers the same, after the same time, whether or not
/// an account matches; throttled per address and per client.
#[server(prefix = "/fn", endpoint = "forgotten_password")]
pub async fn forgotten_password(login: String) -> Result<(), AppError> {
    let login = domain::Login::parse(&login)?;
    let started = Stopwatch::start();
    let state = context::state()?;
    let client = context::client()?;
    let outcome =
        onboarding::forgotten_password(&state, &login.normalized(), &client.address).await;
    // Whatever happened, answer after the same time.
    started
        .wait_until(onboarding::FORGOTTEN_PASSWORD_ANSWER_TIME)
        .await;
    outcome?;
    leptos_axum::redirect("/forgotten-password?sent=1");
    Ok(())
}
