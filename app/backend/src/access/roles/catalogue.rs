//! What the Roles, Profiles and user pages read: each role and profile
//! with what it carries and who holds it, and an account's access.

use super::Kind;
use super::grants::OWN_ACCESS;
use crate::access::actor::Actor;
use crate::access::{self, Grant};
use crate::accounts::administration;
use crate::state::AppState;
use domain::AppError;
use domain::Permission;
use domain::wire::{
    AccessChoice, AccessMember, EffectivePermission, ProfileDetail, ProfileSummary, RoleDetail,
    RoleSummary, UserAccess,
};
use std::collections::{BTreeSet, HashMap};

pub(super) struct CatalogueRole {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) permissions: Vec<Permission>,
}

pub(super) struct CatalogueProfile {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) role_ids: Vec<i64>,
}

/// The organisation's roles and profiles with what each carries, by name.
pub(super) struct Catalogue {
    roles: Vec<CatalogueRole>,
    profiles: Vec<CatalogueProfile>,
}

impl Catalogue {
    pub(super) async fn load(
        conn: &mut sqlx::AnyConnection,
        organisation_id: i64,
    ) -> Result<Catalogue, sqlx::Error> {
        let roles: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, name, description FROM roles WHERE organisation_id = $1 ORDER BY lower(name), id",
        )
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        let permissions: Vec<(i64, String)> = sqlx::query_as(
            "SELECT rp.role_id, rp.permission FROM role_permissions rp
             JOIN roles r ON r.id = rp.role_id WHERE r.organisation_id = $1",
        )
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        let profiles: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, name, description FROM profiles WHERE organisation_id = $1 ORDER BY lower(name), id",
        )
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        let profile_roles: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT profile_id, role_id FROM profile_roles WHERE organisation_id = $1",
        )
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        let roles = roles
            .into_iter()
            .map(|(id, name, description)| {
                let mut carried: Vec<Permission> = permissions
                    .iter()
                    .filter(|(role_id, _)| *role_id == id)
                    .filter_map(|(_, key)| Permission::from_key(key))
                    .collect();
                carried.sort();
                CatalogueRole {
                    id,
                    name,
                    description,
                    permissions: carried,
                }
            })
            .collect::<Vec<_>>();
        let profiles = profiles
            .into_iter()
            .map(|(id, name, description)| CatalogueProfile {
                id,
                name,
                description,
                // In the roles' (name) order.
                role_ids: roles
                    .iter()
                    .map(|r| r.id)
                    .filter(|role_id| profile_roles.contains(&(id, *role_id)))
                    .collect(),
            })
            .collect();
        Ok(Catalogue { roles, profiles })
    }

    /// The catalogue of `organisation_id`, outside any transaction.
    pub(super) async fn of(
        state: &AppState,
        organisation_id: i64,
    ) -> Result<Catalogue, sqlx::Error> {
        Catalogue::load(&mut *state.db.pool.acquire().await?, organisation_id).await
    }

    pub(super) fn role(&self, id: i64) -> Option<&CatalogueRole> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub(super) fn profile(&self, id: i64) -> Option<&CatalogueProfile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub(super) fn role_name(&self, id: i64) -> String {
        self.role(id).map(|r| r.name.clone()).unwrap_or_default()
    }

    /// `ids`, each a role (or each a profile) of the organisation, or "not found".
    pub(super) fn ids(&self, kind: Kind, ids: &[i64]) -> Result<BTreeSet<i64>, AppError> {
        ids.iter()
            .map(|id| {
                let known = match kind {
                    Kind::Role => self.role(*id).is_some(),
                    Kind::Profile => self.profile(*id).is_some(),
                };
                known.then_some(*id).ok_or_else(|| kind.not_found())
            })
            .collect()
    }

    /// Every permission that holding `role_ids` and `profile_ids` gives.
    pub(super) fn permissions_of_holding(
        &self,
        role_ids: &BTreeSet<i64>,
        profile_ids: &BTreeSet<i64>,
    ) -> BTreeSet<Permission> {
        let direct = role_ids
            .iter()
            .filter_map(|id| self.role(*id))
            .flat_map(|role| role.permissions.iter().copied());
        let through_profiles = profile_ids
            .iter()
            .filter_map(|id| self.profile(*id))
            .flat_map(|profile| self.profile_permissions(profile));
        direct.chain(through_profiles).collect()
    }

    pub(super) fn profile_permissions(&self, profile: &CatalogueProfile) -> BTreeSet<Permission> {
        profile
            .role_ids
            .iter()
            .filter_map(|id| self.role(*id))
            .flat_map(|r| r.permissions.iter().copied())
            .collect()
    }

    pub(super) fn role_choice(
        &self,
        role: &CatalogueRole,
        held: bool,
        locked: bool,
    ) -> AccessChoice {
        AccessChoice {
            id: role.id,
            name: role.name.clone(),
            held,
            requires_2fa: role.permissions.iter().any(|p| p.requires_2fa()),
            includes: role
                .permissions
                .iter()
                .map(|p| p.label().to_owned())
                .collect(),
            locked,
        }
    }

    pub(super) fn profile_choice(
        &self,
        profile: &CatalogueProfile,
        held: bool,
        locked: bool,
    ) -> AccessChoice {
        AccessChoice {
            id: profile.id,
            name: profile.name.clone(),
            held,
            requires_2fa: self
                .profile_permissions(profile)
                .iter()
                .any(|p| p.requires_2fa()),
            includes: profile
                .role_ids
                .iter()
                .map(|id| self.role_name(*id))
                .collect(),
            locked,
        }
    }
}

/// How many people hold each role (directly or through a profile) or each
/// profile, by id.
async fn member_counts(
    state: &AppState,
    kind: Kind,
    organisation_id: i64,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let sql = match kind {
        Kind::Role => {
            "SELECT m.role_id, COUNT(DISTINCT m.user_id) FROM (
                 SELECT ur.role_id, ur.user_id FROM user_roles ur
                 JOIN roles r ON r.id = ur.role_id WHERE r.organisation_id = $1
                 UNION
                 SELECT pr.role_id, up.user_id FROM profile_roles pr
                 JOIN user_profiles up ON up.profile_id = pr.profile_id WHERE pr.organisation_id = $1
             ) m GROUP BY m.role_id"
        }
        Kind::Profile => {
            "SELECT profile_id, COUNT(*) FROM user_profiles WHERE organisation_id = $1 GROUP BY profile_id"
        }
    };
    let rows: Vec<(i64, i64)> = sqlx::query_as(sql)
        .bind(organisation_id)
        .fetch_all(&state.db.pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The Roles page.
pub async fn list_roles(state: &AppState, admin: &Actor) -> Result<Vec<RoleSummary>, AppError> {
    let organisation_id = admin.working_organisation_id;
    let catalogue = Catalogue::of(state, organisation_id).await?;
    let members = member_counts(state, Kind::Role, organisation_id).await?;
    Ok(catalogue
        .roles
        .into_iter()
        .map(|role| RoleSummary {
            member_count: members.get(&role.id).copied().unwrap_or(0),
            requires_2fa: role.permissions.iter().any(|p| p.requires_2fa()),
            permissions: role.permissions,
            id: role.id,
            name: role.name,
            description: role.description,
        })
        .collect())
}

/// The Profiles page.
pub async fn list_profiles(
    state: &AppState,
    admin: &Actor,
) -> Result<Vec<ProfileSummary>, AppError> {
    let organisation_id = admin.working_organisation_id;
    let catalogue = Catalogue::of(state, organisation_id).await?;
    let members = member_counts(state, Kind::Profile, organisation_id).await?;
    Ok(catalogue
        .profiles
        .iter()
        .map(|profile| ProfileSummary {
            id: profile.id,
            name: profile.name.clone(),
            description: profile.description.clone(),
            roles: profile
                .role_ids
                .iter()
                .map(|id| (*id, catalogue.role_name(*id)))
                .collect(),
            member_count: members.get(&profile.id).copied().unwrap_or(0),
            requires_2fa: catalogue
                .profile_permissions(profile)
                .iter()
                .any(|p| p.requires_2fa()),
        })
        .collect())
}

/// People holding a role or profile, by name; `through` names the profile
/// when a role is held through one.
async fn members(
    state: &AppState,
    kind: Kind,
    organisation_id: i64,
    id: i64,
) -> Result<Vec<AccessMember>, sqlx::Error> {
    let sql = match kind {
        Kind::Role => {
            "SELECT u.id, u.first_name, u.last_name, u.username, u.state, CAST(NULL AS TEXT)
             FROM user_roles ur JOIN users u ON u.id = ur.user_id
             WHERE ur.role_id = $1 AND u.organisation_id = $2
             UNION ALL
             SELECT u.id, u.first_name, u.last_name, u.username, u.state, p.name
             FROM profile_roles pr
             JOIN profiles p ON p.id = pr.profile_id
             JOIN user_profiles up ON up.profile_id = p.id
             JOIN users u ON u.id = up.user_id
             WHERE pr.role_id = $1 AND u.organisation_id = $2"
        }
        Kind::Profile => {
            "SELECT u.id, u.first_name, u.last_name, u.username, u.state, CAST(NULL AS TEXT)
             FROM user_profiles up JOIN users u ON u.id = up.user_id
             WHERE up.profile_id = $1 AND u.organisation_id = $2"
        }
    };
    let mut rows: Vec<(i64, String, String, String, String, Option<String>)> = sqlx::query_as(sql)
        .bind(id)
        .bind(organisation_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.sort_by(|a, b| {
        (a.2.to_lowercase(), a.1.to_lowercase(), a.0, &a.5).cmp(&(
            b.2.to_lowercase(),
            b.1.to_lowercase(),
            b.0,
            &b.5,
        ))
    });
    Ok(rows
        .into_iter()
        .map(
            |(user_id, first_name, last_name, username, state, through)| AccessMember {
                user_id,
                name: format!("{first_name} {last_name}"),
                username,
                state,
                through,
            },
        )
        .collect())
}

/// A role's page.
pub async fn role_detail(
    state: &AppState,
    admin: &Actor,
    role_id: i64,
) -> Result<RoleDetail, AppError> {
    let organisation_id = admin.working_organisation_id;
    let catalogue = Catalogue::of(state, organisation_id).await?;
    let role = catalogue
        .role(role_id)
        .ok_or_else(|| Kind::Role.not_found())?;
    Ok(RoleDetail {
        id: role.id,
        name: role.name.clone(),
        description: role.description.clone(),
        permissions: role.permissions.clone(),
        profiles: catalogue
            .profiles
            .iter()
            .filter(|p| p.role_ids.contains(&role_id))
            .map(|p| p.name.clone())
            .collect(),
        members: members(state, Kind::Role, organisation_id, role_id).await?,
    })
}

/// A profile's page.
pub async fn profile_detail(
    state: &AppState,
    admin: &Actor,
    profile_id: i64,
) -> Result<ProfileDetail, AppError> {
    let organisation_id = admin.working_organisation_id;
    let catalogue = Catalogue::of(state, organisation_id).await?;
    let profile = catalogue
        .profile(profile_id)
        .ok_or_else(|| Kind::Profile.not_found())?;
    Ok(ProfileDetail {
        id: profile.id,
        name: profile.name.clone(),
        description: profile.description.clone(),
        roles: catalogue
            .roles
            .iter()
            .map(|role| catalogue.role_choice(role, profile.role_ids.contains(&role.id), false))
            .collect(),
        members: members(state, Kind::Profile, organisation_id, profile_id).await?,
    })
}

/// The role and profile ids an account holds now.
pub(super) async fn held_by(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
) -> Result<(BTreeSet<i64>, BTreeSet<i64>), sqlx::Error> {
    let roles: Vec<(i64,)> = sqlx::query_as("SELECT role_id FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let profiles: Vec<(i64,)> =
        sqlx::query_as("SELECT profile_id FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok((
        roles.into_iter().map(|(id,)| id).collect(),
        profiles.into_iter().map(|(id,)| id).collect(),
    ))
}

fn grant_source(grant: &Grant) -> String {
    match &grant.profile {
        None => format!("Role {}", grant.role),
        Some(profile) => format!("Profile {profile} (role {})", grant.role),
    }
}

/// The *Roles and profiles* section of a user page. Roles and profiles
/// carrying a permission the viewer lacks are `locked`: they can be neither
/// given nor taken away by them.
pub async fn user_access(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
) -> Result<UserAccess, AppError> {
    let account = administration::account(state, admin, user_id).await?;
    let pool = &state.db.pool;
    let viewer = access::permissions_of(pool, admin.user_id).await?;
    let refusal = if !viewer.contains(&Permission::UsersManage) {
        None
    } else if user_id == admin.user_id {
        Some(OWN_ACCESS.to_owned())
    } else {
        access::refusal_to_act_on(&mut *pool.acquire().await?, admin, &account).await?
    };
    let can_assign = viewer.contains(&Permission::UsersManage) && refusal.is_none();
    let can_edit_roles = viewer.contains(&Permission::RolesManage);
    let mut conn = pool.acquire().await?;
    let catalogue = Catalogue::load(&mut conn, admin.working_organisation_id).await?;
    let (held_roles, held_profiles) = held_by(&mut conn, user_id).await?;
    drop(conn);
    let locked = |permissions: &BTreeSet<Permission>| {
        !Permission::lacking(&viewer, permissions.iter().copied()).is_empty()
    };
    let mut effective: Vec<EffectivePermission> = Vec::new();
    for grant in access::grants_of(pool, user_id).await? {
        let source = grant_source(&grant);
        match effective.last_mut() {
            Some(last) if last.permission == grant.permission => last.granted_by.push(source),
            _ => effective.push(EffectivePermission {
                permission: grant.permission,
                granted_by: vec![source],
            }),
        }
    }
    Ok(UserAccess {
        user_id,
        is_api_user: !account.is_person(),
        can_assign,
        refusal,
        can_edit_roles,
        roles: catalogue
            .roles
            .iter()
            .map(|role| {
                let locked = locked(&role.permissions.iter().copied().collect());
                catalogue.role_choice(role, held_roles.contains(&role.id), locked)
            })
            .collect(),
        profiles: catalogue
            .profiles
            .iter()
            .map(|profile| {
                let locked = locked(&catalogue.profile_permissions(profile));
                catalogue.profile_choice(profile, held_profiles.contains(&profile.id), locked)
            })
            .collect(),
        effective,
    })
}
