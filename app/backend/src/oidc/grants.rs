//! The token endpoint and what uses its tokens: an authorization code (with
//! its PKCE verifier) becomes an ID token, an access token and a refresh
//! token; a refresh token, used once, becomes a new pair; UserInfo answers
//! an access token. Every token belongs to an application session, which
//! belongs to a Gatehouse session: a token works only while both last, the
//! person is active and may still use the application, and the application
//! is enabled. A refresh token that comes back after its use ends its
//! application session, since one of the two holders is not the application.

use super::applications::{self, Application};
use super::authorize::{is_pkce_value, session_facts};
use super::{ACR_PASSWORD, ACR_TWO_FACTOR, ID_TOKEN_SECONDS, claims, keys};
use crate::acting::{Acting, Write};
use crate::audit::{ActedBy, Action, Subject};
use crate::crypto::tokens;
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{AppError, Audience, ClientKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// What access and refresh tokens start with, so one found in a log is
/// recognisable for what it is.
const ACCESS_PREFIX: &str = "gaa_";
const REFRESH_PREFIX: &str = "gar_";
/// Activity (the last use of a session) is written at most this often.
const ACTIVITY_RESOLUTION_SECONDS: i64 = 60;

/// An OAuth error answer (RFC 6749 5.2): a status and a JSON body.
#[derive(Debug)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// The client tried HTTP Basic authentication and failed: the answer
    /// carries `WWW-Authenticate: Basic`.
    pub basic_challenge: bool,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    pub(super) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }

    pub(super) fn invalid_client(basic: bool) -> Self {
        OAuthError {
            basic_challenge: basic,
            ..Self::new(401, "invalid_client", "Client authentication failed")
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Busy { .. } | AppError::Unavailable => Self::new(
                503,
                "temporarily_unavailable",
                "Gatehouse cannot answer just now; try again shortly",
            ),
            // Internal errors were logged with their id where they arose.
            other => Self::new(500, "server_error", other.to_string()),
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

/// The token endpoint's form (RFC 6749 4.1.3 and 6).
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Revocation and introspection: the token in question.
    pub token: Option<String>,
}

/// How the client identified itself: HTTP Basic (`basic`), or the form.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Finds and checks the client: a confidential one by its secret, a public
/// one by its id alone (its proof is the PKCE verifier).
async fn authenticate(
    state: &AppState,
    credentials: &ClientCredentials,
    request: &TokenRequest,
) -> Result<Application, OAuthError> {
    let basic = credentials.basic.is_some();
    let (client_id, secret) = match (&credentials.basic, &request.client_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Authenticate the client one way only",
            ));
        }
        (Some((id, secret)), None) => (
            Some(id.as_str()),
            Some(secret.as_str()).filter(|s| !s.is_empty()),
        ),
        (None, secret) => (request.client_id.as_deref(), secret.as_deref()),
    };
    if let (Some((id, _)), Some(form_id)) = (&credentials.basic, &request.client_id)
        && id != form_id
    {
        return Err(OAuthError::invalid_client(basic));
    }
    let Some(client_id) = client_id.filter(|id| !id.is_empty()) else {
        return Err(OAuthError::invalid_client(basic));
    };
    let application = applications::by_client_id(&state.db.pool, client_id)
        .await?
        .filter(|a| !a.disabled)
        .ok_or_else(|| OAuthError::invalid_client(basic))?;
    let proved = match (application.client_kind, secret) {
        (ClientKind::Confidential, Some(secret)) => application.secret_matches(secret),
        (ClientKind::Public, None) => true,
        _ => false,
    };
    if !proved {
        return Err(OAuthError::invalid_client(basic));
    }
    Ok(application)
}

/// The token endpoint.
pub async fn token(
    state: &AppState,
    client_address: &str,
    credentials: &ClientCredentials,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let application = authenticate(state, credentials, request).await?;
    match request.grant_type.as_deref() {
        Some("authorization_code") => {
            exchange_code(state, client_address, &application, request).await
        }
        Some("refresh_token") => refresh(state, client_address, &application, request).await,
        Some(_) => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "Only authorization_code and refresh_token are supported",
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: i64,
    application_id: i64,
    session_id: i64,
    redirect_uri: String,
    code_challenge: String,
    scope: String,
    nonce: Option<String>,
    expires_at: i64,
    user_id: i64,
}

async fn exchange_code(
    state: &AppState,
    client_address: &str,
    application: &Application,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let verifier = request.code_verifier.as_deref().unwrap_or_default();
    if !is_pkce_value(verifier) {
        return Err(OAuthError::invalid_request(
            "code_verifier is missing or malformed",
        ));
    }
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT c.id, c.application_id, c.session_id, c.redirect_uri, c.code_challenge, c.scope, c.nonce,
                c.expires_at, s.user_id
         FROM authorization_codes c JOIN sessions s ON s.id = c.session_id
         WHERE c.code_hash = $1",
    )
    .bind(tokens::hash(code))
    .fetch_optional(&state.db.pool)
    .await?;
    let refused =
        || OAuthError::invalid_grant("The code is unknown, used, expired or not this client's");
    let Some(row) = row.filter(|r| r.application_id == application.id) else {
        return Err(refused());
    };
    let now = state.now();
    let mut write = Acting::new(now, ActedBy::user(row.user_id), client_address)
        .begin(&state.db)
        .await?;
    // Only the holder of the verifier proves anything with the code: a
    // stranger holding a used code cannot end what it gave.
    if request.redirect_uri.as_deref().unwrap_or_default() != row.redirect_uri
        || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != row.code_challenge
    {
        return Err(refused());
    }
    let spent = sqlx::query(
        "UPDATE authorization_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(row.id)
    .execute(&mut *write)
    .await?;
    if spent.rows_affected() != 1 {
        // Used before, or a moment ago by a concurrent exchange: whoever
        // used it first may not be the application, so what it got ends
        // (RFC 6749 4.1.2). Read again here, after the other use committed.
        let (first_use,): (Option<i64>,) =
            sqlx::query_as("SELECT application_session_id FROM authorization_codes WHERE id = $1")
                .bind(row.id)
                .fetch_one(&mut *write)
                .await?;
        if let Some(id) = first_use {
            end_for_application(
                &mut write,
                application,
                id,
                row.user_id,
                Action::ApplicationSignedOut,
                "code_replayed",
            )
            .await?;
            write.commit().await?;
        }
        return Err(refused());
    }
    if now >= row.expires_at {
        return Err(refused());
    }
    let facts = session_facts(&mut *write, row.session_id).await?;
    let standing = standing_of(&mut write, state, row.session_id).await?;
    if !signed_in(&mut write, application, &standing, row.user_id).await? {
        return Err(OAuthError::invalid_grant(
            "The person's Gatehouse session has ended, or they may no longer use this application",
        ));
    }
    let session =
        open_application_session(&mut write, application.id, row.user_id, row.session_id).await?;
    sqlx::query("UPDATE authorization_codes SET application_session_id = $1 WHERE id = $2")
        .bind(session.id)
        .bind(row.id)
        .execute(&mut *write)
        .await?;
    let issued = issue(&mut write, application, session.id, &row.scope).await?;
    let mut id_token = claims::about(&mut write, application, row.user_id, &row.scope).await?;
    let (amr, acr) = if facts.second_factor {
        (json!(["pwd", "otp", "mfa"]), ACR_TWO_FACTOR)
    } else {
        (json!(["pwd"]), ACR_PASSWORD)
    };
    for (claim, value) in [
        ("iss", json!(super::endpoints::issuer(&state.settings))),
        ("aud", json!(application.client_id)),
        ("azp", json!(application.client_id)),
        ("iat", json!(now)),
        ("exp", json!(now + ID_TOKEN_SECONDS)),
        ("auth_time", json!(facts.signed_in_at)),
        ("sid", json!(session.sid)),
        ("amr", amr),
        ("acr", json!(acr)),
    ] {
        id_token.insert(claim.into(), value);
    }
    if let Some(nonce) = &row.nonce {
        id_token.insert("nonce".into(), json!(nonce));
    }
    if session.new {
        write
            .audit(
                Action::ApplicationSignedIn,
                Subject::Account(row.user_id),
                format!(
                    "application={} client_id={}",
                    application.name, application.client_id
                ),
            )
            .await?;
    }
    write.commit().await?;
    // Signed once the write is committed: an RSA signature takes
    // milliseconds, and SQLite's write lock is everyone's.
    let key = keys::current(
        &state.db,
        &state.settings,
        now,
        application.id_token_algorithm,
    )
    .await?;
    let id_token = key.sign("JWT", &Value::Object(id_token))?;
    Ok(TokenResponse {
        id_token: Some(id_token),
        ..issued.response(application, &row.scope)
    })
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    kind: String,
    scope: String,
    expires_at: i64,
    spent_at: Option<i64>,
    application_session_id: i64,
    application_id: i64,
    user_id: i64,
    session_id: i64,
    ended_at: Option<i64>,
    last_used_at: i64,
    #[sqlx(flatten)]
    standing: Standing,
}

/// Where a person stands, read with their code or token: whether the
/// Gatehouse session is live (not ended, past the code step, neither idle
/// nor past its absolute end), whether it proved a second factor, and
/// whether the account is an active person's of which organisation.
#[derive(sqlx::FromRow)]
struct Standing {
    session_live: i64,
    second_factor: i64,
    last_seen_at: i64,
    person_active: i64,
    organisation_id: i64,
}

/// The columns of [`Standing`] from `sessions s` and `users u`, with the
/// time as `$1` and the idle cut-off as `$2`.
const STANDING: &str = "CASE WHEN s.ended_at IS NULL AND s.stage = 'complete' AND s.expires_at > $1
             AND s.last_seen_at > $2 THEN 1 ELSE 0 END AS session_live,
        s.second_factor, s.last_seen_at,
        CASE WHEN u.state = 'active' AND u.kind = 'person' THEN 1 ELSE 0 END AS person_active,
        u.organisation_id";

/// A token, with its application session and where its person stands: one
/// query, so each use of a token costs one read before its write.
async fn find_token<'c, E>(
    executor: E,
    state: &AppState,
    token: &str,
) -> Result<Option<TokenRow>, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let now = state.now();
    Ok(sqlx::query_as(&format!(
        "SELECT t.id, t.kind, t.scope, t.expires_at, t.spent_at, t.application_session_id,
                a.application_id, a.user_id, a.session_id, a.ended_at, a.last_used_at, {STANDING}
         FROM application_tokens t
         JOIN application_sessions a ON a.id = t.application_session_id
         JOIN sessions s ON s.id = a.session_id
         JOIN users u ON u.id = a.user_id
         WHERE t.token_hash = $3"
    ))
    .bind(now)
    .bind(now - state.settings.session_idle_timeout_seconds)
    .bind(tokens::hash(token))
    .fetch_optional(executor)
    .await?)
}

/// Where the person of Gatehouse session `session_id` stands.
async fn standing_of(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    session_id: i64,
) -> Result<Standing, AppError> {
    let now = state.now();
    Ok(sqlx::query_as(&format!(
        "SELECT {STANDING} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $3"
    ))
    .bind(now)
    .bind(now - state.settings.session_idle_timeout_seconds)
    .bind(session_id)
    .fetch_one(conn)
    .await?)
}

async fn refresh(
    state: &AppState,
    client_address: &str,
    application: &Application,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let refused =
        || OAuthError::invalid_grant("The refresh token is unknown, used, expired or revoked");
    let now = state.now();
    let Some(row) = find_token(&state.db.pool, state, presented)
        .await?
        .filter(|t| t.kind == "refresh" && t.application_id == application.id)
    else {
        return Err(refused());
    };
    let mut write = Acting::new(now, ActedBy::user(row.user_id), client_address)
        .begin(&state.db)
        .await?;
    // Spent in the same statement that checks it, so of two uses at once
    // exactly one wins and the other counts as reuse.
    let spent = sqlx::query(
        "UPDATE application_tokens SET spent_at = $1 WHERE id = $2 AND spent_at IS NULL",
    )
    .bind(now)
    .bind(row.id)
    .execute(&mut *write)
    .await?;
    if spent.rows_affected() != 1 {
        if row.ended_at.is_none() {
            end_for_application(
                &mut write,
                application,
                row.application_session_id,
                row.user_id,
                Action::RefreshTokenReused,
                "refresh_token_reused",
            )
            .await?;
            write.commit().await?;
        }
        return Err(refused());
    }
    if row.spent_at.is_some() || row.ended_at.is_some() || now >= row.expires_at {
        return Err(refused());
    }
    if !signed_in(&mut write, application, &row.standing, row.user_id).await? {
        return Err(refused());
    }
    let issued = issue(
        &mut write,
        application,
        row.application_session_id,
        &row.scope,
    )
    .await?;
    // Using an application counts as activity of the Gatehouse session it
    // came from, as a click in Gatehouse would; both are written at most
    // once a minute, as sessions' are.
    for (table, column, id, last) in [
        (
            "sessions",
            "last_seen_at",
            row.session_id,
            row.standing.last_seen_at,
        ),
        (
            "application_sessions",
            "last_used_at",
            row.application_session_id,
            row.last_used_at,
        ),
    ] {
        if now - last >= ACTIVITY_RESOLUTION_SECONDS {
            sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                .bind(now)
                .bind(id)
                .execute(&mut *write)
                .await?;
        }
    }
    write.commit().await?;
    Ok(issued.response(application, &row.scope))
}

/// Whether the person still stands where the application needs them:
/// signed in to Gatehouse, with a second factor if it requires one, and
/// allowed in (an active person of its organisation, in its audience).
async fn signed_in(
    conn: &mut sqlx::AnyConnection,
    application: &Application,
    standing: &Standing,
    user_id: i64,
) -> Result<bool, AppError> {
    if standing.session_live != 1
        || application.disabled
        || (application.requires_two_factor && standing.second_factor != 1)
    {
        return Ok(false);
    }
    match application.audience {
        Audience::Everyone => {
            Ok(standing.person_active == 1
                && standing.organisation_id == application.organisation_id)
        }
        Audience::Chosen => claims::may_use(conn, application, user_id).await,
    }
}

struct ApplicationSession {
    id: i64,
    sid: String,
    /// Opened by this exchange (not joined).
    new: bool,
}

/// The person's live session with the application from this Gatehouse
/// session, opened if there is none.
async fn open_application_session(
    write: &mut Write<'_>,
    application_id: i64,
    user_id: i64,
    session_id: i64,
) -> Result<ApplicationSession, AppError> {
    let now = write.now();
    let opened = sqlx::query(
        "INSERT INTO application_sessions (application_id, user_id, session_id, sid, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (application_id, session_id) WHERE ended_at IS NULL DO NOTHING",
    )
    .bind(application_id)
    .bind(user_id)
    .bind(session_id)
    .bind(tokens::generate())
    .bind(now)
    .execute(&mut **write)
    .await?;
    let (id, sid): (i64, String) = sqlx::query_as(
        "SELECT id, sid FROM application_sessions
         WHERE application_id = $1 AND session_id = $2 AND ended_at IS NULL",
    )
    .bind(application_id)
    .bind(session_id)
    .fetch_one(&mut **write)
    .await?;
    Ok(ApplicationSession {
        id,
        sid,
        new: opened.rows_affected() == 1,
    })
}

/// A new access and refresh token.
struct Issued {
    access_token: String,
    refresh_token: String,
}

impl Issued {
    fn response(self, application: &Application, scope: &str) -> TokenResponse {
        TokenResponse {
            access_token: self.access_token,
            token_type: "Bearer".into(),
            expires_in: application.access_token_seconds,
            refresh_token: self.refresh_token,
            id_token: None,
            scope: scope.to_owned(),
        }
    }
}

async fn issue(
    write: &mut Write<'_>,
    application: &Application,
    application_session_id: i64,
    scope: &str,
) -> Result<Issued, AppError> {
    let now = write.now();
    let issued = Issued {
        access_token: format!("{ACCESS_PREFIX}{}", tokens::generate()),
        refresh_token: format!("{REFRESH_PREFIX}{}", tokens::generate()),
    };
    sqlx::query(
        "INSERT INTO application_tokens (application_session_id, kind, token_hash, scope, created_at, expires_at)
         VALUES ($1, 'access', $2, $3, $4, $5), ($1, 'refresh', $6, $3, $4, $7)",
    )
    .bind(application_session_id)
    .bind(tokens::hash(&issued.access_token))
    .bind(scope)
    .bind(now)
    .bind(now + application.access_token_seconds)
    .bind(tokens::hash(&issued.refresh_token))
    .bind(now + application.refresh_token_seconds)
    .execute(&mut **write)
    .await?;
    Ok(issued)
}

/// Ends one application session on the application's account (its code
/// replayed, its refresh token reused or revoked) and records why.
async fn end_for_application(
    write: &mut Write<'_>,
    application: &Application,
    application_session_id: i64,
    user_id: i64,
    action: Action,
    reason: &str,
) -> Result<(), AppError> {
    end_application_sessions(write, Ending::One(application_session_id), reason).await?;
    write
        .audit(
            action,
            Subject::Account(user_id),
            format!(
                "application={} client_id={} reason={reason}",
                application.name, application.client_id
            ),
        )
        .await?;
    Ok(())
}

/// Which application sessions end.
#[derive(Debug, Clone, Copy)]
pub enum Ending {
    /// One application session.
    One(i64),
    /// Every one of an application (disabled).
    Application(i64),
    /// Every one from a Gatehouse session.
    Session(i64),
    /// Every one of a person.
    User(i64),
}

/// Ends application sessions, and with them every token issued in them,
/// in the caller's transaction, queueing their back-channel logout notices.
/// Returns how many ended.
pub async fn end_application_sessions(
    write: &mut Write<'_>,
    ending: Ending,
    reason: &str,
) -> Result<u64, AppError> {
    let (column, id) = match ending {
        Ending::One(id) => ("id", id),
        Ending::Application(id) => ("application_id", id),
        Ending::Session(id) => ("session_id", id),
        Ending::User(id) => ("user_id", id),
    };
    let now = write.now();
    let ended = sqlx::query(&format!(
        "UPDATE application_sessions SET ended_at = $1, end_reason = $2
         WHERE {column} = $3 AND ended_at IS NULL"
    ))
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(&mut **write)
    .await?;
    super::logout::queue_notices(write, now).await?;
    Ok(ended.rows_affected())
}

/// A token that works now, with its application: not spent, not expired,
/// its application session and Gatehouse session live, its person still
/// allowed in, its application enabled.
async fn live_token(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    token: &str,
) -> Result<Option<(TokenRow, Application)>, AppError> {
    let now = state.now();
    let Some(row) = find_token(&mut *conn, state, token)
        .await?
        .filter(|t| t.spent_at.is_none() && t.ended_at.is_none() && now < t.expires_at)
    else {
        return Ok(None);
    };
    let Some(application) = applications::by_id(&mut *conn, row.application_id).await? else {
        return Ok(None);
    };
    if !signed_in(conn, &application, &row.standing, row.user_id).await? {
        return Ok(None);
    }
    Ok(Some((row, application)))
}

/// UserInfo's answer to an access token: the claims its scope allows, or
/// `None` when the token does not (or no longer) work.
pub async fn userinfo(
    state: &AppState,
    access_token: &str,
) -> Result<Option<Map<String, Value>>, AppError> {
    let mut conn = state.db.pool.acquire().await?;
    let Some((row, application)) = live_token(state, &mut conn, access_token)
        .await?
        .filter(|(row, _)| row.kind == "access")
    else {
        return Ok(None);
    };
    Ok(Some(
        claims::about(&mut conn, &application, row.user_id, &row.scope).await?,
    ))
}

/// Token revocation (RFC 7009) by the application the token was issued to:
/// an access token stops working; a refresh token ends its application
/// session, every token with it. Anything else (unknown, another
/// application's) changes nothing and is answered the same.
pub async fn revoke(
    state: &AppState,
    client_address: &str,
    credentials: &ClientCredentials,
    request: &TokenRequest,
) -> Result<(), OAuthError> {
    let application = authenticate(state, credentials, request).await?;
    let token = request
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let Some(row) = find_token(&state.db.pool, state, token)
        .await?
        .filter(|t| t.application_id == application.id && t.ended_at.is_none())
    else {
        return Ok(());
    };
    let mut write = Acting::new(state.now(), ActedBy::user(row.user_id), client_address)
        .begin(&state.db)
        .await?;
    if row.kind == "refresh" {
        end_for_application(
            &mut write,
            &application,
            row.application_session_id,
            row.user_id,
            Action::ApplicationSignedOut,
            "revoked_by_application",
        )
        .await?;
    } else {
        let now = write.now();
        sqlx::query(
            "UPDATE application_tokens SET spent_at = $1 WHERE id = $2 AND spent_at IS NULL",
        )
        .bind(now)
        .bind(row.id)
        .execute(&mut *write)
        .await?;
    }
    write.commit().await?;
    Ok(())
}

/// Token introspection (RFC 7662) for confidential applications, typically
/// an API checking the access tokens it is sent: whether a token works now
/// and what it stands for. Only access tokens of the caller's own
/// organisation's applications, and its own refresh tokens, are ever active
/// to it.
pub async fn introspect(
    state: &AppState,
    credentials: &ClientCredentials,
    request: &TokenRequest,
) -> Result<Value, OAuthError> {
    let caller = authenticate(state, credentials, request).await?;
    if caller.client_kind != ClientKind::Confidential {
        return Err(OAuthError::invalid_client(credentials.basic.is_some()));
    }
    let token = request
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let mut conn = state.db.pool.acquire().await?;
    let Some((row, application)) =
        live_token(state, &mut conn, token)
            .await?
            .filter(|(row, application)| {
                application.organisation_id == caller.organisation_id
                    && (row.kind == "access" || application.id == caller.id)
            })
    else {
        return Ok(json!({ "active": false }));
    };
    let (username, sid, issued_at): (String, String, i64) = sqlx::query_as(
        "SELECT u.username, a.sid, t.created_at FROM application_tokens t
         JOIN application_sessions a ON a.id = t.application_session_id
         JOIN users u ON u.id = a.user_id WHERE t.id = $1",
    )
    .bind(row.id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "active": true,
        "scope": row.scope,
        "client_id": application.client_id,
        "username": username,
        "token_type": if row.kind == "access" { "Bearer" } else { "refresh_token" },
        "exp": row.expires_at,
        "iat": issued_at,
        "sub": row.user_id.to_string(),
        "aud": application.client_id,
        "iss": super::endpoints::issuer(&state.settings),
        "sid": sid,
    }))
}

/// Housekeeping: forgets codes and tokens a day after they expired (a
/// spent refresh token is kept until then, so its reuse is caught while it
/// could still have worked), and back-channel notices a month after they
/// were delivered or given up. Application sessions stay, like sessions.
pub async fn forget_expired(
    db: &crate::db::Db,
    now: crate::clock::UnixTime,
) -> Result<(), sqlx::Error> {
    let expired = now - 24 * 3600;
    let done = now - 30 * 24 * 3600;
    for (sql, cutoff) in [
        (
            "DELETE FROM authorization_codes WHERE expires_at < $1",
            expired,
        ),
        (
            "DELETE FROM application_tokens WHERE expires_at < $1",
            expired,
        ),
        (
            "DELETE FROM logout_outbox WHERE sent_at < $1 OR given_up_at < $1",
            done,
        ),
    ] {
        sqlx::query(sql).bind(cutoff).execute(&db.pool).await?;
    }
    Ok(())
}
