//! The REST API, `/api/v1`: JSON for programs that provision accounts (HR
//! and student systems), authenticated by API users' bearer tokens only.
//! Handlers are thin, like the server functions: check the permission, call
//! the backend, answer with JSON or a [`problem::Problem`]. The OpenAPI 3.1
//! document (`/api/v1/openapi.json`) is generated from the handlers
//! themselves, so it cannot drift from what the routes do.

pub mod extract;
pub mod problem;
pub mod reference;
pub mod users;

use crate::access;
use crate::access::roles;
use crate::clock::format_rfc3339;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use domain::Permission;
use extract::ApiCaller;
use problem::{PROBLEM_JSON, Problem};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        version = "1",
        description = "Accounts, roles and profiles of one organisation, for programs. Every request \
                       carries an API user's token: `Authorization: Bearer gat_…`. The API user's \
                       roles decide what it may do, exactly as for people. Errors are \
                       `application/problem+json` (RFC 9457)."
    ),
    components(schemas(
        Problem,
        problem::FieldProblem,
        crate::accounts::search::StateFilter,
        crate::accounts::search::KindFilter,
        crate::accounts::search::SortKey,
        users::Direction
    )),
    tags(
        (name = "Users", description = "The organisation's accounts"),
        (name = "Roles and profiles", description = "What accounts may do"),
        (name = "Caller", description = "The API user calling"),
    )
)]
struct ApiDoc;

/// The API's routes and its OpenAPI document, made together.
pub fn routes() -> (axum::Router<AppState>, OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(whoami))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::send_email))
        .routes(routes!(users::deactivate_user))
        .routes(routes!(users::reactivate_user))
        .routes(routes!(users::give_role, users::take_away_role))
        .routes(routes!(users::give_profile, users::take_away_profile))
        .routes(routes!(list_roles))
        .routes(routes!(list_profiles))
        .split_for_parts();
    // After the routes are in: it adds to every operation.
    CommonResponses.modify(&mut document);
    (router, document)
}

/// The API's OpenAPI document.
pub fn document() -> OpenApi {
    routes().1
}

/// Everything under `/api/`: the routes, `/api/v1/openapi.json`, and a
/// problem answer for any other address.
pub fn router() -> axum::Router<AppState> {
    let (routes, document) = routes();
    let json = document.to_pretty_json().unwrap_or_default();
    routes
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let json = json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        json,
                    )
                }
            }),
        )
        .route("/api/{*rest}", axum::routing::any(no_such_endpoint))
}

/// Refuses unless the calling API user holds `permission` now.
pub(crate) async fn require(
    state: &AppState,
    caller: &ApiCaller,
    permission: Permission,
) -> Result<(), Problem> {
    Ok(access::require(&state.db.pool, &caller.actor, permission).await?)
}

/// The responses every operation can give, added to each so the document
/// holds them all: no token (401), not allowed (403), too many requests
/// (429); and 400/404 where a query, body or id is read, 413/422 where a
/// body is.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(operation);
            }
        }
    }
}

fn add_problems(operation: &mut Operation) {
    let reads_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
        || operation.request_body.is_some();
    let mut common = vec![
        (
            "401",
            "No token, or one that is unknown, expired or revoked",
        ),
        (
            "403",
            "The API user's roles do not allow this, or the account it acts on (or what it would give) holds permissions the API user does not",
        ),
        (
            "429",
            "The token has made too many requests this minute (see `Retry-After`)",
        ),
    ];
    if reads_input {
        common.push(("400", "A query, id or body that cannot be read"));
        common.push((
            "404",
            "No such account, role or profile in the organisation",
        ));
    }
    if operation.request_body.is_some() {
        common.push(("413", "A body larger than 64 KiB"));
        common.push(("422", "A field is invalid"));
    }
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .into()
            });
    }
}

/// The calling API user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub organisation: users::Named,
    pub token: CallerToken,
    /// What the API user's roles and profiles allow (keys such as `users.manage`).
    pub permissions: Vec<String>,
}

/// The token of this request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CallerToken {
    pub id: i64,
    pub name: String,
    /// Its first characters, as the API user's page lists it.
    pub prefix: String,
    /// RFC 3339; `null` for a token that does not expire.
    pub expires_at: Option<String>,
}

/// Who is calling: the API user, its organisation, the token and its permissions.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "Caller",
    responses((status = 200, description = "The caller", body = Caller)))]
pub async fn whoami(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Caller>, Problem> {
    let (actor, token) = (caller.actor, caller.token);
    let permissions = access::held(&state.db.pool, &actor).await?;
    Ok(Json(Caller {
        user_id: actor.user_id,
        username: actor.username,
        first_name: actor.first_name,
        last_name: actor.last_name,
        organisation: users::Named {
            id: actor.organisation_id,
            name: actor.organisation_name,
        },
        token: CallerToken {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            expires_at: token.expires_at.map(format_rfc3339),
        },
        permissions: permissions.iter().map(|p| p.key().to_owned()).collect(),
    }))
}

/// A role of the organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Permission keys, such as `users.view`.
    pub permissions: Vec<String>,
    /// Holders must use two-factor authentication (people; API users use tokens).
    pub requires_2fa: bool,
}

/// A profile of the organisation: a named set of roles.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub roles: Vec<users::Named>,
    pub requires_2fa: bool,
}

/// The organisation's roles, by name (as the user page offers them).
#[utoipa::path(get, path = "/api/v1/roles", tag = "Roles and profiles",
    responses((status = 200, description = "Every role", body = [Role])),
    extensions(("x-permission" = json!("users.view"))))]
pub async fn list_roles(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<Role>>, Problem> {
    require(&state, &caller, Permission::UsersView).await?;
    let roles = roles::list_roles(&state, &caller.actor).await?;
    Ok(Json(
        roles
            .into_iter()
            .map(|role| Role {
                id: role.id,
                name: role.name,
                description: role.description,
                permissions: role
                    .permissions
                    .iter()
                    .map(|p| p.key().to_owned())
                    .collect(),
                requires_2fa: role.requires_2fa,
            })
            .collect(),
    ))
}

/// The organisation's profiles, by name, with their roles.
#[utoipa::path(get, path = "/api/v1/profiles", tag = "Roles and profiles",
    responses((status = 200, description = "Every profile", body = [Profile])),
    extensions(("x-permission" = json!("users.view"))))]
pub async fn list_profiles(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<Profile>>, Problem> {
    require(&state, &caller, Permission::UsersView).await?;
    let profiles = roles::list_profiles(&state, &caller.actor).await?;
    Ok(Json(
        profiles
            .into_iter()
            .map(|profile| Profile {
                id: profile.id,
                name: profile.name,
                description: profile.description,
                roles: profile
                    .roles
                    .into_iter()
                    .map(|(id, name)| users::Named { id, name })
                    .collect(),
                requires_2fa: profile.requires_2fa,
            })
            .collect(),
    ))
}

/// Anything else under `/api/`: a problem, not the HTML not-found page.
async fn no_such_endpoint() -> Problem {
    Problem::not_found("There is no such endpoint: see /api/v1/openapi.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(document: &OpenApi) -> Vec<(String, &Operation)> {
        document
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                [
                    ("GET", &item.get),
                    ("PUT", &item.put),
                    ("POST", &item.post),
                    ("DELETE", &item.delete),
                    ("PATCH", &item.patch),
                ]
                .into_iter()
                .filter_map(move |(method, op)| {
                    op.as_ref().map(|op| (format!("{method} {path}"), op))
                })
            })
            .collect()
    }

    #[test]
    fn the_document_is_openapi_3_1_and_needs_a_bearer_token() {
        let json = serde_json::to_value(document()).expect("json");
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(
            json["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(json["security"][0]["bearer"], serde_json::json!([]));
    }

    #[test]
    fn every_operation_documents_its_problems_as_problem_json() {
        let document = document();
        let operations = operations(&document);
        assert!(operations.len() >= 13, "{}", operations.len());
        for (name, operation) in operations {
            for status in ["401", "403", "429"] {
                let response = operation
                    .responses
                    .responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{name} lacks {status}"));
                let json = serde_json::to_value(response).expect("json");
                assert!(
                    json["content"][PROBLEM_JSON].is_object(),
                    "{name} {status}: {json}"
                );
            }
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves() {
        fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                        found.push(target.clone());
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let json = serde_json::to_value(document()).expect("json");
        let mut found = Vec::new();
        refs(&json, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(
                json["components"]["schemas"][name].is_object(),
                "{target} is not in the document"
            );
        }
    }

    #[test]
    fn every_route_is_in_the_document() {
        let document = document();
        let paths: Vec<&String> = document.paths.paths.keys().collect();
        for path in [
            "/api/v1/whoami",
            "/api/v1/users",
            "/api/v1/users/{id}",
            "/api/v1/users/{id}/emails",
            "/api/v1/users/{id}/deactivate",
            "/api/v1/users/{id}/reactivate",
            "/api/v1/users/{id}/roles/{role_id}",
            "/api/v1/users/{id}/profiles/{profile_id}",
            "/api/v1/roles",
            "/api/v1/profiles",
        ] {
            assert!(paths.iter().any(|p| *p == path), "{path} in {paths:?}");
        }
    }
}
