//! Who is acting: a person signed in in a browser, or an API user calling
//! the REST API with a bearer token. Administrative backend functions take
//! an [`Actor`], so the server functions and the REST API run the same
//! rules; the session-only parts (its id, its stage) live in
//! `sessions::SignedIn`, which dereferences to its actor.

use domain::Permission;
use std::sync::Arc;

/// The account behind a request and where it administers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Actor {
    pub user_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub initials: String,
    pub is_platform_admin: i64,
    /// Where administration happens: the account's own organisation, or the
    /// one a platform administrator chose for this session.
    pub working_organisation_id: i64,
    pub working_organisation_name: String,
    /// The API token this request came with (API users only).
    #[sqlx(skip)]
    pub token: Option<TokenUse>,
    /// What the account held when the request began, when that was read
    /// with the session (`sessions::resolve`); `None`: read it when needed.
    #[sqlx(skip)]
    pub held: Option<Arc<[Permission]>>,
}

/// The token an API request authenticated with, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub expires_at: Option<i64>,
}

impl Actor {
    pub fn is_platform_admin(&self) -> bool {
        self.is_platform_admin == 1
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}
