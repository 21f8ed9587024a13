//! Server functions for roles, profiles and who holds them. Editing roles
//! and profiles needs `roles.manage`; giving them to people and taking them
//! away needs `users.manage` (the rule and its one exception are written in
//! `backend::roles`). The organisation comes from the session, never from
//! the request.
//!
//! Checkbox lists post as repeated `permissions[]`, `roles[]` and
//! `profiles[]` fields: the form decoder (serde_qs) reads a bracketed
//! repeated name as a list and refuses a plain one repeated.

use domain::AppError;
use domain::wire::{ProfileDetail, ProfileSummary, RoleDetail, RoleSummary, UserAccess};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::api::context, backend::access::roles, domain::Permission};

/// Adds a role or profile, then opens its page.
#[cfg(feature = "ssr")]
async fn add(kind: roles::Kind, name: &str, description: &str) -> Result<(), AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    let id = roles::add(
        &context::state()?,
        &admin,
        kind,
        name,
        description,
        &context::client()?.address,
    )
    .await?;
    show_saved(kind, id, "created");
    Ok(())
}

/// Sends the browser to the page of the role or profile `id`, which says
/// what happened (`saved`: `created` or `changes`).
#[cfg(feature = "ssr")]
fn show_saved(kind: roles::Kind, id: i64, saved: &str) {
    let pages = match kind {
        roles::Kind::Role => "roles",
        roles::Kind::Profile => "profiles",
    };
    leptos_axum::redirect(&format!("/{pages}/{id}?saved={saved}"));
}

#[server(prefix = "/fn", endpoint = "roles")]
pub async fn load_roles() -> Result<Vec<RoleSummary>, AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::list_roles(&context::state()?, &admin).await
}

#[server(prefix = "/fn", endpoint = "role")]
pub async fn load_role(id: i64) -> Result<RoleDetail, AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::role_detail(&context::state()?, &admin, id).await
}

#[server(prefix = "/fn", endpoint = "add_role")]
pub async fn add_role(
    name: String,
    #[server(default)] description: String,
) -> Result<(), AppError> {
    add(roles::Kind::Role, &name, &description).await
}

/// Saves a role's name, description and permissions (the ticked
/// `permissions[]`; none ticked removes them all).
#[server(prefix = "/fn", endpoint = "save_role")]
pub async fn save_role(
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] permissions: Vec<String>,
) -> Result<(), AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::save_role(
        &context::state()?,
        &admin,
        id,
        &name,
        &description,
        &permissions,
        &context::client()?.address,
    )
    .await?;
    show_saved(roles::Kind::Role, id, "changes");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "profiles")]
pub async fn load_profiles() -> Result<Vec<ProfileSummary>, AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::list_profiles(&context::state()?, &admin).await
}

#[server(prefix = "/fn", endpoint = "access_profile")]
pub async fn load_profile(id: i64) -> Result<ProfileDetail, AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::profile_detail(&context::state()?, &admin, id).await
}

#[server(prefix = "/fn", endpoint = "add_profile")]
pub async fn add_profile(
    name: String,
    #[server(default)] description: String,
) -> Result<(), AppError> {
    add(roles::Kind::Profile, &name, &description).await
}

/// Saves a profile's name, description and roles (the ticked `roles[]`).
#[server(prefix = "/fn", endpoint = "save_profile")]
pub async fn save_profile(
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] roles: Vec<i64>,
) -> Result<(), AppError> {
    let admin = context::require(Permission::RolesManage).await?;
    roles::save_profile(
        &context::state()?,
        &admin,
        id,
        &name,
        &description,
        &roles,
        &context::client()?.address,
    )
    .await?;
    show_saved(roles::Kind::Profile, id, "changes");
    Ok(())
}

/// The roles and profiles of an account, and the permissions they give.
#[server(prefix = "/fn", endpoint = "user_access")]
pub async fn load_user_access(id: i64) -> Result<UserAccess, AppError> {
    let admin = context::require(Permission::UsersView).await?;
    roles::user_access(&context::state()?, &admin, id).await
}

/// Gives the account exactly the ticked `roles[]` and `profiles[]`.
#[server(prefix = "/fn", endpoint = "save_user_access")]
pub async fn save_user_access(
    id: i64,
    #[server(default)] roles: Vec<i64>,
    #[server(default)] profiles: Vec<i64>,
) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    roles::save_user_access(
        &context::state()?,
        &admin,
        id,
        roles::AccessRequest::Exactly {
            roles: &roles,
            profiles: &profiles,
        },
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{id}?saved=access"));
    Ok(())
}
