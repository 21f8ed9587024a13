//! Server functions for connected applications (permission
//! `applications.manage`). The organisation comes from the session, never
//! from the request. A new secret is kept, sealed, in the administrator's
//! session and shown once on the application's page, so registering works
//! without JavaScript too (the form posts and the page reloads).
// The registration form posts as an ordinary HTML form, one argument per
// field: the fields are the wire format, and there are twelve of them.
#![allow(clippy::too_many_arguments)]

use domain::AppError;
use domain::wire::{ApplicationDetail, ApplicationLine, ApplicationSignIn};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context, backend::oidc::applications, backend::oidc::sign_ins,
    domain::ApplicationForm, domain::Permission,
};

#[server(prefix = "/fn", endpoint = "applications")]
pub async fn load_applications() -> Result<Vec<ApplicationLine>, AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    applications::list(&context::state()?, &admin).await
}

/// An application's page; without `id`, the page that registers one.
#[server(prefix = "/fn", endpoint = "application")]
pub async fn load_application(id: Option<i64>) -> Result<ApplicationDetail, AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    applications::detail(&context::state()?, &admin, id).await
}

/// The form's fields as one value. Ticked roles and profiles post as
/// repeated `role_ids[]` and `profile_ids[]`; the two-factor box as `on`.
#[cfg(feature = "ssr")]
fn form(
    name: String,
    client_kind: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    audience: String,
    role_ids: Vec<i64>,
    profile_ids: Vec<i64>,
    requires_two_factor: Option<String>,
    id_token_algorithm: String,
    access_token_minutes: String,
    refresh_token_hours: String,
) -> ApplicationForm {
    ApplicationForm {
        name,
        client_kind,
        redirect_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri,
        audience,
        role_ids,
        profile_ids,
        requires_two_factor: requires_two_factor.is_some(),
        id_token_algorithm,
        access_token_minutes,
        refresh_token_hours,
    }
}

#[server(prefix = "/fn", endpoint = "register_application")]
pub async fn register_application(
    name: String,
    #[server(default)] client_kind: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] backchannel_logout_uri: String,
    #[server(default)] audience: String,
    #[server(default)] role_ids: Vec<i64>,
    #[server(default)] profile_ids: Vec<i64>,
    #[server(default)] requires_two_factor: Option<String>,
    #[server(default)] id_token_algorithm: String,
    #[server(default)] access_token_minutes: String,
    #[server(default)] refresh_token_hours: String,
) -> Result<(), AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    let form = form(
        name,
        client_kind,
        redirect_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri,
        audience,
        role_ids,
        profile_ids,
        requires_two_factor,
        id_token_algorithm,
        access_token_minutes,
        refresh_token_hours,
    );
    let id = applications::register(
        &context::state()?,
        &admin,
        &form,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/applications/{id}?saved=registered"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "save_application")]
pub async fn save_application(
    id: i64,
    name: String,
    #[server(default)] client_kind: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] backchannel_logout_uri: String,
    #[server(default)] audience: String,
    #[server(default)] role_ids: Vec<i64>,
    #[server(default)] profile_ids: Vec<i64>,
    #[server(default)] requires_two_factor: Option<String>,
    #[server(default)] id_token_algorithm: String,
    #[server(default)] access_token_minutes: String,
    #[server(default)] refresh_token_hours: String,
) -> Result<(), AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    let form = form(
        name,
        client_kind,
        redirect_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri,
        audience,
        role_ids,
        profile_ids,
        requires_two_factor,
        id_token_algorithm,
        access_token_minutes,
        refresh_token_hours,
    );
    applications::change(
        &context::state()?,
        &admin,
        id,
        &form,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/applications/{id}?saved=changes"));
    Ok(())
}

/// Replaces a confidential application's secret; the page shows the new one once.
#[server(prefix = "/fn", endpoint = "new_application_secret")]
pub async fn new_application_secret(id: i64) -> Result<(), AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    applications::new_secret(&context::state()?, &admin, id, &context::client()?.address).await?;
    leptos_axum::redirect(&format!("/applications/{id}?saved=secret"));
    Ok(())
}

/// Disables an application (`disabled` = `true`) or enables it again.
#[server(prefix = "/fn", endpoint = "set_application_disabled")]
pub async fn set_application_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    let admin = context::require(Permission::ApplicationsManage).await?;
    applications::set_disabled(
        &context::state()?,
        &admin,
        id,
        disabled,
        &context::client()?.address,
    )
    .await?;
    let saved = if disabled { "disabled" } else { "enabled" };
    leptos_axum::redirect(&format!("/applications/{id}?saved={saved}"));
    Ok(())
}

/// The applications a person is signed in to, on their user page.
#[server(prefix = "/fn", endpoint = "application_sign_ins")]
pub async fn load_application_sign_ins(id: i64) -> Result<Vec<ApplicationSignIn>, AppError> {
    let admin = context::require(Permission::UsersView).await?;
    sign_ins::of_user(&context::state()?, &admin, id).await
}

/// Signs a person out of one application (`sign_in`) or of all of them.
#[server(prefix = "/fn", endpoint = "sign_out_of_applications")]
pub async fn sign_out_of_applications(
    id: i64,
    #[server(default)] sign_in: Option<i64>,
) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    sign_ins::sign_out_user(&context::state()?, &admin, id, sign_in, &context::client()?).await?;
    leptos_axum::redirect(&format!("/users/{id}?saved=applications#applications"));
    Ok(())
}

/// The applications the signed-in person is signed in to, on My profile.
#[server(prefix = "/fn", endpoint = "my_application_sign_ins")]
pub async fn load_my_application_sign_ins() -> Result<Vec<ApplicationSignIn>, AppError> {
    let me = context::signed_in()?;
    sign_ins::mine(&context::state()?, &me).await
}

/// Signs the signed-in person out of one application (`sign_in`) or of all.
#[server(prefix = "/fn", endpoint = "sign_out_of_my_applications")]
pub async fn sign_out_of_my_applications(
    #[server(default)] sign_in: Option<i64>,
) -> Result<(), AppError> {
    let me = context::signed_in()?;
    sign_ins::sign_out_mine(&context::state()?, &me, sign_in, &context::client()?).await?;
    leptos_axum::redirect("/profile?saved=applications#applications");
    Ok(())
}

/// The name of the application a person was refused, for the page that
/// says why; client ids are public and unguessable.
#[server(prefix = "/fn", endpoint = "refused_application")]
pub async fn load_refused_application(client_id: String) -> Result<Option<String>, AppError> {
    if backend::oidc::authorize::has_control(&client_id) {
        return Ok(None);
    }
    applications::name_of(&context::state()?, &client_id).await
}
