//! The permission catalogue: fixed, defined here once for the browser and the
//! server. Roles (per organisation) are named sets of these.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    UsersView,
    UsersManage,
    RolesManage,
    ApiUsersManage,
    ApplicationsManage,
    AuditView,
    PupilsView,
    PupilsEdit,
    ReportsView,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::UsersView,
        Permission::UsersManage,
        Permission::RolesManage,
        Permission::ApiUsersManage,
        Permission::ApplicationsManage,
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
            Permission::ApplicationsManage => "applications.manage",
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
            Permission::ApplicationsManage => "Can manage applications",
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
            Permission::RolesManage | Permission::ApplicationsManage | Permission::AuditView => {
                "Administration"
            }
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

impl Permission {
    /// The permissions of `needed` that `held` lacks, in catalogue order, once
    /// each: what stands between an actor and an account or a grant.
    pub fn lacking(
        held: &[Permission],
        needed: impl IntoIterator<Item = Permission>,
    ) -> Vec<Permission> {
        let mut lacking: Vec<Permission> = needed
            .into_iter()
            .filter(|permission| !held.contains(permission))
            .collect();
        lacking.sort_unstable();
        lacking.dedup();
        lacking
    }

    /// Permissions as administrators read them in a sentence:
    /// "Can view reports", "Can view users and Can view reports".
    pub fn describe(permissions: &[Permission]) -> String {
        let labels: Vec<&str> = permissions.iter().map(|p| p.label()).collect();
        match labels.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lacking_lists_what_is_not_held_once_in_catalogue_order() {
        let held = [Permission::UsersView, Permission::UsersManage];
        assert_eq!(
            Permission::lacking(
                &held,
                [
                    Permission::PupilsEdit,
                    Permission::UsersView,
                    Permission::PupilsView,
                    Permission::PupilsEdit
                ]
            ),
            [Permission::PupilsView, Permission::PupilsEdit]
        );
        assert!(Permission::lacking(&held, [Permission::UsersManage]).is_empty());
        assert!(Permission::lacking(&[], []).is_empty());
    }

    #[test]
    fn permissions_read_as_a_sentence() {
        assert_eq!(Permission::describe(&[]), "");
        assert_eq!(
            Permission::describe(&[Permission::ReportsView]),
            "Can view reports"
        );
        assert_eq!(
            Permission::describe(&[
                Permission::UsersView,
                Permission::PupilsView,
                Permission::ReportsView
            ]),
            "Can view users, Can view pupil-level data and Can view reports"
        );
    }

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
                "applications.manage",
                "audit.view",
                "pupils.view",
                "pupils.edit"
            ]
        );
    }
}
