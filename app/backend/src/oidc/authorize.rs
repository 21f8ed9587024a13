//! The authorization endpoint's decision. An unknown application or an
//! address it did not register gets Gatehouse's own error page and never a
//! redirect (the address could be anyone's); any other bad request goes
//! back to the application with an OAuth error. A person not signed in, or
//! whose sign-in is older than the application asks, signs in first and
//! comes back here. Someone the application is not for is told so by
//! Gatehouse. Everyone else goes back with a code.

use super::applications::{self, Application};
use super::{CODE_SECONDS, SCOPES, claims, paths};
use crate::auth::sessions::{SignedIn, Stage};
use crate::crypto::tokens;
use crate::state::AppState;
use domain::AppError;
use url::Url;
use url::form_urlencoded;

/// Gatehouse's own parameter on the address a person comes back to after
/// signing in again: a keyed hash of the session they had, which will not
/// do. (A session id, not a time: a sign-in within the same second counts.)
const REPLACING: &str = "replacing";
/// Longer than any state or nonce a library makes.
const MAX_PARAMETER_CHARS: usize = 2048;

/// Why Gatehouse cannot send the person back to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No application has this client id, or it was not given.
    UnknownApplication,
    /// The application did not register this redirect address.
    UnregisteredRedirect,
    /// The application is disabled.
    Disabled,
    /// The person is not among those the application is for.
    NotForYou,
    /// The application asks for two-factor authentication, which the
    /// person has not set up.
    TwoFactorRequired,
}

impl Refusal {
    /// The reason as the refusal page's address carries it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::UnknownApplication => "unknown_application",
            Refusal::UnregisteredRedirect => "unregistered_redirect",
            Refusal::Disabled => "disabled",
            Refusal::NotForYou => "not_for_you",
            Refusal::TwoFactorRequired => "two_factor_required",
        }
    }
}

/// What the authorization endpoint does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Back to the application, with a code or an error.
    Redirect(String),
    /// Sign in (again) first, then come back to `next` (a local path).
    SignIn { next: String },
    /// Gatehouse's page saying why; `client_id` is the application's, when
    /// it is known (the page looks its name up: an address cannot put words
    /// on Gatehouse's page).
    Refuse {
        refusal: Refusal,
        client_id: Option<String>,
    },
}

/// The request's parameters, each at most once.
struct Parameters(Vec<(String, String)>);

impl Parameters {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (key, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == key)
                .then_some(key.as_str())
        })
    }

    /// The query to come back to after signing in: without the parameters
    /// that asked for it, naming the session that will not do (if any).
    fn after_sign_in(&self, replacing: Option<String>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.0 {
            if !matches!(key.as_str(), "prompt" | "max_age" | REPLACING) {
                query.append_pair(key, value);
            }
        }
        if let Some(replacing) = replacing {
            query.append_pair(REPLACING, &replacing);
        }
        format!("{}?{}", paths::AUTHORIZE, query.finish())
    }
}

/// An OAuth error for the application, sent back to its redirect address.
struct Rejection {
    error: &'static str,
    description: String,
}

fn reject(error: &'static str, description: impl Into<String>) -> Rejection {
    Rejection {
        error,
        description: description.into(),
    }
}

/// `redirect_uri` with `pairs` added to its query (keeping what it has),
/// and `iss` (RFC 9207), so the application knows who answered.
fn back_to(
    state: &AppState,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
) -> Result<String, AppError> {
    let mut url = Url::parse(redirect_uri).map_err(crate::db::internal)?;
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        query.append_pair("iss", &super::endpoints::issuer(&state.settings));
    }
    Ok(url.to_string())
}

/// Decides what to do with an authorization request (`query`, as sent)
/// from the browser of `signed_in`.
pub async fn decide(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    query: &str,
) -> Result<Decision, AppError> {
    let parameters = Parameters(
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    );
    let refuse = |refusal, application: Option<&Application>| {
        Ok(Decision::Refuse {
            refusal,
            client_id: application.map(|a| a.client_id.clone()),
        })
    };
    let application = match parameters.get("client_id") {
        Some(client_id) if !has_control(client_id) => {
            applications::by_client_id(&state.db.pool, client_id).await?
        }
        _ => None,
    };
    let Some(application) = application else {
        return refuse(Refusal::UnknownApplication, None);
    };
    // Without a registered redirect address there is nowhere safe to send
    // even an error; `redirect_uri` may be left out only when exactly one is
    // registered.
    let redirect_uri = match parameters.get("redirect_uri") {
        Some(uri) if application.redirects_to(uri) => uri.to_owned(),
        None if application.redirect_uris.len() == 1 => {
            application.redirect_uris[0].as_str().to_owned()
        }
        _ => return refuse(Refusal::UnregisteredRedirect, Some(&application)),
    };
    if parameters.repeated() == Some("client_id") || parameters.repeated() == Some("redirect_uri") {
        return refuse(Refusal::UnregisteredRedirect, Some(&application));
    }
    if application.disabled {
        return refuse(Refusal::Disabled, Some(&application));
    }
    let app_state = parameters.get("state").map(str::to_owned);
    let with_state = |mut pairs: Vec<(&'static str, String)>| {
        if let Some(value) = &app_state {
            pairs.push(("state", value.clone()));
        }
        pairs
    };
    match check(state, signed_in, &parameters, &application).await? {
        Checked::Code(code) => {
            let pairs = with_state(vec![("code", code)]);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Ok(Decision::Redirect(back_to(state, &redirect_uri, &pairs)?))
        }
        Checked::SignIn(next) => Ok(Decision::SignIn { next }),
        Checked::Refused(refusal) => refuse(refusal, Some(&application)),
        Checked::Rejected(rejection) => {
            let pairs = with_state(vec![
                ("error", rejection.error.to_owned()),
                ("error_description", rejection.description),
            ]);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Ok(Decision::Redirect(back_to(state, &redirect_uri, &pairs)?))
        }
    }
}

enum Checked {
    Code(String),
    SignIn(String),
    Refused(Refusal),
    Rejected(Rejection),
}

/// The checks after the application and its redirect address are known.
async fn check(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    parameters: &Parameters,
    application: &Application,
) -> Result<Checked, AppError> {
    if let Some(name) = parameters.repeated() {
        return Ok(Checked::Rejected(reject(
            "invalid_request",
            format!("{name} is given more than once"),
        )));
    }
    if let Some((name, _)) = parameters.0.iter().find(|(_, value)| has_control(value)) {
        return Ok(Checked::Rejected(reject(
            "invalid_request",
            format!("{name} holds control characters"),
        )));
    }
    if parameters.get("request").is_some() {
        return Ok(Checked::Rejected(reject(
            "request_not_supported",
            "Request objects are not supported",
        )));
    }
    if parameters.get("request_uri").is_some() {
        return Ok(Checked::Rejected(reject(
            "request_uri_not_supported",
            "Request objects are not supported",
        )));
    }
    if parameters.get("response_type") != Some("code") {
        return Ok(Checked::Rejected(reject(
            "unsupported_response_type",
            "Only the authorization code flow is supported: response_type=code",
        )));
    }
    if !matches!(parameters.get("response_mode"), None | Some("query")) {
        return Ok(Checked::Rejected(reject(
            "invalid_request",
            "Only response_mode=query is supported",
        )));
    }
    let scope = parameters.get("scope").unwrap_or_default();
    let requested: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    if !requested.contains(&"openid") {
        return Ok(Checked::Rejected(reject(
            "invalid_scope",
            "The scope must include openid",
        )));
    }
    // Unknown scopes are left out, as OpenID Connect allows.
    let scope = SCOPES
        .iter()
        .filter(|s| requested.contains(s))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let challenge = parameters.get("code_challenge").unwrap_or_default();
    if parameters.get("code_challenge_method") != Some("S256") || !is_pkce_value(challenge) {
        return Ok(Checked::Rejected(reject(
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        )));
    }
    let nonce = parameters.get("nonce");
    if nonce.is_some_and(|n| n.chars().count() > MAX_PARAMETER_CHARS)
        || parameters
            .get("state")
            .is_some_and(|s| s.chars().count() > MAX_PARAMETER_CHARS)
    {
        return Ok(Checked::Rejected(reject(
            "invalid_request",
            format!("state and nonce must be {MAX_PARAMETER_CHARS} characters or fewer"),
        )));
    }
    let prompts: Vec<&str> = parameters
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .collect();
    let max_age = match parameters.get("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(seconds)) if seconds >= 0 => Some(seconds),
        Some(_) => {
            return Ok(Checked::Rejected(reject(
                "invalid_request",
                "max_age must be a number of seconds",
            )));
        }
    };
    let now = state.now();
    let session_mark =
        |session_id: i64| tokens::keyed_hash(&state.settings, REPLACING, &session_id.to_string());
    let session = match signed_in {
        Some(s) if s.stage == Stage::Complete => Some((
            s,
            session_facts(&state.db.pool, s.session_id).await?,
            session_mark(s.session_id)?,
        )),
        _ => None,
    };
    let replacing = parameters.get(REPLACING);
    // The application's own rule, or its request for a two-factor sign-in.
    let two_factor = application.requires_two_factor
        || parameters
            .get("acr_values")
            .is_some_and(|acr| acr.split(' ').any(|value| value == super::ACR_TWO_FACTOR));
    let fresh_enough = |facts: &SessionFacts, mark: &str| {
        max_age.is_none_or(|age| now - facts.signed_in_at <= age)
            && replacing != Some(mark)
            && (!two_factor || facts.second_factor)
    };
    let login_asked = prompts.contains(&"login");
    let Some((person, _, _)) =
        session.filter(|(_, facts, mark)| !login_asked && fresh_enough(facts, mark))
    else {
        if prompts.contains(&"none") {
            return Ok(Checked::Rejected(reject(
                "login_required",
                "The person must sign in to Gatehouse",
            )));
        }
        if two_factor
            && let Some(person) = signed_in
            && !crate::auth::two_factor::is_enrolled(&state.db.pool, person.user_id).await?
        {
            return Ok(silent_or(
                prompts.contains(&"none"),
                Refusal::TwoFactorRequired,
            ));
        }
        let replacing = match signed_in {
            Some(person) => Some(session_mark(person.session_id)?),
            None => None,
        };
        return Ok(Checked::SignIn(parameters.after_sign_in(replacing)));
    };
    let mut conn = state.db.pool.acquire().await?;
    if !claims::may_use(&mut conn, application, person.user_id).await? {
        return Ok(silent_or(prompts.contains(&"none"), Refusal::NotForYou));
    }
    let code = tokens::generate();
    sqlx::query(
        "INSERT INTO authorization_codes
             (code_hash, application_id, session_id, redirect_uri, code_challenge, scope, nonce, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tokens::hash(&code))
    .bind(application.id)
    .bind(person.session_id)
    // As given: the token request must repeat it, or leave it out too.
    .bind(parameters.get("redirect_uri").unwrap_or_default())
    .bind(challenge)
    .bind(&scope)
    .bind(nonce)
    .bind(now)
    .bind(now + CODE_SECONDS)
    .execute(&mut *conn)
    .await?;
    Ok(Checked::Code(code))
}

/// Gatehouse's page, or, for a request that asked for no interaction
/// (`prompt=none`, a silent sign-in), an OAuth error the application can act on.
fn silent_or(silent: bool, refusal: Refusal) -> Checked {
    match (silent, &refusal) {
        (true, Refusal::TwoFactorRequired) => Checked::Rejected(reject(
            "interaction_required",
            "The person must set up two-factor authentication",
        )),
        (true, _) => Checked::Rejected(reject(
            "access_denied",
            "The person may not use this application",
        )),
        (false, _) => Checked::Refused(refusal),
    }
}

/// What sign-in decisions and ID tokens need of a session besides its person.
pub struct SessionFacts {
    /// When the person signed in (`auth_time`).
    pub signed_in_at: i64,
    pub second_factor: bool,
}

pub async fn session_facts<'c, E>(executor: E, session_id: i64) -> Result<SessionFacts, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (signed_in_at, second_factor): (i64, i64) =
        sqlx::query_as("SELECT created_at, second_factor FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_one(executor)
            .await?;
    Ok(SessionFacts {
        signed_in_at,
        second_factor: second_factor == 1,
    })
}

/// Control characters (NUL above all, which PostgreSQL text cannot hold)
/// belong in no parameter.
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// A PKCE challenge or verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
