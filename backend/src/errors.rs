//! Error policy, written once:
//!
//! - Services return [`ServiceError`]: validation problems carry translation keys
//!   per field, so the handler can re-render the form with a 422 and keep what
//!   the person typed; rule violations are `Forbidden`, `NotFound` or `Conflict`.
//! - Handlers return [`AppError`]; its `ResponseError` impl only decides the
//!   status. The error-page middleware (`routes::error_pages`) turns every error
//!   response into a translated HTML page in the layout (or JSON under /api/).
//! - Anything unexpected is logged with context and shown as a 500 without
//!   details. A 500 is a bug: it deserves a test.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

/// A problem with one form field, as a translation key under `errors.`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    /// The action conflicts with the current state; the key explains why.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(e: sea_orm::DbErr) -> Self {
        ServiceError::Unexpected(anyhow::Error::new(e).context("database"))
    }
}

impl ServiceError {
    pub fn field(field: &'static str, key: &'static str) -> Self {
        ServiceError::Validation(vec![FieldError { field, key }])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The person must log in first; they are sent to the login page.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// A request that cannot be understood; the key is shown translated.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Unexpected(anyhow::Error::new(e).context("database"))
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            // Handlers that show forms handle validation themselves; one that
            // does not has received a request no form of ours sends.
            ServiceError::Validation(_) => AppError::BadRequest("errors.invalid_input"),
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Conflict(key) => AppError::Conflict(key),
            ServiceError::Unexpected(e) => AppError::Unexpected(e),
        }
    }
}

impl AppError {
    /// Translation key of the message shown on the error page.
    pub fn message_key(&self) -> &'static str {
        match self {
            AppError::NotFound => "errors.not_found",
            AppError::Forbidden => "errors.forbidden",
            AppError::LoginRequired { .. } => "errors.login_required",
            AppError::Csrf => "errors.csrf",
            AppError::BadRequest(key) | AppError::Conflict(key) => key,
            AppError::Unexpected(_) => "errors.unexpected",
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Unexpected(e) = self {
            tracing::error!(error = ?e, "unexpected error");
        }
        match self {
            AppError::LoginRequired { next } => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login_url(next)))
                .finish(),
            _ => HttpResponse::build(self.status_code())
                .content_type("text/plain; charset=utf-8")
                .body(self.message_key()),
        }
    }
}

/// `/login?next=…` for a local path; anything else falls back to the login page
/// alone, so `next` can never send someone to another site.
pub fn login_url(next: &str) -> String {
    if is_local_path(next) {
        format!("/login?next={}", urlencode(next))
    } else {
        "/login".to_owned()
    }
}

pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_parameter_only_accepts_local_paths() {
        assert_eq!(login_url("/account"), "/login?next=/account");
        assert_eq!(login_url("//evil.example"), "/login");
        assert_eq!(login_url("https://evil.example"), "/login");
        assert_eq!(login_url("/a?b=c d"), "/login?next=/a%3Fb%3Dc%20d");
    }
}
