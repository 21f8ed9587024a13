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
//!
//! Three parts: editing roles and profiles (here), what the pages read
//! (`catalogue`), and giving people roles and profiles (`grants`).

mod catalogue;
mod grants;

use catalogue::Catalogue;

pub use catalogue::{list_profiles, list_roles, profile_detail, role_detail, user_access};
pub use grants::{AccessRequest, save_user_access};

use crate::access::actor::Actor;
use crate::access::{self};
use crate::accounts::administration;
use crate::acting::{Acting, Write};
use crate::audit::{Action, Subject};
use crate::auth::sessions::{self, AccessHolders};
use crate::clock::UnixTime;
use crate::db::violated_constraint;
use crate::state::AppState;
use domain::AppError;
use domain::{AccessDescription, FieldError, Permission, ProfileName, RoleName, collect};
use std::collections::BTreeSet;

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
