//! Server functions of the platform administrator's Organisations page and
//! of an organisation's settings.

use domain::AppError;
use domain::wire::{OrganisationSettings, OrganisationSummary, UndeliveredEmail};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context,
    backend::organisations::{self, NewOrganisationForm},
    domain::{LinkLifetimes, Permission},
};

/// Every organisation (platform administrators only).
#[server(prefix = "/fn", endpoint = "organisations")]
pub async fn list_organisations() -> Result<Vec<OrganisationSummary>, AppError> {
    organisations::list(&context::state()?, &context::signed_in()?).await
}

/// Mail failing or failed in every organisation (platform administrators only).
#[server(prefix = "/fn", endpoint = "undelivered_mail")]
pub async fn undelivered_mail() -> Result<Vec<UndeliveredEmail>, AppError> {
    organisations::undelivered_mail(&context::state()?, &context::signed_in()?).await
}

/// Creates an organisation and its first administrator, then opens that
/// administrator's page in the new organisation.
#[server(prefix = "/fn", endpoint = "add_organisation")]
pub async fn add_organisation(
    organisation_name: String,
    first_name: String,
    last_name: String,
    email: String,
) -> Result<(), AppError> {
    let form = NewOrganisationForm {
        organisation_name,
        first_name,
        last_name,
        email,
    };
    let admin_id = organisations::add(
        &context::state()?,
        &context::signed_in()?,
        &form,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{admin_id}?created=organisation"));
    Ok(())
}

/// Makes the chosen organisation the one this session administers.
#[server(prefix = "/fn", endpoint = "enter_organisation")]
pub async fn enter_organisation(
    organisation_id: i64,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    let state = context::state()?;
    organisations::enter(
        &state,
        &context::signed_in()?,
        organisation_id,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&backend::auth::redirect::local_next(
        &state.settings.public_url,
        next.as_deref().or(Some("/users")),
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "organisation_settings")]
pub async fn load_organisation_settings() -> Result<OrganisationSettings, AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    organisations::settings(&context::state()?, &admin).await
}

#[server(prefix = "/fn", endpoint = "save_organisation_settings")]
pub async fn save_organisation_settings(
    welcome_link_hours: String,
    password_link_minutes: String,
) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    let lifetimes = LinkLifetimes::parse(&welcome_link_hours, &password_link_minutes)
        .map_err(AppError::Validation)?;
    organisations::save_settings(
        &context::state()?,
        &admin,
        lifetimes,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect("/organisation?saved=1");
    Ok(())
}
