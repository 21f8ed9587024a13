//! Server functions of setup links: the first organisation's and each new
//! organisation's first administrator.
// The setup form posts as an ordinary HTML form (also without JavaScript),
// one argument per field: here the fields are the wire format, and there
// are nine of them.
#![allow(clippy::too_many_arguments)]

use domain::AppError;
use domain::wire::SetupLinkInfo;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context, crate::api::two_factor, backend::auth::sign_in as signing,
    backend::onboarding::setup, domain::wire::SetupForm,
};

/// What a setup link will do; opening the page consumes nothing.
#[server(prefix = "/fn", endpoint = "setup_link")]
pub async fn setup_link(token: String) -> Result<SetupLinkInfo, AppError> {
    setup::link_info(&context::state()?, &token).await
}

/// One argument per field of the form.
#[server(prefix = "/fn", endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    #[server(default)] organisation_name: String,
    first_name: String,
    last_name: String,
    email: String,
    #[server(default)] username: String,
    #[server(default)] generate_username: Option<String>,
    initials: String,
    password: String,
) -> Result<(), AppError> {
    let state = context::state()?;
    let client = context::client()?;
    let form = SetupForm {
        organisation_name,
        first_name,
        last_name,
        email,
        username,
        generate_username: generate_username.is_some(),
        initials,
        password,
    };
    let previous = context::session();
    let user_id = setup::complete(&state, &token, &form, &client.address).await?;
    // An administrator: enrolment in two-factor authentication comes next.
    let opened = signing::open_session(&state, user_id, &client).await?;
    context::replace_session(&state, previous, opened.token).await?;
    leptos_axum::redirect(&two_factor::after_password(opened.stage, "/"));
    Ok(())
}
