//! Setting up organisations and their first administrators from one-time
//! links: the bootstrap link printed on first start, and links the command
//! line prints for a named organisation.

use crate::accounts::users::{self, AccountKind, AccountState, NewAccount};
use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::clock::UnixTime;
use crate::db::{Db, violated_constraint};
use crate::onboarding::links::{self, LinkPurpose, LiveLink, NewLink};
use crate::state::AppState;
use domain::AppError;
use domain::wire::{SetupForm, SetupLinkInfo};
use domain::{
    FieldError, OrganisationName, Password, PasswordContext, Person, PersonForm, collect,
};

/// Where the command line's entries in the audit log come from.
pub const COMMAND_LINE: &str = "command line";

/// How long a setup link stays valid.
pub const SETUP_LINK_LIFETIME_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupPurpose {
    /// Creates the first organisation and a platform administrator.
    Platform,
    /// Creates an administrator of an existing organisation.
    Organisation(i64),
}

/// True while no account exists at all: the server then prints a setup link.
pub async fn is_empty(db: &Db) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await?;
    Ok(count == 0)
}

/// Creates a setup link, revoking earlier unused ones for the same purpose,
/// and returns the path to print (the caller prefixes the public URL).
pub async fn create_link(
    db: &Db,
    now: UnixTime,
    purpose: SetupPurpose,
) -> Result<String, sqlx::Error> {
    let (purpose, organisation_id) = match purpose {
        SetupPurpose::Platform => (LinkPurpose::PlatformSetup, None),
        SetupPurpose::Organisation(id) => (LinkPurpose::OrganisationSetup, Some(id)),
    };
    let mut write = Acting::new(now, ActedBy::NOBODY, COMMAND_LINE)
        .begin(db)
        .await?;
    let token = links::issue(
        &mut write,
        now,
        &NewLink {
            purpose,
            organisation_id,
            user_id: None,
            new_email: None,
            lifetime_seconds: SETUP_LINK_LIFETIME_SECONDS,
            issued_by: None,
        },
    )
    .await?;
    write
        .audit(
            Action::SetupLinkCreated,
            organisation_id.map_or(Subject::Unknown, Subject::Organisation),
            format!("purpose={}", purpose.as_str()),
        )
        .await?;
    write.commit().await?;
    Ok(format!("/setup/{token}"))
}

/// Creates an organisation (command line); returns its id.
pub async fn create_organisation(
    db: &Db,
    now: UnixTime,
    name: &OrganisationName,
) -> Result<i64, AppError> {
    let mut write = Acting::new(now, ActedBy::NOBODY, COMMAND_LINE)
        .begin(db)
        .await?;
    let id = insert_organisation(&mut write, now, name).await?;
    write
        .audit(Action::OrganisationCreated, Subject::Organisation(id), "")
        .await?;
    write.commit().await?;
    Ok(id)
}

pub(crate) async fn insert_organisation(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    name: &OrganisationName,
) -> Result<i64, AppError> {
    let inserted: Result<(i64,), sqlx::Error> =
        sqlx::query_as("INSERT INTO organisations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name.as_ref())
            .bind(now)
            .fetch_one(&mut *conn)
            .await;
    match inserted {
        Ok((id,)) => {
            crate::access::create_starter_access(conn, now, id).await?;
            Ok(id)
        }
        Err(e) if violated_constraint(&e).as_deref() == Some("organisations_name_key") => {
            Err(AppError::field(
                "organisation_name",
                "An organisation with this name already exists",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Looks an organisation up by id or by exact name (command line).
pub async fn find_organisation(
    db: &Db,
    id_or_name: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let id: i64 = id_or_name.parse().unwrap_or(-1);
    sqlx::query_as("SELECT id, name FROM organisations WHERE id = $1 OR lower(name) = lower($2)")
        .bind(id)
        .bind(id_or_name)
        .fetch_optional(&db.pool)
        .await
}

const SETUP_PURPOSES: [LinkPurpose; 2] =
    [LinkPurpose::PlatformSetup, LinkPurpose::OrganisationSetup];

async fn live_link(db: &Db, now: UnixTime, token: &str) -> Result<LiveLink, AppError> {
    links::find_live(&db.pool, now, token, &SETUP_PURPOSES)
        .await?
        .ok_or(AppError::LinkExpired)
}

async fn organisation_name(db: &Db, id: i64) -> Result<String, sqlx::Error> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(name)
}

/// What the setup page needs to show for a link. Opening the link changes nothing.
pub async fn link_info(state: &AppState, token: &str) -> Result<SetupLinkInfo, AppError> {
    let link = live_link(&state.db, state.now(), token).await?;
    let organisation_name = match link.organisation_id {
        Some(id) => Some(organisation_name(&state.db, id).await?),
        None => None,
    };
    Ok(SetupLinkInfo {
        creates_organisation: link.purpose == LinkPurpose::PlatformSetup,
        organisation_name,
    })
}

/// The form after every field has been parsed.
struct ValidSetup {
    organisation_name: Option<OrganisationName>,
    person: Person,
    password: Password,
}

fn parse_form(form: &SetupForm, creates_organisation: bool) -> Result<ValidSetup, AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let organisation_name = if creates_organisation {
        collect(
            &mut errors,
            OrganisationName::parse(&form.organisation_name),
        )
    } else {
        None
    };
    let person = PersonForm {
        first_name: &form.first_name,
        last_name: &form.last_name,
        email: &form.email,
        username: (!form.generate_username).then_some(form.username.as_str()),
        initials: Some(&form.initials),
    }
    .parse()
    .map_err(|person_errors| errors.extend(person_errors))
    .ok();
    let password = collect(
        &mut errors,
        Password::parse(
            &form.password,
            &PasswordContext {
                first_name: &form.first_name,
                last_name: &form.last_name,
                username: person
                    .as_ref()
                    .map_or(form.username.as_str(), |p| p.username.as_str()),
                email: &form.email,
            },
        ),
    );
    match (person, password) {
        (Some(person), Some(password)) if errors.is_empty() => Ok(ValidSetup {
            organisation_name,
            person,
            password,
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Completes a setup link: creates the organisation (for the bootstrap link)
/// and its administrator, active at once, and consumes the link. Returns the
/// new user's id. All of it happens in one transaction or not at all.
pub async fn complete(
    state: &AppState,
    token: &str,
    form: &SetupForm,
    client_address: &str,
) -> Result<i64, AppError> {
    let link = live_link(&state.db, state.now(), token).await?;
    let creates_organisation = link.purpose == LinkPurpose::PlatformSetup;
    let valid = parse_form(form, creates_organisation)?;
    let password_hash = state.hasher.hash(&valid.password).await?;

    let now = state.now();
    let mut write = state.db.begin_write().await?;
    if !links::consume(&mut write, now, link.id).await? {
        return Err(AppError::LinkExpired);
    }
    let organisation_id = match (&valid.organisation_name, link.organisation_id) {
        (Some(name), _) => insert_organisation(&mut write, now, name).await?,
        (None, Some(id)) => id,
        (None, None) => return Err(AppError::LinkExpired),
    };
    let user_id = users::insert(
        &mut write,
        now,
        &NewAccount {
            organisation_id,
            kind: AccountKind::Person,
            first_name: valid.person.first_name,
            last_name: valid.person.last_name,
            email: valid.person.email,
            username: valid.person.username,
            initials: valid.person.initials,
            password_hash: Some(password_hash),
            state: AccountState::Active,
            is_platform_admin: creates_organisation,
            created_by: None,
        },
    )
    .await?;
    crate::access::grant_role_by_name(
        &mut write,
        now,
        user_id,
        organisation_id,
        crate::access::ADMINISTRATOR_ROLE,
        None,
    )
    .await?;
    if creates_organisation {
        Acting::new(now, ActedBy::user(user_id), client_address)
            .audit(
                &mut *write,
                Action::OrganisationCreated,
                Subject::Organisation(organisation_id),
                "via=setup_link",
            )
            .await?;
    }
    Acting::new(now, ActedBy::user(user_id), client_address)
        .audit(
            &mut *write,
            Action::AccountCreated,
            Subject::Account(user_id),
            format!(
                "via=setup_link role={}",
                if creates_organisation {
                    "platform_administrator"
                } else {
                    "administrator"
                }
            ),
        )
        .await?;
    write.commit().await?;
    Ok(user_id)
}
