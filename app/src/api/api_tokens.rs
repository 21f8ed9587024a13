//! Server functions for an API user's tokens (permission `api_users.manage`).
//! A new token is kept, sealed, in the administrator's session and shown
//! once on the API user's page, so creating one also works without
//! JavaScript (the form posts and the page reloads).

use domain::AppError;
use domain::wire::ApiTokens;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::api::context, backend::api_tokens, domain::Permission, domain::wire::NewApiToken};

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
