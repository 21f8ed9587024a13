//! The one error type of Gatehouse. It travels from server functions to the
//! browser (as JSON) and becomes a status plus JSON body in the REST API.
//! Internal details never leave the server: `Internal` carries only an id
//! that is also written to the log.

use crate::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// One or more fields failed validation; each is shown beside its field.
    #[error("Some fields need attention")]
    Validation(Vec<FieldError>),
    /// Not signed in, or the session has ended.
    #[error("Please sign in to continue")]
    Unauthorized,
    /// Signed in, but without the permission this needs.
    #[error("You do not have permission to do that")]
    Forbidden,
    /// Holding the permission, but the account or the grant reaches beyond
    /// what the actor holds (the subset rule); says which and why.
    #[error("{0}")]
    Overreach(String),
    /// Signed in, but the person's permissions require two-factor
    /// authentication, which they must set up before anything else.
    #[error("Set up two-factor authentication to continue")]
    TwoFactorEnrolmentRequired,
    /// The thing does not exist (or belongs to another organisation).
    #[error("{0} was not found")]
    NotFound(String),
    /// Sign-in failed; deliberately the same for every cause.
    #[error("The username, email or password is incorrect")]
    InvalidCredentials,
    /// A one-time link that is expired, used or unknown.
    #[error("This link has expired or has already been used")]
    LinkExpired,
    /// Too many attempts; try again later.
    #[error("Too many attempts. Wait {retry_after_minutes} minutes and try again")]
    RateLimited { retry_after_minutes: u32 },
    /// Too many requests need a password checked at once (the hashing
    /// threads and their queue are full); try again shortly.
    #[error("Gatehouse is busy. Wait {retry_after_seconds} seconds and try again")]
    Busy { retry_after_seconds: u32 },
    /// The database cannot be reached just now (restarting, failing over,
    /// or every connection busy for too long); nothing was changed.
    #[error("Gatehouse cannot reach its database just now. Wait a few seconds and try again")]
    Unavailable,
    /// A request that the server refused for a reason the user can act on.
    #[error("{0}")]
    BadRequest(String),
    /// The request is fine but the thing is in a state that refuses it (a
    /// person given a token, a deactivated account edited).
    #[error("{0}")]
    Conflict(String),
    /// Something failed on our side. The id is in the server log.
    #[error("Something went wrong on our side (error id {id}). Please try again")]
    Internal { id: String },
    /// The browser could not reach the server or read its answer.
    #[error("Could not reach the server. Check your connection and try again")]
    Transport,
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The message to show beside `field`, if this error is about it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// HTTP status for the API and for server-function calls made by the client.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::Forbidden | AppError::Overreach(_) | AppError::TwoFactorEnrolmentRequired => {
                403
            }
            AppError::NotFound(_) => 404,
            AppError::LinkExpired => 410,
            AppError::RateLimited { .. } => 429,
            AppError::Busy { .. } | AppError::Unavailable => 503,
            AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Internal { .. } | AppError::Transport => 500,
        }
    }
}

impl AppError {
    /// How long to wait before trying again, for a `Retry-After` header.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        match self {
            AppError::RateLimited {
                retry_after_minutes,
            } => Some(retry_after_minutes.saturating_mul(60)),
            AppError::Busy {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            AppError::Unavailable => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}

#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr;
        match value {
            // The server could not read the arguments: the request was malformed.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::BadRequest(
                "The form was incomplete. Reload the page and try again".into(),
            ),
            _ => AppError::Transport,
        }
    }
}

/// Logs an unexpected error with a fresh id and returns the error the user
/// sees, which carries only the id.
#[cfg(feature = "server")]
pub fn internal(error: impl std::fmt::Display) -> AppError {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(error_id = %id, %error, "internal error");
    AppError::Internal { id }
}

/// How long to wait after `Unavailable`: about what a database restart or
/// failover takes.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 5;

/// A database failure is never the person's to fix. Losing the database
/// (its connection broken or refused, no connection free in time, the
/// server shutting down) is `Unavailable`, logged as a warning; anything
/// else is logged with an id and answered as `Internal`.
#[cfg(feature = "server")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if database_unreachable(&error) {
            tracing::warn!(%error, "database unavailable");
            AppError::Unavailable
        } else {
            internal(error)
        }
    }
}

/// Whether `error` says the database could not be reached, rather than that
/// it refused this statement.
#[cfg(feature = "server")]
fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception); 57P01-57P03: the server
        // is shutting down, crashed, or not yet accepting connections.
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}
