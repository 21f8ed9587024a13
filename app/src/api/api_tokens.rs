//! Server functions for an API user's tokens (permission `api_users.manage`).
//! A new token is kept, sealed, in the administrator's session and shown
//! once on the API user's page, so creating one also works without
//! JavaScript (the form posts and the page reloads).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {crate::backend::api_tokens, crate::backend::context, crate::domain::Permission};

/// The token form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    /// `YYYY-MM-DD`, or empty for a token that does not expire.
    pub expires_on: String,
}

/// A line of the API user's token list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenLine {
    pub id: i64,
    pub name: String,
    /// The token's first characters, e.g. `gat_1a2b3c4d`.
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    /// "Active", "Expired", "Revoked …".
    pub status: String,
    /// Still works (neither revoked nor expired): it can be revoked.
    pub live: bool,
}

/// The *API tokens* section of an API user's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokens {
    pub tokens: Vec<ApiTokenLine>,
    /// The token made a moment ago, shown this once.
    pub new_token: Option<String>,
    /// Why the viewer may not create or revoke this API user's tokens (it
    /// holds permissions they do not).
    pub refusal: Option<String>,
}

#[server(prefix = "/fn", endpoint = "api_tokens")]
pub async fn load_api_tokens(id: i64) -> Result<ApiTokens, AppError> {
    let admin = context::require(Permission::ApiUsersManage).await?;
    api_tokens::list(&context::state()?, &admin, id).await
}

#[server(prefix = "/fn", endpoint = "create_api_token")]
pub async fn create_api_token(
    id: i64,
    name: String,
    #[server(default)] expires_on: String,
) -> Result<(), AppError> {
    let admin = context::require(Permission::ApiUsersManage).await?;
    let state = context::state()?;
    let token = api_tokens::create(
        &state,
        &admin,
        id,
        &NewApiToken { name, expires_on },
        &context::client()?.address,
    )
    .await?;
    api_tokens::keep_token_to_show(&state, &admin, id, &token).await?;
    leptos_axum::redirect(&format!("/users/{id}?saved=token#api-tokens"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64, token_id: i64) -> Result<(), AppError> {
    let admin = context::require(Permission::ApiUsersManage).await?;
    api_tokens::revoke(
        &context::state()?,
        &admin,
        id,
        token_id,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{id}?saved=token_revoked#api-tokens"));
    Ok(())
}
