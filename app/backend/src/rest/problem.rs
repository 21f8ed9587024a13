//! Errors of the REST API as `application/problem+json` (RFC 9457): every
//! `AppError` becomes one, with the fields a validation error names. The
//! `type` of each points at its explanation on the API page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::AppError;
use domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem report (RFC 9457).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/api/docs#problem-validation",
    "title": "Some fields need attention",
    "status": 422,
    "detail": "Some fields need attention",
    "errors": [{"field": "email", "message": "Enter an email address like name@example.org"}]
}))]
pub struct Problem {
    /// Where this kind of problem is explained.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The same for every problem of this type.
    pub title: String,
    pub status: u16,
    /// What happened this time, for a person to read.
    pub detail: String,
    /// The fields that need attention (validation problems), each with its message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For internal errors: the id under which the server logged what happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    #[serde(skip)]
    retry_after_seconds: Option<i64>,
}

/// A field of the request and what is wrong with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name in the request body or query, e.g. `email`.
    pub field: String,
    pub message: String,
}

impl Problem {
    fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: format!("/api/docs#problem-{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            error_id: None,
            retry_after_seconds: None,
        }
    }

    /// A malformed request: a body that is not JSON, a query or address
    /// that cannot be read. `field` names the part at fault, if known.
    pub fn bad_request(field: Option<&str>, detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request could not be read",
            detail.clone(),
        );
        if let Some(field) = field {
            problem.errors.push(FieldProblem {
                field: field.to_owned(),
                message: detail,
            });
        }
        problem
    }

    /// A missing, unknown, expired or revoked token.
    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "An API token is needed",
            detail,
        )
    }

    pub fn rate_limited(retry_after_seconds: i64) -> Problem {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "This token has made too many requests this minute. Try again in {retry_after_seconds} seconds"
            ),
        );
        problem.retry_after_seconds = Some(retry_after_seconds);
        problem
    }

    /// A body over `web::MAX_REQUEST_BODY_BYTES`.
    pub fn too_large(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The request is too large",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        let detail = error.to_string();
        match error {
            AppError::Validation(fields) => {
                let mut problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Some fields need attention",
                    fields
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                problem.errors = fields.into_iter().map(FieldProblem::from).collect();
                problem
            }
            AppError::Unauthorized | AppError::InvalidCredentials | AppError::LinkExpired => {
                Problem::unauthorized(&detail)
            }
            AppError::Forbidden | AppError::TwoFactorEnrolmentRequired => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                "This API user's roles do not allow that",
            ),
            AppError::Overreach(_) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
            }
            AppError::NotFound(_) => Problem::not_found(detail),
            AppError::RateLimited {
                retry_after_minutes,
            } => Problem::rate_limited(i64::from(retry_after_minutes) * 60),
            AppError::Busy {
                retry_after_seconds,
            } => {
                let mut problem =
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy", detail);
                problem.retry_after_seconds = Some(i64::from(retry_after_seconds));
                problem
            }
            AppError::Unavailable => {
                let mut problem = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    detail,
                );
                problem.retry_after_seconds =
                    Some(i64::from(domain::error::UNAVAILABLE_RETRY_AFTER_SECONDS));
                problem
            }
            AppError::BadRequest(_) => Problem::bad_request(None, detail),
            AppError::Conflict(_) => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "The account's state does not allow that",
                detail,
            ),
            AppError::Internal { id } => {
                let mut problem = Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side",
                    detail,
                );
                problem.error_id = Some(id);
                problem
            }
            AppError::Transport => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side",
                detail,
            ),
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Problem {
        Problem::from(AppError::from(error))
    }
}

impl From<FieldError> for FieldProblem {
    fn from(error: FieldError) -> FieldProblem {
        FieldProblem {
            field: error.field,
            message: error.message,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gatehouse\""),
            );
        }
        if let Some(seconds) = self.retry_after_seconds
            && let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}
