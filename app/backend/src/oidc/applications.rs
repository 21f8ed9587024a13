//! An organisation's connected applications, as holders of *Can manage
//! applications* register, change and disable them. A confidential
//! application's secret is made here, shown once and stored as its SHA-256.

use crate::access::actor::Actor;
use crate::acting::{Acting, Write};
use crate::audit::{Action, Subject};
use crate::auth::sessions::SignedIn;
use crate::clock::{UnixTime, format_utc};
use crate::crypto::sealing::{self, Sealed};
use crate::crypto::tokens;
use crate::db::{internal, violated_constraint};
use crate::state::AppState;
use domain::wire::{ApplicationDetail, ApplicationLine, AudienceChoice};
use domain::{
    AppError, ApplicationForm, ApplicationName, ApplicationSettings, ApplicationUri, Audience,
    ClientKind, SigningAlgorithm,
};

/// What a secret starts with, so one found in a log or a repository is
/// recognisable.
const SECRET_PREFIX: &str = "gcs_";

/// A registered application, as the protocol reads it.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: i64,
    pub organisation_id: i64,
    pub client_id: String,
    pub name: String,
    pub client_kind: ClientKind,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<ApplicationUri>,
    pub post_logout_redirect_uris: Vec<ApplicationUri>,
    pub backchannel_logout_uri: Option<ApplicationUri>,
    pub audience: Audience,
    pub requires_two_factor: bool,
    pub id_token_algorithm: SigningAlgorithm,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub disabled: bool,
    pub secret_set_at: Option<UnixTime>,
}

impl Application {
    /// Whether `uri` is one of its redirect URIs, compared exactly.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }

    /// Whether `secret` is its secret (confidential applications only).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|hash| tokens::hash(secret) == hash)
    }
}

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    id: i64,
    organisation_id: i64,
    client_id: String,
    name: String,
    client_kind: String,
    secret_hash: Option<String>,
    secret_set_at: Option<i64>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: Option<String>,
    audience: String,
    requires_two_factor: i64,
    id_token_algorithm: String,
    access_token_seconds: i64,
    refresh_token_seconds: i64,
    disabled_at: Option<i64>,
}

const COLUMNS: &str =
    "id, organisation_id, client_id, name, client_kind, secret_hash, secret_set_at,
    redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, audience, requires_two_factor,
    id_token_algorithm, access_token_seconds, refresh_token_seconds, disabled_at";

impl TryFrom<ApplicationRow> for Application {
    type Error = AppError;

    fn try_from(row: ApplicationRow) -> Result<Self, AppError> {
        let unknown = |what: &str, value: &str| {
            internal(format!(
                "application {} has an unknown {what} {value}",
                row.id
            ))
        };
        Ok(Application {
            id: row.id,
            organisation_id: row.organisation_id,
            client_kind: ClientKind::from_name(&row.client_kind)
                .ok_or_else(|| unknown("client kind", &row.client_kind))?,
            audience: Audience::from_name(&row.audience)
                .ok_or_else(|| unknown("audience", &row.audience))?,
            id_token_algorithm: SigningAlgorithm::from_name(&row.id_token_algorithm)
                .ok_or_else(|| unknown("algorithm", &row.id_token_algorithm))?,
            client_id: row.client_id,
            name: row.name,
            secret_hash: row.secret_hash,
            secret_set_at: row.secret_set_at,
            redirect_uris: ApplicationUri::split(&row.redirect_uris),
            post_logout_redirect_uris: ApplicationUri::split(&row.post_logout_redirect_uris),
            backchannel_logout_uri: row
                .backchannel_logout_uri
                .as_deref()
                .map(ApplicationUri::split)
                .and_then(|uris| uris.into_iter().next()),
            requires_two_factor: row.requires_two_factor == 1,
            access_token_seconds: row.access_token_seconds,
            refresh_token_seconds: row.refresh_token_seconds,
            disabled: row.disabled_at.is_some(),
        })
    }
}

/// The application with this client id, enabled or not.
pub async fn by_client_id<'c, E>(
    executor: E,
    client_id: &str,
) -> Result<Option<Application>, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Option<ApplicationRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM applications WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(executor)
    .await?;
    row.map(Application::try_from).transpose()
}

/// The application with this id, enabled or not.
pub async fn by_id<'c, E>(executor: E, id: i64) -> Result<Option<Application>, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Option<ApplicationRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM applications WHERE id = $1"))
            .bind(id)
            .fetch_optional(executor)
            .await?;
    row.map(Application::try_from).transpose()
}

/// One of the organisation's applications; another organisation's is not found.
async fn of_organisation<'c, E>(
    executor: E,
    organisation_id: i64,
    id: i64,
) -> Result<Application, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Option<ApplicationRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM applications WHERE id = $1 AND organisation_id = $2"
    ))
    .bind(id)
    .bind(organisation_id)
    .fetch_optional(executor)
    .await?;
    row.map(Application::try_from)
        .transpose()?
        .ok_or_else(|| AppError::NotFound("The application".into()))
}

/// The name of the application with `client_id`, for the page that says
/// why someone cannot use it.
pub async fn name_of(state: &AppState, client_id: &str) -> Result<Option<String>, AppError> {
    Ok(by_client_id(&state.db.pool, client_id)
        .await?
        .map(|application| application.name))
}

/// The organisation's applications, by name.
pub async fn list(state: &AppState, admin: &Actor) -> Result<Vec<ApplicationLine>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Line {
        id: i64,
        name: String,
        client_id: String,
        client_kind: String,
        audience: String,
        requires_two_factor: i64,
        disabled_at: Option<i64>,
        signed_in: i64,
    }
    let lines: Vec<Line> = sqlx::query_as(
        "SELECT a.id, a.name, a.client_id, a.client_kind, a.audience, a.requires_two_factor, a.disabled_at,
                (SELECT COUNT(DISTINCT s.user_id) FROM application_sessions s
                 WHERE s.application_id = a.id AND s.ended_at IS NULL) AS signed_in
         FROM applications a WHERE a.organisation_id = $1 ORDER BY lower(a.name)",
    )
    .bind(admin.working_organisation_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut result = Vec::with_capacity(lines.len());
    for line in lines {
        let audience = if line.audience == Audience::Everyone.as_str() {
            "Everyone in the organisation".to_owned()
        } else {
            let names = chosen_names(state, line.id).await?;
            format!("Holders of {}", names.join(", "))
        };
        result.push(ApplicationLine {
            id: line.id,
            name: line.name,
            client_id: line.client_id,
            kind: if line.client_kind == ClientKind::Public.as_str() {
                "Public".into()
            } else {
                "Confidential".into()
            },
            audience,
            requires_two_factor: line.requires_two_factor == 1,
            disabled: line.disabled_at.is_some(),
            signed_in: line.signed_in,
        });
    }
    Ok(result)
}

/// The names of the roles and profiles an application is open to.
async fn chosen_names(state: &AppState, application_id: i64) -> Result<Vec<String>, AppError> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT r.name FROM application_roles ar JOIN roles r ON r.id = ar.role_id WHERE ar.application_id = $1
         UNION ALL
         SELECT p.name FROM application_profiles ap JOIN profiles p ON p.id = ap.profile_id WHERE ap.application_id = $1",
    )
    .bind(application_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(names.into_iter().map(|(name,)| name).collect())
}

/// A new registration's starting values.
fn blank_form() -> ApplicationForm {
    ApplicationForm {
        client_kind: ClientKind::Confidential.as_str().into(),
        audience: Audience::Everyone.as_str().into(),
        id_token_algorithm: SigningAlgorithm::Rs256.as_str().into(),
        access_token_minutes: "10".into(),
        refresh_token_hours: "720".into(),
        ..ApplicationForm::default()
    }
}

fn form_of(
    application: &Application,
    role_ids: Vec<i64>,
    profile_ids: Vec<i64>,
) -> ApplicationForm {
    ApplicationForm {
        name: application.name.clone(),
        client_kind: application.client_kind.as_str().into(),
        redirect_uris: ApplicationUri::join(&application.redirect_uris),
        post_logout_redirect_uris: ApplicationUri::join(&application.post_logout_redirect_uris),
        backchannel_logout_uri: application
            .backchannel_logout_uri
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default(),
        audience: application.audience.as_str().into(),
        role_ids,
        profile_ids,
        requires_two_factor: application.requires_two_factor,
        id_token_algorithm: application.id_token_algorithm.as_str().into(),
        access_token_minutes: (application.access_token_seconds / 60).to_string(),
        refresh_token_hours: (application.refresh_token_seconds / 3600).to_string(),
    }
}

async fn chosen_ids(
    state: &AppState,
    application_id: i64,
    table: &str,
    column: &str,
) -> Result<Vec<i64>, AppError> {
    let ids: Vec<(i64,)> = sqlx::query_as(&format!(
        "SELECT {column} FROM {table} WHERE application_id = $1 ORDER BY {column}"
    ))
    .bind(application_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// An application's page (`id`), or the page that registers one (`None`).
/// The secret made a moment ago in this session is shown this once.
pub async fn detail(
    state: &AppState,
    admin: &SignedIn,
    id: Option<i64>,
) -> Result<ApplicationDetail, AppError> {
    let organisation_id = admin.working_organisation_id;
    let application = match id {
        Some(id) => Some(of_organisation(&state.db.pool, organisation_id, id).await?),
        None => None,
    };
    let (form, role_ids, profile_ids) = match &application {
        Some(application) => {
            let roles = chosen_ids(state, application.id, "application_roles", "role_id").await?;
            let profiles =
                chosen_ids(state, application.id, "application_profiles", "profile_id").await?;
            (
                form_of(application, roles.clone(), profiles.clone()),
                roles,
                profiles,
            )
        }
        None => (blank_form(), vec![], vec![]),
    };
    let choices = |rows: Vec<(i64, String)>, chosen: &[i64]| -> Vec<AudienceChoice> {
        rows.into_iter()
            .map(|(id, name)| AudienceChoice {
                id,
                name,
                chosen: chosen.contains(&id),
            })
            .collect()
    };
    let roles: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM roles WHERE organisation_id = $1 ORDER BY lower(name)",
    )
    .bind(organisation_id)
    .fetch_all(&state.db.pool)
    .await?;
    let profiles: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM profiles WHERE organisation_id = $1 ORDER BY lower(name)",
    )
    .bind(organisation_id)
    .fetch_all(&state.db.pool)
    .await?;
    let new_secret = match &application {
        Some(application) => take_secret_to_show(state, admin, application.id).await?,
        None => None,
    };
    Ok(ApplicationDetail {
        id: application.as_ref().map(|a| a.id),
        client_id: application.as_ref().map(|a| a.client_id.clone()),
        form,
        roles: choices(roles, &role_ids),
        profiles: choices(profiles, &profile_ids),
        disabled: application.as_ref().is_some_and(|a| a.disabled),
        secret_set: application
            .as_ref()
            .and_then(|a| a.secret_set_at)
            .map(format_utc),
        new_secret,
        discovery_url: state.settings.link(super::paths::DISCOVERY),
    })
}

/// Checks that every chosen role and profile is the organisation's.
async fn require_own_choices(
    conn: &mut sqlx::AnyConnection,
    organisation_id: i64,
    settings: &ApplicationSettings,
) -> Result<(), AppError> {
    for (table, ids, what) in [
        ("roles", &settings.role_ids, "A chosen role"),
        ("profiles", &settings.profile_ids, "A chosen profile"),
    ] {
        for id in ids {
            let found: Option<(i64,)> = sqlx::query_as(&format!(
                "SELECT id FROM {table} WHERE id = $1 AND organisation_id = $2"
            ))
            .bind(id)
            .bind(organisation_id)
            .fetch_optional(&mut *conn)
            .await?;
            if found.is_none() {
                return Err(AppError::NotFound(what.into()));
            }
        }
    }
    Ok(())
}

/// Writes the settings of application `id` and its chosen roles and
/// profiles: registering and saving alike.
async fn write_settings(
    write: &mut Write<'_>,
    id: i64,
    settings: &ApplicationSettings,
) -> Result<(), AppError> {
    let now = write.now();
    let updated = sqlx::query(
        "UPDATE applications SET name = $1, redirect_uris = $2, post_logout_redirect_uris = $3,
             backchannel_logout_uri = $4, audience = $5, requires_two_factor = $6, id_token_algorithm = $7,
             access_token_seconds = $8, refresh_token_seconds = $9, updated_at = $10
         WHERE id = $11",
    )
    .bind(settings.name.as_str())
    .bind(ApplicationUri::join(&settings.redirect_uris))
    .bind(ApplicationUri::join(&settings.post_logout_redirect_uris))
    .bind(settings.backchannel_logout_uri.as_ref().map(|u| u.as_str().to_owned()))
    .bind(settings.audience.as_str())
    .bind(i64::from(settings.requires_two_factor))
    .bind(settings.id_token_algorithm.as_str())
    .bind(settings.access_token_seconds)
    .bind(settings.refresh_token_seconds)
    .bind(now)
    .bind(id)
    .execute(&mut **write)
    .await;
    match updated {
        Ok(_) => {}
        Err(e) if violated_constraint(&e).as_deref() == Some("applications_name_key") => {
            return Err(name_taken(&settings.name));
        }
        Err(e) => return Err(e.into()),
    }
    save_choices(write, id, settings).await
}

async fn save_choices(
    conn: &mut sqlx::AnyConnection,
    application_id: i64,
    settings: &ApplicationSettings,
) -> Result<(), AppError> {
    for (table, column, ids) in [
        ("application_roles", "role_id", &settings.role_ids),
        ("application_profiles", "profile_id", &settings.profile_ids),
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE application_id = $1"))
            .bind(application_id)
            .execute(&mut *conn)
            .await?;
        for id in ids {
            sqlx::query(&format!(
                "INSERT INTO {table} (application_id, {column}) VALUES ($1, $2)"
            ))
            .bind(application_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn name_taken(name: &ApplicationName) -> AppError {
    AppError::field(
        "name",
        format!("The organisation already has an application called “{name}”"),
    )
}

/// What the audit log says of a registration.
fn describe(settings: &ApplicationSettings, client_id: &str) -> String {
    format!(
        "application={} client_id={} kind={} audience={} two_factor={} redirect_uris={}",
        settings.name,
        client_id,
        settings.client_kind.as_str(),
        settings.audience.as_str(),
        settings.requires_two_factor,
        ApplicationUri::join(&settings.redirect_uris).replace('\n', ","),
    )
}

/// Registers an application; returns its id. A confidential one gets a
/// secret, kept sealed in the registering session to be shown once on the
/// application's page.
pub async fn register(
    state: &AppState,
    admin: &SignedIn,
    form: &ApplicationForm,
    client_address: &str,
) -> Result<i64, AppError> {
    let settings = form.parse().map_err(AppError::Validation)?;
    let organisation_id = admin.working_organisation_id;
    let client_id = tokens::generate()[..32].to_owned();
    let secret = (settings.client_kind == ClientKind::Confidential)
        .then(|| format!("{SECRET_PREFIX}{}", tokens::generate()));
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    require_own_choices(&mut write, organisation_id, &settings).await?;
    // Made with its identity, then given its settings as saving gives them.
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO applications (organisation_id, client_id, name, client_kind, secret_hash, secret_set_at,
             redirect_uris, post_logout_redirect_uris, audience, id_token_algorithm,
             access_token_seconds, refresh_token_seconds, created_at, updated_at)
         VALUES ($1, $2, $2, $3, $4, $5, '', '', 'everyone', 'RS256', 0, 0, $6, $6)
         RETURNING id",
    )
    .bind(organisation_id)
    .bind(&client_id)
    .bind(settings.client_kind.as_str())
    .bind(secret.as_deref().map(tokens::hash))
    .bind(secret.as_ref().map(|_| now))
    .bind(now)
    .fetch_one(&mut *write)
    .await?;
    write_settings(&mut write, id, &settings).await?;
    if let Some(secret) = &secret {
        keep_secret_to_show(state, &mut write, admin.session_id, id, secret).await?;
    }
    write
        .audit(
            Action::ApplicationRegistered,
            Subject::Organisation(organisation_id),
            describe(&settings, &client_id),
        )
        .await?;
    write.commit().await?;
    Ok(id)
}

/// Saves a changed registration. Its kind cannot change: a public
/// application has no secret to start from, and a confidential one's
/// secret would otherwise stop mattering unnoticed.
pub async fn change(
    state: &AppState,
    admin: &Actor,
    id: i64,
    form: &ApplicationForm,
    client_address: &str,
) -> Result<(), AppError> {
    let settings = form.parse().map_err(AppError::Validation)?;
    let organisation_id = admin.working_organisation_id;
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let application = of_organisation(&mut *write, organisation_id, id).await?;
    if settings.client_kind != application.client_kind {
        return Err(AppError::field(
            "client_kind",
            "An application's type cannot change: register it again as the other type",
        ));
    }
    require_own_choices(&mut write, organisation_id, &settings).await?;
    write_settings(&mut write, id, &settings).await?;
    write
        .audit(
            Action::ApplicationChanged,
            Subject::Organisation(organisation_id),
            describe(&settings, &application.client_id),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// Replaces a confidential application's secret: the old one stops working
/// at once. The new one is shown once on the application's page.
pub async fn new_secret(
    state: &AppState,
    admin: &SignedIn,
    id: i64,
    client_address: &str,
) -> Result<(), AppError> {
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    let application = of_organisation(&mut *write, admin.working_organisation_id, id).await?;
    if application.client_kind != ClientKind::Confidential {
        return Err(AppError::Conflict(
            "A public application has no secret: it proves itself with PKCE".into(),
        ));
    }
    let secret = format!("{SECRET_PREFIX}{}", tokens::generate());
    sqlx::query("UPDATE applications SET secret_hash = $1, secret_set_at = $2, updated_at = $2 WHERE id = $3")
        .bind(tokens::hash(&secret))
        .bind(now)
        .bind(id)
        .execute(&mut *write)
        .await?;
    keep_secret_to_show(state, &mut write, admin.session_id, id, &secret).await?;
    write
        .audit(
            Action::ApplicationSecretReplaced,
            Subject::Organisation(application.organisation_id),
            format!(
                "application={} client_id={}",
                application.name, application.client_id
            ),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// Disables an application (nobody can sign in to it, and everyone signed
/// in is signed out of it) or enables it again.
pub async fn set_disabled(
    state: &AppState,
    admin: &Actor,
    id: i64,
    disabled: bool,
    client_address: &str,
) -> Result<(), AppError> {
    let mut write = Acting::by(admin, state.now(), client_address)
        .begin(&state.db)
        .await?;
    let now = write.now();
    let application = of_organisation(&mut *write, admin.working_organisation_id, id).await?;
    if application.disabled == disabled {
        return Ok(());
    }
    sqlx::query("UPDATE applications SET disabled_at = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled.then_some(now))
        .bind(now)
        .bind(id)
        .execute(&mut *write)
        .await?;
    if disabled {
        super::grants::end_application_sessions(
            &mut write,
            super::grants::Ending::Application(id),
            "application_disabled",
        )
        .await?;
    }
    write
        .audit(
            if disabled {
                Action::ApplicationDisabled
            } else {
                Action::ApplicationEnabled
            },
            Subject::Organisation(application.organisation_id),
            format!(
                "application={} client_id={}",
                application.name, application.client_id
            ),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

async fn keep_secret_to_show(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    session_id: i64,
    application_id: i64,
    secret: &str,
) -> Result<(), AppError> {
    let sealed = sealing::seal(
        &state.settings,
        Sealed::ApplicationSecret,
        application_id,
        secret.as_bytes(),
    )?;
    sqlx::query(
        "UPDATE sessions SET application_secret_to_show = $1, application_secret_for = $2 WHERE id = $3",
    )
    .bind(sealed)
    .bind(application_id)
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The secret of `application_id` waiting in this session, taken: only the
/// request that clears it shows it.
async fn take_secret_to_show(
    state: &AppState,
    admin: &SignedIn,
    application_id: i64,
) -> Result<Option<String>, AppError> {
    let waiting: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
        "SELECT application_secret_to_show FROM sessions WHERE id = $1 AND application_secret_for = $2",
    )
    .bind(admin.session_id)
    .bind(application_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(sealed) = waiting.and_then(|(sealed,)| sealed) else {
        return Ok(None);
    };
    let cleared = sqlx::query(
        "UPDATE sessions SET application_secret_to_show = NULL, application_secret_for = NULL
         WHERE id = $1 AND application_secret_for = $2 AND application_secret_to_show IS NOT NULL",
    )
    .bind(admin.session_id)
    .bind(application_id)
    .execute(&state.db.pool)
    .await?;
    if cleared.rows_affected() != 1 {
        return Ok(None);
    }
    let secret = sealing::open(
        &state.settings,
        Sealed::ApplicationSecret,
        application_id,
        &sealed,
    )?;
    Ok(Some(String::from_utf8(secret).map_err(internal)?))
}
