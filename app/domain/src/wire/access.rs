//! Roles, profiles and who holds them, as their pages show them.

use crate::Permission;
use serde::{Deserialize, Serialize};

/// A line of the Roles page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub member_count: i64,
    /// Holders must use two-factor authentication.
    pub requires_2fa: bool,
}

/// A line of the Profiles page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The roles' ids and names, by name.
    pub roles: Vec<(i64, String)>,
    pub member_count: i64,
    pub requires_2fa: bool,
}

/// A role's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDetail {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    /// The profiles this role is part of.
    pub profiles: Vec<String>,
    pub members: Vec<AccessMember>,
}

/// A profile's page: every role of the organisation, those in it ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDetail {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub roles: Vec<AccessChoice>,
    pub members: Vec<AccessMember>,
}

/// Someone holding a role or profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMember {
    pub user_id: i64,
    pub name: String,
    pub username: String,
    pub state: String,
    /// The profile through which they hold the role; `None` when given directly.
    pub through: Option<String>,
}

/// A role or profile offered as a checkbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessChoice {
    pub id: i64,
    pub name: String,
    /// Ticked now.
    pub held: bool,
    /// Carries a permission whose holders must use two-factor authentication.
    pub requires_2fa: bool,
    /// What it carries: permission labels of a role, role names of a profile.
    pub includes: Vec<String>,
    /// The viewer may not give or take it away (it carries a permission
    /// they do not hold).
    pub locked: bool,
}

/// The *Roles and profiles* section of a user page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccess {
    pub user_id: i64,
    pub is_api_user: bool,
    /// The viewer may give and take away this account's roles and profiles
    /// (holds `users.manage`, and it is neither their own account nor one
    /// holding more than they do).
    pub can_assign: bool,
    /// Why a viewer holding `users.manage` may not change them.
    pub refusal: Option<String>,
    /// The viewer may open role and profile pages (`roles.manage`).
    pub can_edit_roles: bool,
    pub roles: Vec<AccessChoice>,
    pub profiles: Vec<AccessChoice>,
    pub effective: Vec<EffectivePermission>,
}

/// A permission the user holds and every role or profile giving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePermission {
    pub permission: Permission,
    /// "Role Teacher", "Profile Teaching staff (role Teacher)".
    pub granted_by: Vec<String>,
}
