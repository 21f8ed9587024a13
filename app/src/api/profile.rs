//! Server functions of *My profile*: only ever about the signed-in person.

use domain::AppError;
use domain::wire::{EmailChangeUndo, MyProfile};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::api::context, backend::accounts::profile as my};

#[server(prefix = "/fn", endpoint = "profile")]
pub async fn profile() -> Result<MyProfile, AppError> {
    my::load(&context::state()?, &context::signed_in()?).await
}

#[server(prefix = "/fn", endpoint = "update_my_details")]
pub async fn update_my_details(
    first_name: String,
    last_name: String,
    initials: String,
) -> Result<(), AppError> {
    let me = context::signed_in()?;
    my::update_names(
        &context::state()?,
        &me,
        &first_name,
        &last_name,
        &initials,
        &context::client()?,
    )
    .await?;
    leptos_axum::redirect("/profile?saved=details");
    Ok(())
}

/// `code`: a current authentication code, needed once enrolled.
#[server(prefix = "/fn", endpoint = "change_my_email")]
pub async fn change_my_email(
    email: String,
    current_password: String,
    #[server(default)] code: String,
) -> Result<(), AppError> {
    let me = context::signed_in()?;
    my::request_email_change(
        &context::state()?,
        &me,
        &email,
        &current_password,
        &code,
        &context::client()?,
    )
    .await?;
    leptos_axum::redirect("/profile?saved=email");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "email_change_link")]
pub async fn email_change_link(token: String) -> Result<String, AppError> {
    my::email_change_link(&context::state()?, &token).await
}

#[server(prefix = "/fn", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    my::confirm_email_change(
        &context::state()?,
        &token,
        context::session().as_ref(),
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect("/profile?saved=email_confirmed");
    Ok(())
}

/// What an undo link sent to the old address will do: keep it, instead of
/// the address the change was for.
#[server(prefix = "/fn", endpoint = "email_change_undo_link")]
pub async fn email_change_undo_link(token: String) -> Result<EmailChangeUndo, AppError> {
    let (keep, moving_to) = my::email_change_undo_link(&context::state()?, &token).await?;
    Ok(EmailChangeUndo { keep, moving_to })
}

#[server(prefix = "/fn", endpoint = "undo_email_change")]
pub async fn undo_email_change(token: String) -> Result<(), AppError> {
    let state = context::state()?;
    my::undo_email_change(&state, &token, &context::client()?.address).await?;
    context::set_cookie(backend::auth::sessions::clearing_cookie(&state.settings));
    leptos_axum::redirect("/sign-in?notice=email_change_undone");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change_my_password")]
pub async fn change_my_password(
    current_password: String,
    new_password: String,
    #[server(default)] end_other_sessions: Option<String>,
) -> Result<(), AppError> {
    let me = context::signed_in()?;
    my::change_password(
        &context::state()?,
        &me,
        &current_password,
        &new_password,
        end_other_sessions.is_some(),
        &context::client()?,
    )
    .await?;
    leptos_axum::redirect("/profile?saved=password");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "end_my_session")]
pub async fn end_my_session(id: i64) -> Result<(), AppError> {
    let me = context::signed_in()?;
    my::end_session(&context::state()?, &me, id, &context::client()?).await?;
    leptos_axum::redirect(if id == me.session_id {
        "/sign-in"
    } else {
        "/profile?saved=session"
    });
    Ok(())
}
