//! The permission catalogue: fixed, defined here once for the browser and the
//! server. Roles (per organisation) are named sets of these.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    UsersView,
    UsersManage,
    RolesManage,
    ApiUsersManage,
    AuditView,
    PupilsView,
    PupilsEdit,
    ReportsView,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::UsersView,
        Permission::UsersManage,
        Permission::RolesManage,
        Permission::ApiUsersManage,
        Permission::AuditView,
        Permission::PupilsView,
        Permission::PupilsEdit,
        Permission::ReportsView,
    ];

    /// The stable name stored in the database and used by the API.
    pub fn key(self) -> &'static str {
        match self {
            Permission::UsersView => "users.view",
            Permission::UsersManage => "users.manage",
            Permission::RolesManage => "roles.manage",
            Permission::ApiUsersManage => "api_users.manage",
            Permission::AuditView => "audit.view",
            Permission::PupilsView => "pupils.view",
            Permission::PupilsEdit => "pupils.edit",
            Permission::ReportsView => "reports.view",
        }
    }

    pub fn from_key(key: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.key() == key)
    }

    /// What administrators read.
    pub fn label(self) -> &'static str {
        match self {
            Permission::UsersView => "Can view users",
            Permission::UsersManage => "Can add, delete and manage users",
            Permission::RolesManage => "Can manage roles and profiles",
            Permission::ApiUsersManage => "Can manage API users and tokens",
            Permission::AuditView => "Can view the audit log",
            Permission::PupilsView => "Can view pupil-level data",
            Permission::PupilsEdit => "Can edit pupil-level data",
            Permission::ReportsView => "Can view reports",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Permission::UsersView | Permission::UsersManage | Permission::ApiUsersManage => {
                "Accounts"
            }
            Permission::RolesManage | Permission::AuditView => "Administration",
            Permission::PupilsView | Permission::PupilsEdit => "Pupil data",
            Permission::ReportsView => "Reports",
        }
    }

    /// Holders must use two-factor authentication: pupil-level data and every
    /// administrative permission.
    pub fn requires_2fa(self) -> bool {
        !matches!(self, Permission::UsersView | Permission::ReportsView)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_round_trips_through_its_key() {
        for permission in Permission::ALL {
            assert_eq!(Permission::from_key(permission.key()), Some(permission));
        }
        assert_eq!(Permission::from_key("users.delete"), None);
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<&str> = Permission::ALL.iter().map(|p| p.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Permission::ALL.len());
    }

    #[test]
    fn administrative_and_pupil_permissions_require_two_factor() {
        let required: Vec<&str> = Permission::ALL
            .into_iter()
            .filter(|p| p.requires_2fa())
            .map(Permission::key)
            .collect();
        assert_eq!(
            required,
            [
                "users.manage",
                "roles.manage",
                "api_users.manage",
                "audit.view",
                "pupils.view",
                "pupils.edit"
            ]
        );
    }
}
