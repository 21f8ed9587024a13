//! `/api/v1/users`: the organisation's accounts. Every handler checks the
//! permission and then calls the same backend functions as the server
//! functions, so the rules (validation, username generation, uniqueness,
//! the lock on details after activation, who may hand out which role) are
//! written once.

use crate::access::roles::{self, AccessRequest, Kind};
use crate::accounts::administration::{self, AddUserForm};
use crate::accounts::search::{self, Count, Cursor, KindFilter, SortKey, StateFilter, UserQuery};
use crate::accounts::users::Account;
use crate::accounts::users::{AccountKind, AccountState};
use crate::clock::format_rfc3339;
use crate::onboarding::links::LinkPurpose;
use crate::rest::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::rest::problem::Problem;
use crate::rest::require;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A person, or an API user (programs only). Fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKindName {
    Person,
    Api,
}

/// An account's state. `pending` until activated (a person: from the welcome
/// email; an API user: by its first token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStateName {
    Pending,
    Active,
    Deactivated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// A role or profile, by id and name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// An account in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserSummary {
    pub id: i64,
    pub kind: AccountKindName,
    pub state: AccountStateName,
    /// Pending, and no welcome link is left that works.
    pub activation_expired: bool,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub initials: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// An account with its roles, profiles and effective permissions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub kind: AccountKindName,
    pub state: AccountStateName,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub initials: String,
    pub created_at: String,
    pub activated_at: Option<String>,
    pub deactivated_at: Option<String>,
    /// While pending, administrators may change the details; after
    /// activation only the person does.
    pub details_editable: bool,
    /// Roles given directly.
    pub roles: Vec<Named>,
    pub profiles: Vec<Named>,
    /// Every permission the roles and profiles give (keys such as `users.view`).
    pub permissions: Vec<String>,
}

/// One page of accounts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub total: Total,
}

/// How many accounts match. Counting stops at 1000 (`exact` is then false).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Total {
    pub count: i64,
    pub exact: bool,
}

/// List parameters, as the Users page has them.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Words to find in the first name, last name, username or email
    /// (accents and case ignored; 1–2 letters match the start, longer
    /// words anywhere).
    pub q: Option<String>,
    pub state: Option<StateFilter>,
    pub kind: Option<KindFilter>,
    pub sort: Option<SortKey>,
    pub dir: Option<Direction>,
    /// `next_cursor` of the previous page, with the same `sort` and `dir`.
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A new account. Without `username` it is made from the names (as the Add
/// a user form does); without `initials` they are suggested from the names.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    /// Unique in the organisation, deactivated accounts included.
    pub email: String,
    /// 5–30 of A–Z a–z 0–9 @ . - _, starting with a letter; unique across
    /// all organisations.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub initials: Option<String>,
    /// Default `person`.
    #[serde(default)]
    pub kind: Option<AccountKindName>,
    /// Email the person their activation link (people only). Default false.
    #[serde(default)]
    pub send_welcome_email: bool,
}

/// Changes to a pending account's details; fields left out stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsChange {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub initials: Option<String>,
}

fn kind_name(account_kind: AccountKind) -> AccountKindName {
    match account_kind {
        AccountKind::Api => AccountKindName::Api,
        AccountKind::Person => AccountKindName::Person,
    }
}

fn state_name(state: AccountState) -> AccountStateName {
    match state {
        AccountState::Active => AccountStateName::Active,
        AccountState::Deactivated => AccountStateName::Deactivated,
        AccountState::Pending => AccountStateName::Pending,
    }
}

/// The account `id` as the API shows it.
async fn user(state: &AppState, caller: &ApiCaller, id: i64) -> Result<User, Problem> {
    let account: Account = administration::account(state, &caller.actor, id).await?;
    let access = roles::user_access(state, &caller.actor, id).await?;
    let held = |choices: Vec<domain::wire::AccessChoice>| {
        choices
            .into_iter()
            .filter(|c| c.held)
            .map(|c| Named {
                id: c.id,
                name: c.name,
            })
            .collect()
    };
    Ok(User {
        id: account.id,
        kind: kind_name(account.kind),
        state: state_name(account.state),
        details_editable: account.state == AccountState::Pending && account.activated_at.is_none(),
        created_at: format_rfc3339(account.created_at),
        activated_at: account.activated_at.map(format_rfc3339),
        deactivated_at: account.deactivated_at.map(format_rfc3339),
        roles: held(access.roles),
        profiles: held(access.profiles),
        permissions: access
            .effective
            .iter()
            .map(|e| e.permission.key().to_owned())
            .collect(),
        first_name: account.first_name,
        last_name: account.last_name,
        email: account.email,
        username: account.username,
        initials: account.initials,
    })
}

/// Search and list the organisation's accounts, a page at a time.
#[utoipa::path(get, path = "/api/v1/users", tag = "Users",
    params(ListQuery),
    responses((status = 200, description = "A page of accounts", body = UserList)),
    extensions(("x-permission" = json!("users.view"))))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<UserList>, Problem> {
    require(&state, &caller, Permission::UsersView).await?;
    let sort = query.sort.unwrap_or_default();
    let descending = query.dir.unwrap_or_default() == Direction::Desc;
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            Cursor::decode(text)
                .filter(|c| c.is_for(sort, descending))
                .ok_or_else(|| {
                    Problem::bad_request(
                        Some("cursor"),
                        "This cursor was not given out for this sort order: start again without it",
                    )
                })?,
        ),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=search::MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(
            Some("limit"),
            format!("limit must be between 1 and {}", search::MAX_LIMIT),
        ));
    }
    let page = search::search_users(
        &state.db,
        &UserQuery {
            organisation_id: caller.actor.working_organisation_id,
            text: query.q.unwrap_or_default(),
            state: query.state,
            kind: query.kind,
            sort,
            descending,
            after,
            limit,
            now: state.now(),
        },
    )
    .await?;
    let total = match page.total {
        Count::Exact(count) => Total { count, exact: true },
        Count::AtLeast(count) => Total {
            count,
            exact: false,
        },
    };
    Ok(Json(UserList {
        items: page
            .rows
            .into_iter()
            .map(|row| UserSummary {
                id: row.id,
                kind: kind_name(row.kind),
                state: state_name(row.state),
                activation_expired: row.activation_expired,
                first_name: row.first_name,
                last_name: row.last_name,
                email: row.email,
                username: row.username,
                initials: row.initials,
                created_at: format_rfc3339(row.created_at),
            })
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
        total,
    }))
}

/// Add an account to the organisation.
#[utoipa::path(post, path = "/api/v1/users", tag = "Users",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created; `Location` is its address", body = User),
        (status = 422, description = "A field is invalid or taken (a taken username comes with free alternatives)", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<impl IntoResponse, Problem> {
    require(&state, &caller, Permission::UsersManage).await?;
    let form = AddUserForm {
        first_name: new.first_name,
        last_name: new.last_name,
        email: new.email,
        username: new.username,
        initials: new.initials,
        api_user: new.kind == Some(AccountKindName::Api),
        send_welcome_email: new.send_welcome_email,
    };
    let id = administration::add_user(&state, &caller.actor, &form, &caller.client_address).await?;
    let created = user(&state, &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/users/{id}"))],
        Json(created),
    ))
}

/// One account, with its roles, profiles and permissions.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "Users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = User)),
    extensions(("x-permission" = json!("users.view"))))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, Problem> {
    require(&state, &caller, Permission::UsersView).await?;
    Ok(Json(user(&state, &caller, id).await?))
}

/// Change the details of an account that has not been activated yet.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "Users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = DetailsChange,
    responses(
        (status = 200, description = "The changed account", body = User),
        (status = 409, description = "The account has been activated (its details are its owner's) or is deactivated", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid or taken", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<DetailsChange>,
) -> Result<Json<User>, Problem> {
    require(&state, &caller, Permission::UsersManage).await?;
    let account = administration::account(&state, &caller.actor, id).await?;
    administration::update_details(
        &state,
        &caller.actor,
        id,
        &change.first_name.unwrap_or(account.first_name),
        &change.last_name.unwrap_or(account.last_name),
        &change.email.unwrap_or(account.email),
        &change.initials.unwrap_or(account.initials),
        &caller.client_address,
    )
    .await?;
    Ok(Json(user(&state, &caller, id).await?))
}

/// Which email to send a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// The activation link, for a pending account (72 hours by default).
    Welcome,
    /// A link to choose a new password (1 hour by default).
    SetPassword,
}

/// An email to send.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub kind: EmailKind,
}

/// The email is on its way.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailQueued {
    /// When its link stops working (RFC 3339). Links sent before of the same kind no longer work.
    pub link_expires_at: String,
}

/// Send a person a fresh welcome or set-password email (a new link; older
/// links of that kind stop working).
#[utoipa::path(post, path = "/api/v1/users/{id}/emails", tag = "Users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Queued for delivery", body = EmailQueued),
        (status = 409, description = "An API user, a deactivated account, or a welcome email for an active one", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn send_email(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<EmailRequest>,
) -> Result<impl IntoResponse, Problem> {
    require(&state, &caller, Permission::UsersManage).await?;
    let purpose = match request.kind {
        EmailKind::Welcome => LinkPurpose::Welcome,
        EmailKind::SetPassword => LinkPurpose::SetPassword,
    };
    let expires_at =
        administration::send_email(&state, &caller.actor, id, purpose, &caller.client_address)
            .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EmailQueued {
            link_expires_at: format_rfc3339(expires_at),
        }),
    ))
}

async fn set_active(
    state: AppState,
    caller: ApiCaller,
    id: i64,
    active: bool,
) -> Result<Json<User>, Problem> {
    require(&state, &caller, Permission::UsersManage).await?;
    administration::set_active(&state, &caller.actor, id, active, &caller.client_address).await?;
    Ok(Json(user(&state, &caller, id).await?))
}

/// Deactivate an account: every session and API token of it stops working at
/// once, its email links too. Deactivating a deactivated account changes nothing.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "Users",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The deactivated account", body = User),
        (status = 409, description = "An API user cannot deactivate itself", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, Problem> {
    set_active(state, caller, id, false).await
}

/// Reactivate an account. None of its old sessions, tokens or links come back.
#[utoipa::path(post, path = "/api/v1/users/{id}/reactivate", tag = "Users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account, active again (or pending, if it was never activated)", body = User)),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn reactivate_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, Problem> {
    set_active(state, caller, id, true).await
}

async fn change_access(
    state: AppState,
    caller: ApiCaller,
    user_id: i64,
    request: AccessRequest<'_>,
) -> Result<Json<User>, Problem> {
    require(&state, &caller, Permission::UsersManage).await?;
    roles::save_user_access(
        &state,
        &caller.actor,
        user_id,
        request,
        &caller.client_address,
    )
    .await?;
    Ok(Json(user(&state, &caller, user_id).await?))
}

/// Give the account a role. Giving a role it holds changes nothing. A role
/// carrying `roles.manage` is given only by a holder of `roles.manage`.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role_id}", tag = "Roles and profiles",
    params(("id" = i64, Path, description = "The account's id"), ("role_id" = i64, Path, description = "The role's id")),
    responses((status = 200, description = "The account with the role", body = User)),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn give_role(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, role_id)): ApiPath<(i64, i64)>,
) -> Result<Json<User>, Problem> {
    change_access(state, caller, id, AccessRequest::Give(Kind::Role, role_id)).await
}

/// Take a role away from the account.
#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role_id}", tag = "Roles and profiles",
    params(("id" = i64, Path, description = "The account's id"), ("role_id" = i64, Path, description = "The role's id")),
    responses(
        (status = 200, description = "The account without the role", body = User),
        (status = 409, description = "Nobody in the organisation would be left able to manage roles", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn take_away_role(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, role_id)): ApiPath<(i64, i64)>,
) -> Result<Json<User>, Problem> {
    change_access(
        state,
        caller,
        id,
        AccessRequest::TakeAway(Kind::Role, role_id),
    )
    .await
}

/// Give the account a profile (a set of roles).
#[utoipa::path(put, path = "/api/v1/users/{id}/profiles/{profile_id}", tag = "Roles and profiles",
    params(("id" = i64, Path, description = "The account's id"), ("profile_id" = i64, Path, description = "The profile's id")),
    responses((status = 200, description = "The account with the profile", body = User)),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn give_profile(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, profile_id)): ApiPath<(i64, i64)>,
) -> Result<Json<User>, Problem> {
    change_access(
        state,
        caller,
        id,
        AccessRequest::Give(Kind::Profile, profile_id),
    )
    .await
}

/// Take a profile away from the account.
#[utoipa::path(delete, path = "/api/v1/users/{id}/profiles/{profile_id}", tag = "Roles and profiles",
    params(("id" = i64, Path, description = "The account's id"), ("profile_id" = i64, Path, description = "The profile's id")),
    responses(
        (status = 200, description = "The account without the profile", body = User),
        (status = 409, description = "Nobody in the organisation would be left able to manage roles", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-permission" = json!("users.manage"))))]
pub async fn take_away_profile(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, profile_id)): ApiPath<(i64, i64)>,
) -> Result<Json<User>, Problem> {
    change_access(
        state,
        caller,
        id,
        AccessRequest::TakeAway(Kind::Profile, profile_id),
    )
    .await
}
