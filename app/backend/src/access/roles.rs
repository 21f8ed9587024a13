//! Roles and profiles of an organisation, and who holds them.
//!
//! Who may do what (the server functions check the permission):
//! - editing roles and profiles themselves (adding, renaming, describing,
//!   choosing a role's permissions or a profile's roles) needs `roles.manage`;
//! - giving people roles and profiles and taking them away needs
//!   `users.manage`: administrators keep control of people's access (SPEC);
//! - except that a role or profile carrying `roles.manage` is given or taken
//!   away only by a holder of `roles.manage`, since whoever holds it can
//!   rewrite every role: handing it out is handing out everything;
//! - and no change may leave the organisation with nobody able to manage
//!   roles and profiles.
//!
//! Everything here works inside `admin.working_organisation_id` only; the id
//! of a role, profile or account anywhere else answers "not found".

use crate::access::actor::Actor;
use crate::access::{self, Grant};
use crate::accounts::administration;
use crate::acting::{Acting, Write};
use crate::audit::{Action, Subject};
use crate::auth::sessions::{self, AccessHolders};
use crate::clock::UnixTime;
use crate::db::violated_constraint;
use crate::state::AppState;
use domain::AppError;
use domain::wire::{
    AccessChoice, AccessMember, EffectivePermission, ProfileDetail, ProfileSummary, RoleDetail,
    RoleSummary, UserAccess,
};
use domain::{AccessDescription, FieldError, Permission, ProfileName, RoleName, collect};
use std::collections::{BTreeSet, HashMap};

/// Roles and profiles share their shape: a name unique in the organisation
/// and a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Role,
    Profile,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Role => "roles",
            Kind::Profile => "profiles",
        }
    }

    /// The unique index on the organisation and the lower-cased name.
    fn name_index(self) -> &'static str {
        match self {
            Kind::Role => "roles_name_key",
            Kind::Profile => "profiles_name_key",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::Profile => "profile",
        }
    }

    fn not_found(self) -> AppError {
        match self {
            Kind::Role => AppError::NotFound("The role".into()),
            Kind::Profile => AppError::NotFound("The profile".into()),
        }
    }

    fn created(self) -> Action {
        match self {
            Kind::Role => Action::RoleCreated,
            Kind::Profile => Action::ProfileCreated,
        }
    }

    fn changed(self) -> Action {
        match self {
            Kind::Role => Action::RoleChanged,
            Kind::Profile => Action::ProfileChanged,
        }
    }

    /// Everyone holding the role or profile `id`.
    fn holders(self, id: i64) -> AccessHolders {
        match self {
            Kind::Role => AccessHolders::Role(id),
            Kind::Profile => AccessHolders::Profile(id),
        }
    }

    fn name_taken(self, name: &str) -> AppError {
        AppError::field(
            "name",
            format!("There is already a {} called “{name}”", self.noun()),
        )
    }
}

/// A name and description as typed, parsed.
struct Naming {
    name: String,
    /// The name as compared for uniqueness (Unicode lower case).
    folded: String,
    description: AccessDescription,
}

impl Naming {
    fn parse(kind: Kind, name: &str, description: &str) -> Result<Naming, AppError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let parsed = match kind {
            Kind::Role => {
                collect(&mut errors, RoleName::parse(name)).map(|n| (n.folded(), String::from(n)))
            }
            Kind::Profile => collect(&mut errors, ProfileName::parse(name))
                .map(|n| (n.folded(), String::from(n))),
        };
        let description = collect(&mut errors, AccessDescription::parse(description));
        match (parsed, description) {
            (Some((folded, name)), Some(description)) => Ok(Naming {
                name,
                folded,
                description,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// The `(name, description)` of a role or profile of `organisation_id`.
async fn find(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    organisation_id: i64,
    id: i64,
) -> Result<(String, String), AppError> {
    let row: Option<(String, String)> = sqlx::query_as(&format!(
        "SELECT name, description FROM {} WHERE id = $1 AND organisation_id = $2",
        kind.table()
    ))
    .bind(id)
    .bind(organisation_id)
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(|| kind.not_found())
}

/// Writes a new (`id` None) or changed name and description, refusing a name
/// another role (or profile) of the organisation has in any case. The check
/// folds all of Unicode (SQLite's `lower()` folds only ASCII) and runs in
/// the write transaction; the unique index settles a race on PostgreSQL.
async fn write_naming(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    organisation_id: i64,
    id: Option<i64>,
    naming: &Naming,
    now: UnixTime,
) -> Result<i64, AppError> {
    let others: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT id, name FROM {} WHERE organisation_id = $1",
        kind.table()
    ))
    .bind(organisation_id)
    .fetch_all(&mut *conn)
    .await?;
    if others
        .iter()
        .any(|(other, name)| Some(*other) != id && name.to_lowercase() == naming.folded)
    {
        return Err(kind.name_taken(&naming.name));
    }
    let written: Result<(i64,), sqlx::Error> = match id {
        None => {
            sqlx::query_as(&format!(
                "INSERT INTO {} (organisation_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                kind.table()
            ))
            .bind(organisation_id)
            .bind(&naming.name)
            .bind(naming.description.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await
        }
        Some(id) => {
            sqlx::query_as(&format!(
                "UPDATE {} SET name = $1, description = $2 WHERE id = $3 RETURNING id",
                kind.table()
            ))
            .bind(&naming.name)
            .bind(naming.description.as_str())
            .bind(id)
            .fetch_one(&mut *conn)
            .await
        }
    };
    match written {
        Ok((id,)) => Ok(id),
        Err(e) if violated_constraint(&e).as_deref() == Some(kind.name_index()) => {
            Err(kind.name_taken(&naming.name))
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds a role with no permissions, or a profile with no roles; returns its id.
pub async fn add(
    state: &AppState,
    admin: &Actor,
    kind: Kind,
    name: &str,
    description: &str,
    client_address: &str,
) -> Result<i64, AppError> {
    let naming = Naming::parse(kind, name, description)?;
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let id = write_naming(
        &mut write,
        kind,
        admin.working_organisation_id,
        None,
        &naming,
        now,
    )
    .await?;
    let detail = format!("{}={}", kind.noun(), naming.name);
    write
        .audit(
            kind.created(),
            Subject::Organisation(admin.working_organisation_id),
            detail,
        )
        .await?;
    write.commit().await?;
    Ok(id)
}

/// What a save changed, for the audit log: "role=Teacher renamed_from=Teachers
/// added=users.view removed=reports.view".
fn change_detail(
    kind: Kind,
    old: &(String, String),
    new: &Naming,
    added: &[String],
    removed: &[String],
) -> Option<String> {
    let mut parts = Vec::new();
    if old.0 != new.name {
        parts.push(format!("renamed_from={}", old.0));
    }
    if old.1 != new.description.as_str() {
        parts.push("description_changed".to_owned());
    }
    if !added.is_empty() {
        parts.push(format!("added={}", added.join(",")));
    }
    if !removed.is_empty() {
        parts.push(format!("removed={}", removed.join(",")));
    }
    (!parts.is_empty()).then(|| format!("{}={} {}", kind.noun(), new.name, parts.join(" ")))
}

/// A save of a role or profile under way in its write transaction: the new
/// name and description, the old ones, and how many people could manage
/// roles before.
struct Saving {
    kind: Kind,
    id: i64,
    naming: Naming,
    old: (String, String),
    managers_before: i64,
    now: UnixTime,
}

impl Saving {
    /// Starts saving the role or profile `id` of the organisation, or "not found".
    async fn open(
        write: &mut Write<'_>,
        kind: Kind,
        organisation_id: i64,
        id: i64,
        naming: Naming,
    ) -> Result<Saving, AppError> {
        let now = write.now();
        let old = find(write, kind, organisation_id, id).await?;
        let managers_before = access::role_managers(write, organisation_id).await?;
        Ok(Saving {
            kind,
            id,
            naming,
            old,
            managers_before,
            now,
        })
    }

    /// Writes the new name and description.
    async fn write_naming(
        &self,
        conn: &mut sqlx::AnyConnection,
        organisation_id: i64,
    ) -> Result<(), AppError> {
        write_naming(
            conn,
            self.kind,
            organisation_id,
            Some(self.id),
            &self.naming,
            self.now,
        )
        .await?;
        Ok(())
    }

    /// Ends a save that `added` and `removed` permissions (of a role) or
    /// roles (of a profile): gives the holders' sessions new ids, records
    /// the change, and refuses to leave nobody able to manage roles.
    async fn close(
        self,
        write: &mut Write<'_>,
        admin: &Actor,
        added: &[String],
        removed: &[String],
    ) -> Result<(), AppError> {
        if !added.is_empty() || !removed.is_empty() {
            sessions::rotate_after_access_change(write, self.kind.holders(self.id)).await?;
        }
        if let Some(detail) = change_detail(self.kind, &self.old, &self.naming, added, removed) {
            write
                .audit(
                    self.kind.changed(),
                    Subject::Organisation(admin.working_organisation_id),
                    detail,
                )
                .await?;
        }
        access::keep_a_role_manager(write, admin.working_organisation_id, self.managers_before)
            .await
    }
}

/// Refuses a change to a role's permissions or a profile's roles that adds
/// or removes a permission the administrator does not hold: whatever a role
/// carries, its holders get, so editing one is granting.
async fn refuse_unheld_changes(
    conn: &mut sqlx::AnyConnection,
    admin: &Actor,
    changed: impl IntoIterator<Item = Permission>,
    what: &str,
) -> Result<(), AppError> {
    let held = access::permissions_of(&mut *conn, admin.user_id).await?;
    let lacking = Permission::lacking(&held, changed);
    if lacking.is_empty() {
        return Ok(());
    }
    Err(AppError::Overreach(format!(
        "You cannot add or remove {what} you do not hold ({})",
        Permission::describe(&lacking)
    )))
}

/// Refuses a change to what a role or profile carries unless the
/// administrator may act on everyone holding it (see
/// `access::refusal_to_act_on`): changing a role changes what its holders
/// may do, so it may not reach past the administrator, nor touch a
/// platform administrator's access unless they are one.
async fn refuse_beyond_holders(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    id: i64,
    admin: &Actor,
) -> Result<(), AppError> {
    let sql = match kind {
        Kind::Role => {
            "SELECT user_id FROM user_roles WHERE role_id = $1
             UNION
             SELECT up.user_id FROM user_profiles up
             JOIN profile_roles pr ON pr.profile_id = up.profile_id WHERE pr.role_id = $1"
        }
        Kind::Profile => "SELECT user_id FROM user_profiles WHERE profile_id = $1",
    };
    let holders: Vec<(i64,)> = sqlx::query_as(sql).bind(id).fetch_all(&mut *conn).await?;
    for (user_id,) in holders {
        let holder = administration::account_in_tx(&mut *conn, user_id).await?;
        if let Some(reason) = access::refusal_to_act_on(&mut *conn, admin, &holder).await? {
            return Err(AppError::Overreach(format!(
                "This {} changes what its holders may do, and {reason}",
                kind.noun()
            )));
        }
    }
    Ok(())
}

/// Renames and describes a role and makes its permissions exactly `keys`.
pub async fn save_role(
    state: &AppState,
    admin: &Actor,
    role_id: i64,
    name: &str,
    description: &str,
    keys: &[String],
    client_address: &str,
) -> Result<(), AppError> {
    let organisation_id = admin.working_organisation_id;
    let naming = Naming::parse(Kind::Role, name, description)?;
    let wanted = keys
        .iter()
        .map(|key| {
            Permission::from_key(key)
                .ok_or_else(|| AppError::BadRequest(format!("There is no permission {key}")))
        })
        .collect::<Result<BTreeSet<Permission>, AppError>>()?;
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let saving = Saving::open(&mut write, Kind::Role, organisation_id, role_id, naming).await?;
    saving.write_naming(&mut write, organisation_id).await?;
    let current: BTreeSet<Permission> = role_permissions(&mut write, role_id)
        .await?
        .into_iter()
        .collect();
    let added: Vec<Permission> = wanted.difference(&current).copied().collect();
    let removed: Vec<Permission> = current.difference(&wanted).copied().collect();
    refuse_unheld_changes(
        &mut write,
        admin,
        added.iter().chain(&removed).copied(),
        "permissions",
    )
    .await?;
    if !added.is_empty() || !removed.is_empty() {
        refuse_beyond_holders(&mut write, Kind::Role, role_id, admin).await?;
    }
    for permission in &added {
        sqlx::query("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(role_id)
            .bind(permission.key())
            .execute(&mut *write)
            .await?;
    }
    for permission in &removed {
        sqlx::query("DELETE FROM role_permissions WHERE role_id = $1 AND permission = $2")
            .bind(role_id)
            .bind(permission.key())
            .execute(&mut *write)
            .await?;
    }
    let keys = |list: &[Permission]| list.iter().map(|p| p.key().to_owned()).collect::<Vec<_>>();
    saving
        .close(&mut write, admin, &keys(&added), &keys(&removed))
        .await?;
    write.commit().await?;
    Ok(())
}

/// Renames and describes a profile and makes its roles exactly `role_ids`
/// (each a role of the organisation).
pub async fn save_profile(
    state: &AppState,
    admin: &Actor,
    profile_id: i64,
    name: &str,
    description: &str,
    role_ids: &[i64],
    client_address: &str,
) -> Result<(), AppError> {
    let organisation_id = admin.working_organisation_id;
    let naming = Naming::parse(Kind::Profile, name, description)?;
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let saving = Saving::open(
        &mut write,
        Kind::Profile,
        organisation_id,
        profile_id,
        naming,
    )
    .await?;
    let catalogue = Catalogue::load(&mut write, organisation_id).await?;
    let wanted = catalogue.ids(Kind::Role, role_ids)?;
    saving.write_naming(&mut write, organisation_id).await?;
    let current: BTreeSet<i64> = catalogue
        .profile(profile_id)
        .map(|p| p.role_ids.iter().copied().collect())
        .unwrap_or_default();
    let added: Vec<i64> = wanted.difference(&current).copied().collect();
    let removed: Vec<i64> = current.difference(&wanted).copied().collect();
    refuse_unheld_changes(
        &mut write,
        admin,
        added
            .iter()
            .chain(&removed)
            .filter_map(|id| catalogue.role(*id))
            .flat_map(|role| role.permissions.iter().copied()),
        "roles carrying permissions",
    )
    .await?;
    if !added.is_empty() || !removed.is_empty() {
        refuse_beyond_holders(&mut write, Kind::Profile, profile_id, admin).await?;
    }
    for role_id in &added {
        sqlx::query(
            "INSERT INTO profile_roles (profile_id, role_id, organisation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(profile_id)
        .bind(role_id)
        .bind(organisation_id)
        .execute(&mut *write)
        .await?;
    }
    for role_id in &removed {
        sqlx::query("DELETE FROM profile_roles WHERE profile_id = $1 AND role_id = $2")
            .bind(profile_id)
            .bind(role_id)
            .execute(&mut *write)
            .await?;
    }
    let names = |ids: &[i64]| {
        let mut names: Vec<String> = ids.iter().map(|id| catalogue.role_name(*id)).collect();
        names.sort_by_key(|name| name.to_lowercase());
        names
    };
    saving
        .close(&mut write, admin, &names(&added), &names(&removed))
        .await?;
    write.commit().await?;
    Ok(())
}

async fn role_permissions(
    conn: &mut sqlx::AnyConnection,
    role_id: i64,
) -> Result<Vec<Permission>, sqlx::Error> {
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT permission FROM role_permissions WHERE role_id = $1")
            .bind(role_id)
            .fetch_all(conn)
            .await?;
    let mut permissions: Vec<Permission> = keys
        .iter()
        .filter_map(|(key,)| Permission::from_key(key))
        .collect();
    permissions.sort();
    Ok(permissions)
}

struct CatalogueRole {
    id: i64,
    name: String,
    description: String,
    permissions: Vec<Permission>,
}

struct CatalogueProfile {
    id: i64,
    name: String,
    description: String,
    role_ids: Vec<i64>,
}

/// The organisation's roles and profiles with what each carries, by name.
struct Catalogue {
    roles: Vec<CatalogueRole>,
    profiles: Vec<CatalogueProfile>,
}

impl Catalogue {
    async fn load(
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
    async fn of(state: &AppState, organisation_id: i64) -> Result<Catalogue, sqlx::Error> {
        Catalogue::load(&mut *state.db.pool.acquire().await?, organisation_id).await
    }

    fn role(&self, id: i64) -> Option<&CatalogueRole> {
        self.roles.iter().find(|r| r.id == id)
    }

    fn profile(&self, id: i64) -> Option<&CatalogueProfile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    fn role_name(&self, id: i64) -> String {
        self.role(id).map(|r| r.name.clone()).unwrap_or_default()
    }

    /// `ids`, each a role (or each a profile) of the organisation, or "not found".
    fn ids(&self, kind: Kind, ids: &[i64]) -> Result<BTreeSet<i64>, AppError> {
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
    fn permissions_of_holding(
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

    fn profile_permissions(&self, profile: &CatalogueProfile) -> BTreeSet<Permission> {
        profile
            .role_ids
            .iter()
            .filter_map(|id| self.role(*id))
            .flat_map(|r| r.permissions.iter().copied())
            .collect()
    }

    fn role_choice(&self, role: &CatalogueRole, held: bool, locked: bool) -> AccessChoice {
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

    fn profile_choice(&self, profile: &CatalogueProfile, held: bool, locked: bool) -> AccessChoice {
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
async fn held_by(
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

/// Why nobody may change their own roles and profiles.
const OWN_ACCESS: &str =
    "Nobody can change their own roles and profiles: ask another administrator";

/// One role or profile given or taken away.
struct AccessChange<'a> {
    kind: Kind,
    id: i64,
    name: &'a str,
    granted: bool,
}

/// The changes that turn `held` into `wanted`: gains first, then losses.
fn differences(wanted: &BTreeSet<i64>, held: &BTreeSet<i64>) -> Vec<(i64, bool)> {
    wanted
        .difference(held)
        .map(|id| (*id, true))
        .chain(held.difference(wanted).map(|id| (*id, false)))
        .collect()
}

/// What to do to an account's roles and profiles.
#[derive(Debug, Clone, Copy)]
pub enum AccessRequest<'a> {
    /// Exactly these (the user page's checkboxes).
    Exactly {
        roles: &'a [i64],
        profiles: &'a [i64],
    },
    /// One more role or profile (the REST API).
    Give(Kind, i64),
    /// One fewer.
    TakeAway(Kind, i64),
}

impl AccessRequest<'_> {
    /// The role and profile ids the account should hold, each of the
    /// organisation ("not found" otherwise).
    fn wanted(
        self,
        catalogue: &Catalogue,
        held_roles: &BTreeSet<i64>,
        held_profiles: &BTreeSet<i64>,
    ) -> Result<(BTreeSet<i64>, BTreeSet<i64>), AppError> {
        let (mut roles, mut profiles) = (held_roles.clone(), held_profiles.clone());
        match self {
            AccessRequest::Exactly {
                roles: role_ids,
                profiles: profile_ids,
            } => {
                roles = catalogue.ids(Kind::Role, role_ids)?;
                profiles = catalogue.ids(Kind::Profile, profile_ids)?;
            }
            AccessRequest::Give(kind, id) | AccessRequest::TakeAway(kind, id) => {
                catalogue.ids(kind, &[id])?;
                let set = match kind {
                    Kind::Role => &mut roles,
                    Kind::Profile => &mut profiles,
                };
                if matches!(self, AccessRequest::Give(..)) {
                    set.insert(id);
                } else {
                    set.remove(&id);
                }
            }
        }
        Ok((roles, profiles))
    }
}

/// Changes the account's roles and profiles as `request` asks, audited one
/// change at a time. Nobody changes their own; the account must be within
/// the administrator's reach, and stay within it afterwards.
pub async fn save_user_access(
    state: &AppState,
    admin: &Actor,
    user_id: i64,
    request: AccessRequest<'_>,
    client_address: &str,
) -> Result<(), AppError> {
    let organisation_id = admin.working_organisation_id;
    let account = administration::account(state, admin, user_id).await?;
    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let catalogue = Catalogue::load(&mut write, organisation_id).await?;
    let (held_roles, held_profiles) = held_by(&mut write, user_id).await?;
    let (wanted_roles, wanted_profiles) =
        request.wanted(&catalogue, &held_roles, &held_profiles)?;
    // Every id is known to be the organisation's by now, so a refusal
    // gives nothing of another organisation away.
    if user_id == admin.user_id {
        return Err(AppError::Overreach(OWN_ACCESS.into()));
    }
    access::require_reach(&mut write, admin, &account).await?;
    let held_by_admin = access::permissions_of(&mut *write, admin.user_id).await?;
    let managers_before = access::role_managers(&mut write, organisation_id).await?;
    let role_changes = differences(&wanted_roles, &held_roles)
        .into_iter()
        .filter_map(|(id, granted)| {
            catalogue.role(id).map(|role| AccessChange {
                kind: Kind::Role,
                id,
                name: &role.name,
                granted,
            })
        });
    let profile_changes = differences(&wanted_profiles, &held_profiles)
        .into_iter()
        .filter_map(|(id, granted)| {
            catalogue.profile(id).map(|profile| AccessChange {
                kind: Kind::Profile,
                id,
                name: &profile.name,
                granted,
            })
        });
    let changes: Vec<AccessChange> = role_changes.chain(profile_changes).collect();
    let lacking = Permission::lacking(
        &held_by_admin,
        catalogue.permissions_of_holding(&wanted_roles, &wanted_profiles),
    );
    if !changes.is_empty() && !lacking.is_empty() {
        return Err(AppError::Overreach(format!(
            "That would give {} permissions you do not hold ({}): only someone who holds them can give them",
            account.full_name(),
            Permission::describe(&lacking)
        )));
    }
    for change in &changes {
        let done = match (change.kind, change.granted) {
            (Kind::Role, true) => sqlx::query(
                "INSERT INTO user_roles (user_id, role_id, granted_at, granted_by)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(change.id)
            .bind(now)
            .bind(admin.user_id),
            (Kind::Profile, true) => sqlx::query(
                "INSERT INTO user_profiles (user_id, profile_id, organisation_id, granted_at, granted_by)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(change.id)
            .bind(organisation_id)
            .bind(now)
            .bind(admin.user_id),
            (Kind::Role, false) => {
                sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2")
                    .bind(user_id)
                    .bind(change.id)
            }
            (Kind::Profile, false) => {
                sqlx::query("DELETE FROM user_profiles WHERE user_id = $1 AND profile_id = $2")
                    .bind(user_id)
                    .bind(change.id)
            }
        }
        .execute(&mut *write)
        .await?;
        // Nothing to record when another administrator made the same change
        // a moment ago.
        if done.rows_affected() == 0 {
            continue;
        }
        write
            .audit(
                if change.granted {
                    Action::AccessGranted
                } else {
                    Action::AccessRemoved
                },
                Subject::Account(user_id),
                format!("{}={}", change.kind.noun(), change.name),
            )
            .await?;
    }
    if !changes.is_empty() {
        sessions::rotate_after_access_change(&mut write, AccessHolders::User(user_id)).await?;
    }
    access::keep_a_role_manager(&mut write, organisation_id, managers_before).await?;
    write.commit().await?;
    Ok(())
}
