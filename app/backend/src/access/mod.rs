//! Effective permissions and the one permission guard.
//!
//! A user's permissions are the union of their roles' permissions and the
//! permissions of the roles in their profiles, counting only roles and
//! profiles of the user's own organisation. They are read from the database
//! on every check (no cache), so a change holds at the next request on every
//! replica. Every server function checks with [`require`] (through
//! `context::require`) and then works only in `SignedIn::working_organisation_id`:
//! the caller's organisation, or the one a platform administrator chose.

pub mod actor;
pub mod roles;

use crate::access::actor::Actor;
use crate::accounts::users::Account;
use crate::clock::UnixTime;
use crate::db::Backend;
use domain::AppError;
use domain::Permission;
use std::sync::Arc;

/// The role the first administrator of an organisation receives.
pub const ADMINISTRATOR_ROLE: &str = "Administrator";

/// Roles every new organisation starts with (editable afterwards).
const STARTER_ROLES: [(&str, &str, &[Permission]); 4] = [
    // Every permission: nobody acts on an account holding more than they do,
    // and the organisation's administrators must reach every account.
    (
        ADMINISTRATOR_ROLE,
        "Holds every permission: manages all accounts, roles, API users and the audit log",
        &Permission::ALL,
    ),
    (
        "User administrator",
        "Adds, edits and deactivates accounts",
        &[Permission::UsersView, Permission::UsersManage],
    ),
    (
        "Teacher",
        "Works with pupil-level data",
        &[
            Permission::PupilsView,
            Permission::PupilsEdit,
            Permission::ReportsView,
        ],
    ),
    (
        "Office staff",
        "Looks people up and reads reports",
        &[Permission::UsersView, Permission::ReportsView],
    ),
];

/// Profiles every new organisation starts with, made of starter roles
/// (migration 0005 gave them to the organisations that existed before).
const STARTER_PROFILES: [(&str, &str, &[&str]); 3] = [
    (
        "Office administrator",
        "Runs the office: manages accounts and reads reports",
        &["User administrator", "Office staff"],
    ),
    (
        "Teaching staff",
        "Teaches: works with pupil-level data and reads reports",
        &["Teacher"],
    ),
    (
        "Head of department",
        "Teaches, looks colleagues up and reads reports",
        &["Teacher", "Office staff"],
    ),
];

/// Creates the starter roles and profiles of a new organisation.
pub async fn create_starter_access(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    organisation_id: i64,
) -> Result<(), sqlx::Error> {
    for (name, description, permissions) in STARTER_ROLES {
        let (role_id,): (i64,) = sqlx::query_as(
            "INSERT INTO roles (organisation_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(organisation_id)
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        for permission in permissions {
            sqlx::query("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)")
                .bind(role_id)
                .bind(permission.key())
                .execute(&mut *conn)
                .await?;
        }
    }
    for (name, description, roles) in STARTER_PROFILES {
        let (profile_id,): (i64,) = sqlx::query_as(
            "INSERT INTO profiles (organisation_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(organisation_id)
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        for role in roles {
            sqlx::query(
                "INSERT INTO profile_roles (profile_id, role_id, organisation_id)
                 SELECT $1, id, organisation_id FROM roles WHERE organisation_id = $2 AND name = $3",
            )
            .bind(profile_id)
            .bind(organisation_id)
            .bind(role)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Gives a user the organisation's role called `role_name`.
pub async fn grant_role_by_name(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    organisation_id: i64,
    role_name: &str,
    granted_by: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_roles (user_id, role_id, granted_at, granted_by)
         SELECT $1, id, $2, $3 FROM roles WHERE organisation_id = $4 AND name = $5",
    )
    .bind(user_id)
    .bind(now)
    .bind(granted_by)
    .bind(organisation_id)
    .bind(role_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// One way a user holds a permission: through `role`, given directly or as
/// part of `profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub permission: Permission,
    pub role: String,
    pub profile: Option<String>,
}

/// Every way `user_id` holds each of their permissions.
pub async fn grants_of<'c, E>(executor: E, user_id: i64) -> Result<Vec<Grant>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT rp.permission, r.name, CAST(NULL AS TEXT)
         FROM user_roles ur
         JOIN users u ON u.id = ur.user_id
         JOIN roles r ON r.id = ur.role_id AND r.organisation_id = u.organisation_id
         JOIN role_permissions rp ON rp.role_id = r.id
         WHERE ur.user_id = $1
         UNION ALL
         SELECT rp.permission, r.name, p.name
         FROM user_profiles up
         JOIN users u ON u.id = up.user_id
         JOIN profiles p ON p.id = up.profile_id AND p.organisation_id = u.organisation_id
         JOIN profile_roles pr ON pr.profile_id = p.id
         JOIN roles r ON r.id = pr.role_id AND r.organisation_id = u.organisation_id
         JOIN role_permissions rp ON rp.role_id = r.id
         WHERE up.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(executor)
    .await?;
    let mut grants: Vec<Grant> = rows
        .into_iter()
        .filter_map(|(key, role, profile)| {
            Permission::from_key(&key).map(|permission| Grant {
                permission,
                role,
                profile,
            })
        })
        .collect();
    grants.sort_by(|a, b| {
        (a.permission, &a.profile, &a.role).cmp(&(b.permission, &b.profile, &b.role))
    });
    Ok(grants)
}

/// Everything a user may do: the union of their roles' and profiles'
/// permissions, in catalogue order.
pub async fn permissions_of<'c, E>(
    executor: E,
    user_id: i64,
) -> Result<Vec<Permission>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let mut permissions: Vec<Permission> = grants_of(executor, user_id)
        .await?
        .into_iter()
        .map(|grant| grant.permission)
        .collect();
    permissions.dedup();
    Ok(permissions)
}

/// Why `actor` may not act on the account `target` (its details, links,
/// two-factor authentication, sessions, state, tokens, roles and profiles),
/// or `None` when they may. Nobody gets more than they hold: the account's
/// permissions must be within the actor's own, or acting on it (a link to
/// an address the actor chose, say) would hand the actor its power; and a
/// platform administrator's account is for platform administrators only.
pub async fn refusal_to_act_on(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    target: &Account,
) -> Result<Option<String>, sqlx::Error> {
    refusal(conn, actor.user_id, actor.is_platform_admin(), target).await
}

/// `refusal_to_act_on` for the account `actor_id`, read now (the issuer of
/// a link, say, who is not the one making this request).
pub async fn refusal_for(
    conn: &mut sqlx::AnyConnection,
    actor_id: i64,
    target: &Account,
) -> Result<Option<String>, sqlx::Error> {
    let (is_platform_admin,): (i64,) =
        sqlx::query_as("SELECT is_platform_admin FROM users WHERE id = $1")
            .bind(actor_id)
            .fetch_one(&mut *conn)
            .await?;
    refusal(conn, actor_id, is_platform_admin == 1, target).await
}

async fn refusal(
    conn: &mut sqlx::AnyConnection,
    actor_id: i64,
    actor_is_platform_admin: bool,
    target: &Account,
) -> Result<Option<String>, sqlx::Error> {
    if target.is_platform_admin() && !actor_is_platform_admin {
        return Ok(Some(format!(
            "{} is a platform administrator: only a platform administrator can change this account",
            target.full_name()
        )));
    }
    let held = permissions_of(&mut *conn, actor_id).await?;
    let lacking = Permission::lacking(&held, permissions_of(&mut *conn, target.id).await?);
    Ok((!lacking.is_empty()).then(|| {
        format!(
            "{} holds permissions you do not hold ({}): only someone who holds them can change this account",
            target.full_name(),
            Permission::describe(&lacking)
        )
    }))
}

/// Refuses (403, saying why) unless `actor` may act on `target`.
pub async fn require_reach(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    target: &Account,
) -> Result<(), AppError> {
    match refusal_to_act_on(conn, actor, target).await? {
        Some(reason) => Err(AppError::Overreach(reason)),
        None => Ok(()),
    }
}

/// How many people of the organisation who can sign in (pending or active)
/// hold `roles.manage`.
pub async fn role_managers(
    conn: &mut sqlx::AnyConnection,
    organisation_id: i64,
) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM users u
         WHERE u.organisation_id = $1 AND u.kind = 'person' AND u.state <> 'deactivated'
           AND EXISTS (
               SELECT 1 FROM user_roles ur
               JOIN roles r ON r.id = ur.role_id AND r.organisation_id = u.organisation_id
               JOIN role_permissions rp ON rp.role_id = r.id
               WHERE ur.user_id = u.id AND rp.permission = $2
               UNION ALL
               SELECT 1 FROM user_profiles up
               JOIN profile_roles pr ON pr.profile_id = up.profile_id
               JOIN role_permissions rp ON rp.role_id = pr.role_id
               WHERE up.user_id = u.id AND rp.permission = $2
           )",
    )
    .bind(organisation_id)
    .bind(Permission::RolesManage.key())
    .fetch_one(conn)
    .await?;
    Ok(count)
}

/// Refuses a change that leaves nobody in the organisation able to manage
/// roles and profiles (when somebody could before): nobody but a platform
/// administrator could undo it.
pub async fn keep_a_role_manager(
    conn: &mut sqlx::AnyConnection,
    organisation_id: i64,
    managers_before: i64,
) -> Result<(), AppError> {
    if managers_before > 0 && role_managers(conn, organisation_id).await? == 0 {
        return Err(AppError::Conflict(
            "This would leave nobody in the organisation able to manage roles and profiles. Give that permission to someone else first".into(),
        ));
    }
    Ok(())
}

/// Two columns for a statement over `users u`, so that whoever reads the
/// account of a request (a session, an API token) reads what it holds in
/// the same statement: the permission keys of the person's roles
/// (`role_permissions`) and of their profiles' roles
/// (`profile_permissions`), comma-separated, NULL for none; the grants as
/// [`grants_of`] reads them. [`held_from`] makes them a list.
pub fn held_columns(backend: Backend) -> String {
    let aggregate = match backend {
        Backend::Postgres => "string_agg",
        Backend::Sqlite => "group_concat",
    };
    format!(
        "(SELECT {aggregate}(rp.permission, ',')
          FROM user_roles ur
          JOIN roles r ON r.id = ur.role_id AND r.organisation_id = u.organisation_id
          JOIN role_permissions rp ON rp.role_id = r.id
          WHERE ur.user_id = u.id) AS role_permissions,
         (SELECT {aggregate}(rp.permission, ',')
          FROM user_profiles up
          JOIN profiles p ON p.id = up.profile_id AND p.organisation_id = u.organisation_id
          JOIN profile_roles pr ON pr.profile_id = p.id
          JOIN roles r ON r.id = pr.role_id AND r.organisation_id = u.organisation_id
          JOIN role_permissions rp ON rp.role_id = r.id
          WHERE up.user_id = u.id) AS profile_permissions"
    )
}

/// The permissions in [`held_columns`], once each, in catalogue order.
pub fn held_from(
    role_permissions: Option<&str>,
    profile_permissions: Option<&str>,
) -> Arc<[Permission]> {
    let mut held: Vec<Permission> = [role_permissions, profile_permissions]
        .into_iter()
        .flatten()
        .flat_map(|keys| keys.split(','))
        .filter_map(Permission::from_key)
        .collect();
    held.sort();
    held.dedup();
    held.into()
}

/// What `actor` holds now: as read with this request's session or token,
/// or from the database.
pub async fn held(pool: &sqlx::AnyPool, actor: &Actor) -> Result<Vec<Permission>, sqlx::Error> {
    match &actor.held {
        Some(held) => Ok(held.to_vec()),
        None => permissions_of(pool, actor.user_id).await,
    }
}

/// Refuses unless `user` holds `permission` now (as this request began).
pub async fn require(
    pool: &sqlx::AnyPool,
    user: &Actor,
    permission: Permission,
) -> Result<(), AppError> {
    if held(pool, user).await?.contains(&permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
