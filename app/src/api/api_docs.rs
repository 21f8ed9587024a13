//! The REST API's reference for people (`/api/docs`), read on the server
//! from the OpenAPI document of `/api/v1`. Public: it says nothing that
//! `/api/v1/openapi.json` does not.

use domain::AppError;
use domain::wire::ApiReference;
use leptos::prelude::*;

/// The API reference; public, like the OpenAPI document it is made from.
/// (Its call is `LoadApiReference`: `ApiReference` names what it answers.)
#[server(name = LoadApiReference, prefix = "/fn", endpoint = "api_reference")]
pub async fn api_reference() -> Result<ApiReference, AppError> {
    Ok(backend::rest::reference::reference())
}
