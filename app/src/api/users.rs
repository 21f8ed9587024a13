//! Server functions for administrators working on accounts. Each checks the
//! permission itself; the organisation comes from the session, never from
//! the request.

use domain::AppError;
use domain::wire::{NewUserHints, UserDetail, UserListPage};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::api::context,
    backend::accounts::administration::{self, AddUserForm},
    backend::accounts::users::AccountKind,
    backend::onboarding::links::LinkPurpose,
    domain::wire::UserListItem,
    domain::{Permission, PersonForm},
};

/// Live hints for the Add a user form, in one round trip: whether the
/// username is free across all organisations (with alternatives), and the
/// organisation's accounts that look like the one being added.
#[server(prefix = "/fn", endpoint = "add_user_hints")]
pub async fn add_user_hints(
    first_name: String,
    last_name: String,
    email: String,
    username: String,
    generate_username: bool,
) -> Result<NewUserHints, AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    let state = context::state()?;
    let person = PersonForm {
        first_name: &first_name,
        last_name: &last_name,
        email: &email,
        username: (!generate_username).then_some(username.as_str()),
        initials: None,
    };
    let username = if username.is_empty() && !generate_username {
        None
    } else {
        Some(administration::check_username(&state, &person).await?)
    };
    let similar =
        administration::similar_accounts(&state, &admin, &first_name, &last_name, &email).await?;
    Ok(NewUserHints { username, similar })
}

#[server(prefix = "/fn", endpoint = "add_user")]
pub async fn add_user(
    first_name: String,
    last_name: String,
    email: String,
    #[server(default)] generate_username: Option<String>,
    #[server(default)] username: String,
    initials: String,
    #[server(default)] api_user: Option<String>,
    #[server(default)] send_welcome_email: Option<String>,
) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    let form = AddUserForm {
        first_name,
        last_name,
        email,
        username: generate_username.is_none().then_some(username),
        initials: Some(initials),
        api_user: api_user.is_some(),
        send_welcome_email: send_welcome_email.is_some(),
    };
    let id = administration::add_user(
        &context::state()?,
        &admin,
        &form,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{id}"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "user")]
pub async fn user(id: i64) -> Result<UserDetail, AppError> {
    let admin = context::require(Permission::UsersView).await?;
    let state = context::state()?;
    let manages_users = backend::access::require(&state.db.pool, &admin, Permission::UsersManage)
        .await
        .is_ok();
    administration::detail(&state, &admin, id, manages_users).await
}

#[server(prefix = "/fn", endpoint = "update_user")]
pub async fn update_user(
    id: i64,
    first_name: String,
    last_name: String,
    email: String,
    initials: String,
) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    let client = context::client()?;
    administration::update_details(
        &context::state()?,
        &admin,
        id,
        &first_name,
        &last_name,
        &email,
        &initials,
        &client.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{id}?saved=details"));
    Ok(())
}

/// `kind` is `welcome` or `set_password`.
#[server(prefix = "/fn", endpoint = "send_user_email")]
pub async fn send_user_email(id: i64, kind: String) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    let purpose = match kind.as_str() {
        "welcome" => LinkPurpose::Welcome,
        "set_password" => LinkPurpose::SetPassword,
        _ => return Err(AppError::BadRequest("Unknown kind of email".into())),
    };
    administration::send_email(
        &context::state()?,
        &admin,
        id,
        purpose,
        &context::client()?.address,
    )
    .await?;
    leptos_axum::redirect(&format!("/users/{id}?sent={kind}"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "set_user_active")]
pub async fn set_user_active(id: i64, active: bool) -> Result<(), AppError> {
    let admin = context::require(Permission::UsersManage).await?;
    administration::set_active(
        &context::state()?,
        &admin,
        id,
        active,
        &context::client()?.address,
    )
    .await?;
    let done = if active { "reactivated" } else { "deactivated" };
    leptos_axum::redirect(&format!("/users/{id}?saved={done}"));
    Ok(())
}

/// One page of the organisation's accounts. Parameters are as the Users
/// page's address carries them; anything unknown is ignored.
#[server(prefix = "/fn", endpoint = "list_users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] state: String,
    #[server(default)] kind: String,
    #[server(default)] sort: String,
    #[server(default)] dir: String,
    #[server(default)] after: String,
) -> Result<UserListPage, AppError> {
    use backend::accounts::search::{
        self, Count, Cursor, KindFilter, SortKey, StateFilter, UserQuery,
    };
    let admin = context::require(Permission::UsersView).await?;
    let state_ = context::state()?;
    let can_add = backend::access::require(&state_.db.pool, &admin, Permission::UsersManage)
        .await
        .is_ok();
    let page = search::search_users(
        &state_.db,
        &UserQuery {
            organisation_id: admin.working_organisation_id,
            text: q,
            state: StateFilter::parse(&state),
            kind: KindFilter::parse(&kind),
            sort: SortKey::parse(&sort).unwrap_or_default(),
            descending: dir == "desc",
            after: Cursor::decode(&after),
            limit: 50,
            now: state_.now(),
        },
    )
    .await?;
    let total = match page.total {
        Count::Exact(1) => "1 account".to_owned(),
        Count::Exact(n) => format!("{} accounts", thousands(n)),
        Count::AtLeast(n) => format!("{}+ accounts", thousands(n)),
    };
    Ok(UserListPage {
        rows: page
            .rows
            .into_iter()
            .map(|row| UserListItem {
                id: row.id,
                name: format!("{} {}", row.first_name, row.last_name),
                username: row.username,
                email: row.email,
                state: if row.activation_expired {
                    "activation expired".to_owned()
                } else {
                    row.state.as_str().to_owned()
                },
                is_api_user: row.kind == AccountKind::Api,
                created_at: backend::clock::format_utc(row.created_at),
            })
            .collect(),
        next: page.next.map(|c| c.encode()),
        total,
        can_add,
    })
}

/// 1234567 → "1,234,567".
#[cfg(feature = "ssr")]
fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
