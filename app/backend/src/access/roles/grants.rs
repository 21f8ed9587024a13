//! Giving people roles and profiles and taking them away: within what the
//! administrator holds, never their own, and never leaving the
//! organisation without someone able to manage roles.

use super::Kind;
use super::catalogue::{Catalogue, held_by};
use crate::access::actor::Actor;
use crate::access::{self};
use crate::accounts::administration;
use crate::acting::Acting;
use crate::audit::{Action, Subject};
use crate::auth::sessions::{self, AccessHolders};
use crate::state::AppState;
use domain::AppError;
use domain::Permission;
use std::collections::BTreeSet;

/// Why nobody may change their own roles and profiles.
pub(super) const OWN_ACCESS: &str =
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
