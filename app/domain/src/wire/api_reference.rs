//! The REST API's reference for people (`/api/docs`), read from the
//! OpenAPI document into plain data the page renders.

use serde::{Deserialize, Serialize};

/// What the API page shows, made from the OpenAPI document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub version: String,
    pub description: String,
    /// The groups of operations, in the document's tag order.
    pub groups: Vec<ApiGroup>,
    pub schemas: Vec<ApiSchema>,
}

/// Operations that share a tag ("Users", "Roles and profiles", …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGroup {
    pub name: String,
    pub description: String,
    pub operations: Vec<ApiOperation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOperation {
    /// Upper case: `GET`, `POST`, …
    pub method: String,
    pub path: String,
    /// Unique on the page, for links: `get-api-v1-users-id`.
    pub anchor: String,
    pub summary: String,
    pub description: String,
    /// The permission key (`users.manage`) and its label, when one is needed.
    pub permission: Option<ApiPermission>,
    pub parameters: Vec<ApiParameter>,
    pub request_body: Option<ApiType>,
    pub responses: Vec<ApiResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiPermission {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiParameter {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub required: bool,
    pub kind: ApiType,
    pub description: String,
}

/// A type as text (`string`, `array of User`), and the schema it names, if
/// exactly one, so the page can link to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiType {
    pub text: String,
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: String,
    pub description: String,
    pub body: Option<ApiType>,
}

/// A component schema: an object with properties, or an enumeration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSchema {
    pub name: String,
    pub description: String,
    pub properties: Vec<ApiProperty>,
    pub enum_values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiProperty {
    pub name: String,
    pub kind: ApiType,
    pub required: bool,
    pub description: String,
}
