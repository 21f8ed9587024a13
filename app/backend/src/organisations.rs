//! Organisations: the platform administrator's list, adding an organisation
//! with its first administrator, choosing where to work, and each
//! organisation's own settings.

use crate::access::{self, ADMINISTRATOR_ROLE};
use crate::accounts::administration::{self, NewUser};
use crate::accounts::users::{self, AccountKind};
use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::sessions::{self, SignedIn};
use crate::clock::format_utc;
use crate::state::AppState;
use domain::AppError;
use domain::wire::{OrganisationSettings, OrganisationSummary, UndeliveredEmail};
use domain::{FieldError, LinkLifetimes, OrganisationName, PersonForm, Username, collect};

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

/// The most undelivered messages listed at once.
const UNDELIVERED_SHOWN: i64 = 100;

/// Mail failing now or given up on, in every organisation, newest first,
/// with the mail server's own errors: what an operator needs to act on.
pub async fn undelivered_mail(
    state: &AppState,
    admin: &SignedIn,
) -> Result<Vec<UndeliveredEmail>, AppError> {
    require_platform_admin(admin)?;
    Ok(crate::mail::outbox::failing(&state.db, UNDELIVERED_SHOWN)
        .await?
        .into_iter()
        .map(|failing| UndeliveredEmail {
            organisation: failing.organisation_name,
            recipient: failing.recipient,
            subject: failing.subject,
            delivery: failing.delivery.shown(true),
        })
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
    let person = PersonForm {
        first_name: &form.first_name,
        last_name: &form.last_name,
        email: &form.email,
        username: None,
        initials: None,
    }
    .parse()
    .map_err(|person_errors| errors.extend(person_errors))
    .ok();
    let (Some(name), Some(mut person)) = (name, person) else {
        return Err(AppError::Validation(errors));
    };
    // The first free of the usernames the Add a user form would offer.
    let mut candidates = vec![person.username];
    candidates.extend(Username::alternatives(
        &person.first_name,
        &person.last_name,
    ));
    person.username = users::free_usernames(&state.db, &candidates, 1)
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
        person,
        kind: AccountKind::Person,
        send_welcome_email: true,
    };

    let now = state.now();
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    let organisation_id =
        crate::onboarding::setup::insert_organisation(&mut write, now, &name).await?;
    write
        .audit(
            Action::OrganisationCreated,
            Subject::Organisation(organisation_id),
            "",
        )
        .await?;
    let user_id = administration::create_account(&mut write, state, organisation_id, &new)
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
        &mut write,
        now,
        user_id,
        organisation_id,
        ADMINISTRATOR_ROLE,
        Some(admin.user_id),
    )
    .await?;
    write.commit().await?;
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
    Acting::new(state.now(), ActedBy::from(&**admin), client_address)
        .audit(
            &state.db.pool,
            Action::OrganisationEntered,
            Subject::Organisation(organisation_id),
            "",
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
    let mut write = Acting::by(admin, now, client_address)
        .begin(&state.db)
        .await?;
    sqlx::query(
        "UPDATE organisations SET welcome_link_hours = $1, password_link_minutes = $2 WHERE id = $3",
    )
    .bind(lifetimes.welcome_link_hours)
    .bind(lifetimes.password_link_minutes)
    .bind(admin.working_organisation_id)
    .execute(&mut *write)
    .await?;
    Acting::new(now, ActedBy::from(&**admin), client_address)
        .audit(
            &mut *write,
            Action::OrganisationSettingsChanged,
            Subject::Organisation(admin.working_organisation_id),
            format!(
                "welcome_link_hours={} password_link_minutes={}",
                lifetimes.welcome_link_hours, lifetimes.password_link_minutes
            ),
        )
        .await?;
    write.commit().await?;
    Ok(())
}
