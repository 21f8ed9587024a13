//! Server functions of two-factor authentication: the code step of sign-in,
//! enrolment and its recovery codes, the person's own changes on *My
//! profile*, and what administrators see and do on a user's page.

use domain::AppError;
use domain::wire::{AccountSecurity, Enrolment, RecoveryCodesToKeep, TwoFactorState};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context,
    backend::auth::sessions::Stage,
    backend::auth::sign_in as signing,
    backend::auth::two_factor::{self, Change},
    domain::Permission,
};

/// Where someone goes once their password was right (sign-in, a password
/// link, setup): the code step, enrolment, or where they were going.
#[cfg(feature = "ssr")]
pub(crate) fn after_password(stage: Stage, next: &str) -> String {
    match stage {
        Stage::CodeRequired => {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            format!("/sign-in/code?next={next}")
        }
        Stage::EnrolmentRequired => "/two-factor/enrol".to_owned(),
        Stage::Complete => backend::auth::redirect::after_sign_in_post(next),
    }
}

/// The second step of sign-in: a code from the authenticator app or a
/// recovery code. Success replaces the waiting session with a new one.
#[server(prefix = "/fn", endpoint = "sign_in_code")]
pub async fn sign_in_code(code: String, next: Option<String>) -> Result<(), AppError> {
    let state = context::state()?;
    let pending = context::awaiting_code()?;
    if code.trim().is_empty() {
        return Err(AppError::field("code", "Enter your authentication code"));
    }
    let token = signing::sign_in_with_code(&state, &pending, &code, &context::client()?).await?;
    context::replace_session(&state, None, token).await?;
    context::set_cookie(backend::auth::devices::cookie_for(
        &state.settings,
        pending.user_id,
    )?);
    leptos_axum::redirect(&backend::auth::redirect::after_sign_in_post(
        &backend::auth::redirect::local_next(&state.settings.public_url, next.as_deref()),
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "two_factor_enrolment")]
pub async fn two_factor_enrolment() -> Result<Enrolment, AppError> {
    two_factor::enrolment(&context::state()?, &context::enrolling()?).await
}

#[server(prefix = "/fn", endpoint = "confirm_two_factor")]
pub async fn confirm_two_factor(code: String) -> Result<(), AppError> {
    let state = context::state()?;
    let me = context::enrolling()?;
    if code.trim().is_empty() {
        return Err(AppError::field("code", "Enter the code your app shows"));
    }
    let token = two_factor::confirm_enrolment(&state, &me, &code, &context::client()?).await?;
    context::replace_session(&state, None, token).await?;
    leptos_axum::redirect("/two-factor/recovery-codes");
    Ok(())
}

/// The recovery codes just made in this session; `None` once shown.
#[server(prefix = "/fn", endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Option<RecoveryCodesToKeep>, AppError> {
    two_factor::recovery_codes_to_show(&context::state()?, &context::signed_in()?).await
}

#[server(prefix = "/fn", endpoint = "my_two_factor")]
pub async fn my_two_factor() -> Result<TwoFactorState, AppError> {
    two_factor::my_state(&context::state()?, &context::signed_in()?.actor).await
}

/// After the password and a current code: `change` is `new_device` (enrol
/// again) or `new_recovery_codes`.
#[server(prefix = "/fn", endpoint = "change_two_factor")]
pub async fn change_two_factor(
    password: String,
    code: String,
    change: String,
) -> Result<(), AppError> {
    let me = context::signed_in()?;
    let (change, then) = match change.as_str() {
        "new_device" => (Change::NewDevice, "/two-factor/enrol"),
        "new_recovery_codes" => (
            Change::NewRecoveryCodes,
            "/two-factor/recovery-codes?next=/profile",
        ),
        _ => return Err(AppError::BadRequest("Choose what to change".into())),
    };
    let mut missing = Vec::new();
    if password.is_empty() {
        missing.push(domain::FieldError::new("password", "Enter your password"));
    }
    if code.trim().is_empty() {
        missing.push(domain::FieldError::new(
            "code",
            "Enter your authentication code",
        ));
    }
    if !missing.is_empty() {
        return Err(AppError::Validation(missing));
    }
    two_factor::change(
        &context::state()?,
        &me,
        &password,
        &code,
        change,
        &context::client()?,
    )
    .await?;
    leptos_axum::redirect(then);
    Ok(())
}

#[server(prefix = "/fn", endpoint = "user_security")]
pub async fn user_security(id: i64) -> Result<AccountSecurity, AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    two_factor::account_security(&context::state()?, &admin, id).await
}

#[server(prefix = "/fn", endpoint = "reset_two_factor")]
pub async fn reset_two_factor(id: i64) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    two_factor::reset(&context::state()?, &admin, id, &context::client()?).await?;
    leptos_axum::redirect(&format!("/users/{id}?security=two_factor_reset"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "end_user_sessions")]
pub async fn end_user_sessions(id: i64) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    two_factor::end_sessions(&context::state()?, &admin, id, &context::client()?).await?;
    leptos_axum::redirect(&format!("/users/{id}?security=sessions_ended"));
    Ok(())
}
