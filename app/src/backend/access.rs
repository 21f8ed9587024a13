//! Roles and effective permissions. Permissions are read from the database on
//! every check, so a change holds at the next request on every replica.

use super::clock::UnixTime;
use super::sessions::SignedIn;
use crate::domain::Permission;
use crate::error::AppError;

/// Roles every new organisation starts with (editable afterwards).
const STARTER_ROLES: [(&str, &str, &[Permission]); 4] = [
    (
        ADMINISTRATOR_ROLE,
        "Manages accounts, roles, API users and reads the audit log",
        &[
            Permission::UsersView,
            Permission::UsersManage,
            Permission::RolesManage,
            Permission::ApiUsersManage,
            Permission::AuditView,
        ],
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

/// The role the first administrator of an organisation receives.
pub const ADMINISTRATOR_ROLE: &str = "Administrator";

/// Creates the starter roles of a new organisation.
pub async fn create_starter_roles(
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

/// Everything a user may do: the union of their roles' permissions.
pub async fn permissions_of(
    pool: &sqlx::AnyPool,
    user_id: i64,
) -> Result<Vec<Permission>, sqlx::Error> {
    let keys: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT rp.permission FROM user_roles ur
         JOIN role_permissions rp ON rp.role_id = ur.role_id
         WHERE ur.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let mut permissions: Vec<Permission> = keys
        .iter()
        .filter_map(|(k,)| Permission::from_key(k))
        .collect();
    permissions.sort();
    Ok(permissions)
}

/// Refuses unless `user` holds `permission` now.
pub async fn require(
    pool: &sqlx::AnyPool,
    user: &SignedIn,
    permission: Permission,
) -> Result<(), AppError> {
    if permissions_of(pool, user.user_id)
        .await?
        .contains(&permission)
    {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
