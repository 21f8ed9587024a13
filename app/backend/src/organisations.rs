//! Organisations: the platform administrator's list, adding an organisation
//! with its first administrator, choosing where to work, and each
//! organisation's own settings.

use crate::access::{self, ADMINISTRATOR_ROLE};
use crate::accounts::administration::{self, NewUser, collect};
use crate::accounts::users::{self, AccountKind};
use crate::audit::{self, ActedBy, Action, Entry};
use crate::auth::sessions::{self, SignedIn};
use crate::clock::format_utc;
use crate::state::AppState;
use domain::AppError;
use domain::wire::{OrganisationSettings, OrganisationSummary};
use domain::{
    Email, FieldError, FirstName, Initials, LastName, LinkLifetimes, OrganisationName, Username,
};

/// Refuses anyone who is not a platform administrator now.
fn require_platform_admin(admin: &SignedIn) -> Result<(), AppError> {
    if admin.is_platform_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Every organisation with its accounts counted by state, by name.
pub async fn list(
    state: &AppState,
    admin: &SignedIn,
) -> Result<Vec<OrganisationSummary>, AppError> {
    require_platform_admin(admin)?;
    let rows: Vec<(i64, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT o.id, o.name, o.created_at,
                (SELECT COUNT(*) FROM users u WHERE u.organisation_id = o.id AND u.state = 'active'),
                (SELECT COUNT(*) FROM users u WHERE u.organisation_id = o.id AND u.state = 'pending'),
                (SELECT COUNT(*) FROM users u WHERE u.organisation_id = o.id AND u.state = 'deactivated')
         FROM organisations o ORDER BY lower(o.name), o.id",
    )
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, created_at, active, pending, deactivated)| OrganisationSummary {
                id,
                is_working_here: id == admin.working_organisation_id,
                is_own: id == admin.organisation_id,
                name,
                created_at: format_utc(created_at),
                active,
                pending,
                deactivated,
            },
        )
        .collect())
}

/// The Add an organisation form as typed.
#[derive(Debug, Clone, Default)]
pub struct NewOrganisationForm {
    pub organisation_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// Creates an organisation (with the starter roles) and its first
/// administrator: a pending account holding the Administrator role, whose
/// welcome email is queued in the same transaction. The platform
/// administrator then works in the new organisation. Returns the new
/// administrator's id.
pub async fn add(
    state: &AppState,
    admin: &SignedIn,
    form: &NewOrganisationForm,
    client_address: &str,
) -> Result<i64, AppError> {
    require_platform_admin(admin)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let name = collect(
        &mut errors,
        OrganisationName::parse(&form.organisation_name),
    );
    let first = collect(&mut errors, FirstName::parse(&form.first_name));
    let last = collect(&mut errors, LastName::parse(&form.last_name));
    let email = collect(&mut errors, Email::parse(&form.email));
    let (Some(name), Some(first_name), Some(last_name), Some(email)) = (name, first, last, email)
    else {
        return Err(AppError::Validation(errors));
    };
    // The first free of the usernames the Add a user form would offer.
    let mut candidates = vec![Username::from_names(&first_name, &last_name)];
    candidates.extend(Username::alternatives(&first_name, &last_name));
    let username = users::free_usernames(&state.db, &candidates, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::field(
                "last_name",
                "Every username made from these names is taken. Add the person as a user instead and type a username",
            )
        })?;
    let new = NewUser {
        initials: Initials::suggest(&first_name, &last_name),
        first_name,
        last_name,
        email,
        username,
        kind: AccountKind::Person,
        send_welcome_email: true,
    };

    let now = state.now();
    let mut tx = state.db.begin_write().await?;
    let organisation_id =
        crate::onboarding::setup::insert_organisation(&mut tx, now, &name).await?;
    audit::record(
        &mut *tx,
        now,
        Entry {
            action: Action::OrganisationCreated,
            organisation_id: Some(organisation_id),
            by: ActedBy::from(&**admin),
            target_user_id: None,
            detail: String::new(),
            client_address,
        },
    )
    .await?;
    let user_id = administration::create_account(
        &mut tx,
        state,
        now,
        admin,
        organisation_id,
        &new,
        client_address,
    )
    .await
    .map_err(|error| match error.field_message("username") {
        // Taken between the check and the insert: nothing was written.
        Some(_) => AppError::BadRequest(
            "The username made from these names was taken a moment ago. Submit the form again"
                .into(),
        ),
        None => error,
    })?;
    access::grant_role_by_name(
        &mut tx,
        now,
        user_id,
        organisation_id,
        ADMINISTRATOR_ROLE,
        Some(admin.user_id),
    )
    .await?;
    tx.commit().await?;
    sessions::set_working_organisation(&state.db, admin.session_id, organisation_id).await?;
    Ok(user_id)
}

/// Makes `organisation_id` where this platform administrator's session works.
pub async fn enter(
    state: &AppState,
    admin: &SignedIn,
    organisation_id: i64,
    client_address: &str,
) -> Result<(), AppError> {
    require_platform_admin(admin)?;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
        .bind(organisation_id)
        .fetch_optional(&state.db.pool)
        .await?;
    if exists.is_none() {
        return Err(AppError::NotFound("The organisation".into()));
    }
    if organisation_id == admin.working_organisation_id {
        return Ok(());
    }
    sessions::set_working_organisation(&state.db, admin.session_id, organisation_id).await?;
    audit::record(
        &state.db.pool,
        state.now(),
        Entry {
            action: Action::OrganisationEntered,
            organisation_id: Some(organisation_id),
            by: ActedBy::from(&**admin),
            target_user_id: None,
            detail: String::new(),
            client_address,
        },
    )
    .await?;
    Ok(())
}

/// The settings of the organisation the administrator works in.
pub async fn settings(
    state: &AppState,
    admin: &SignedIn,
) -> Result<OrganisationSettings, AppError> {
    let (name, welcome_link_hours, password_link_minutes): (String, i64, i64) = sqlx::query_as(
        "SELECT name, welcome_link_hours, password_link_minutes FROM organisations WHERE id = $1",
    )
    .bind(admin.working_organisation_id)
    .fetch_one(&state.db.pool)
    .await?;
    Ok(OrganisationSettings {
        name,
        lifetimes: LinkLifetimes {
            welcome_link_hours,
            password_link_minutes,
        },
    })
}

/// Changes the link lifetimes; links already sent keep the expiry they were
/// sent with (and that their email states).
pub async fn save_settings(
    state: &AppState,
    admin: &SignedIn,
    lifetimes: LinkLifetimes,
    client_address: &str,
) -> Result<(), AppError> {
    let now = state.now();
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "UPDATE organisations SET welcome_link_hours = $1, password_link_minutes = $2 WHERE id = $3",
    )
    .bind(lifetimes.welcome_link_hours)
    .bind(lifetimes.password_link_minutes)
    .bind(admin.working_organisation_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        now,
        Entry {
            action: Action::OrganisationSettingsChanged,
            organisation_id: Some(admin.working_organisation_id),
            by: ActedBy::from(&**admin),
            target_user_id: None,
            detail: format!(
                "welcome_link_hours={} password_link_minutes={}",
                lifetimes.welcome_link_hours, lifetimes.password_link_minutes
            ),
            client_address,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
