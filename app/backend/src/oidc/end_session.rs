//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an
//! application sends the person here to sign out of Gatehouse as well.
//!
//! Gatehouse ends the browser's session only when the request carries an ID
//! token Gatehouse issued (`id_token_hint`, expired or not) for the person
//! signed in: a bare link cannot sign anyone out. Ending it ends every
//! application session it opened, and each application is told over the
//! back channel. The browser then goes to the application's registered
//! post-logout address, if it asked for one, or to Gatehouse's sign-in page.

use super::applications::{self, Application};
use super::keys;
use crate::acting::Acting;
use crate::audit::{ActedBy, Action, Subject};
use crate::auth::sessions::{self, ClientInfo, SignedIn};
use crate::state::AppState;
use domain::AppError;
use url::{Url, form_urlencoded};

/// Where the browser goes, and whether its Gatehouse session ended (its
/// cookie is then cleared).
pub struct Ended {
    pub location: String,
    pub signed_out: bool,
}

#[derive(serde::Deserialize)]
struct Hint {
    sub: String,
    aud: String,
}

/// The application and person an ID token Gatehouse issued names, if it is
/// one (signature and issuer checked; its age does not matter here).
async fn read_hint(state: &AppState, token: &str) -> Result<Option<(Application, i64)>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    let published = keys::published(&state.db, state.now()).await?;
    let Some(jwk) = header.kid.as_deref().and_then(|kid| published.find(kid)) else {
        return Ok(None);
    };
    let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(jwk) else {
        return Ok(None);
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[super::endpoints::issuer(&state.settings)]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    let Ok(hint) = jsonwebtoken::decode::<Hint>(token, &key, &validation) else {
        return Ok(None);
    };
    let Ok(user_id) = hint.claims.sub.parse::<i64>() else {
        return Ok(None);
    };
    Ok(applications::by_client_id(&state.db.pool, &hint.claims.aud)
        .await?
        .map(|application| (application, user_id)))
}

pub async fn end_session(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    client: &ClientInfo,
    query: &str,
) -> Result<Ended, AppError> {
    let parameters: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty() && !super::authorize::has_control(value))
    };
    let hint = match get("id_token_hint") {
        Some(token) => read_hint(state, token).await?,
        None => None,
    };
    let application = match (&hint, get("client_id")) {
        (Some((application, _)), Some(client_id)) if application.client_id != client_id => None,
        (Some((application, _)), _) => Some(application.clone()),
        (None, Some(client_id)) => applications::by_client_id(&state.db.pool, client_id).await?,
        (None, None) => None,
    };
    let mut signed_out = false;
    if let (Some((application, user_id)), Some(person)) = (&hint, signed_in)
        && person.user_id == *user_id
    {
        let now = state.now();
        sessions::end(
            &state.db,
            now,
            person.session_id,
            "signed_out_by_application",
        )
        .await?;
        Acting::new(now, ActedBy::user(person.user_id), &client.address)
            .audit(
                &state.db.pool,
                Action::SignedOut,
                Subject::Account(person.user_id),
                format!("by_application={}", application.name),
            )
            .await?;
        signed_out = true;
    }
    // Only an address the application registered, compared exactly.
    let back = get("post_logout_redirect_uri").filter(|uri| {
        application.as_ref().is_some_and(|application| {
            application
                .post_logout_redirect_uris
                .iter()
                .any(|registered| registered.as_str() == *uri)
        })
    });
    let location = match back.and_then(|uri| Url::parse(uri).ok()) {
        Some(mut url) => {
            if let Some(state) = get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            url.to_string()
        }
        None if signed_out => "/sign-in?notice=signed_out".to_owned(),
        None => "/".to_owned(),
    };
    Ok(Ended {
        location,
        signed_out,
    })
}
