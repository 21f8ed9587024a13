//! Gatehouse as an OpenID Connect provider: an organisation's applications
//! sign its people in with their Gatehouse account.
//!
//! - `applications`: what administrators register (holders of *Can manage
//!   applications*), and who may use each one.
//! - `keys`: the keys that sign ID tokens, sealed at rest and rotated from
//!   the command line.
//! - `authorize`: the authorization endpoint's decision (send the person
//!   back with a code, ask them to sign in, or refuse).
//! - `grants`: the token endpoint (authorization code with PKCE, refresh
//!   tokens that rotate), UserInfo, revocation and introspection.
//! - `claims`: what an application learns about a person.
//! - `logout`: back-channel logout notices, delivered like mail.
//! - `sign_ins`: the applications a person is signed in to, and signing
//!   them out of one or all.
//! - `end_session`: an application signing the person out of Gatehouse too.
//! - `endpoints`: the HTTP side, discovery and JWKS.
//!
//! Tokens are opaque and looked up on every use, like sessions: ending a
//! Gatehouse session, deactivating a person or disabling an application
//! holds at once for every token issued under it.

pub mod applications;
pub mod authorize;
pub mod claims;
pub mod end_session;
pub mod endpoints;
pub mod grants;
pub mod keys;
pub mod logout;
pub mod sign_ins;

/// How long an ID token is valid (it is checked once, at sign-in).
pub const ID_TOKEN_SECONDS: i64 = 10 * 60;
/// How long an authorization code may wait to be exchanged.
pub const CODE_SECONDS: i64 = 60;
/// The scopes an application may ask for. `openid` is required.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "roles"];
/// The `acr` of a sign-in with a password alone, and with a second factor.
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";
pub const ACR_TWO_FACTOR: &str = "urn:gatehouse:acr:two-factor";

/// Where the endpoints are, below the public URL.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/oauth/jwks";
    pub const AUTHORIZE: &str = "/oauth/authorize";
    pub const TOKEN: &str = "/oauth/token";
    pub const USERINFO: &str = "/oauth/userinfo";
    pub const REVOKE: &str = "/oauth/revoke";
    pub const INTROSPECT: &str = "/oauth/introspect";
    pub const END_SESSION: &str = "/oauth/end-session";
    /// Gatehouse's own page explaining why an application was refused.
    pub const REFUSED: &str = "/applications/refused";
    /// Gatehouse's page that goes on to an application after signing in.
    pub const CONTINUE: &str = "/applications/continue";
}
