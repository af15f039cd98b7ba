//! Error policy, written once:
//!
//! - Services and handlers return one type, [`AppError`]: validation problems
//!   carry translation keys per field, so the handler can re-render the form with
//!   a 422 and keep what the person typed; rule violations are `Forbidden` (with
//!   the [`Refusal`] that says why), `NotFound` or `Conflict`.
//! - Its `ResponseError` impl only decides the status. The error-page middleware (`routes::error_pages`) turns every error
//!   response into a translated HTML page in the layout (or JSON under /api/).
//! - Anything unexpected is logged with context and shown as a 500 without
//!   details. A 500 is a bug: it deserves a test.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::local_path::LocalPath;

pub use crate::domain::Refusal;

/// A problem with one form field, as a translation key under `errors.`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

/// The one error type of services and handlers. Services say what went wrong in
/// domain terms; [`ResponseError`] below maps each variant to a status once, and
/// the error-page middleware renders it translated in the layout.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Form input that breaks a rule, per field; a form handler re-renders the
    /// form with these next to the inputs, anything
    /// else answers 400.
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    /// The person may not do this; the refusal says why, in words they can act on.
    #[error("forbidden: {0:?}")]
    Forbidden(Refusal),
    /// The person must log in first; they are sent to the login page.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// A request that cannot be understood; the key is shown translated.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The action conflicts with the current state; the key explains why.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Too many of these lately from this client (a rate limit): try again
    /// after `retry_after`. Nothing stored is lost.
    #[error("too many requests; retry after {retry_after:?}")]
    TooManyRequests { retry_after: std::time::Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Unexpected(anyhow::Error::new(e).context("database"))
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Forbidden(refusal)
    }
}

impl AppError {
    pub fn field(field: &'static str, key: &'static str) -> Self {
        AppError::Validation(vec![FieldError { field, key }])
    }

    /// Refused without a more specific reason than the person's role.
    pub fn forbidden() -> Self {
        AppError::Forbidden(Refusal::NotAllowed)
    }
}

impl AppError {
    /// Translation key of the message shown on the error page.
    pub fn message_key(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "errors.invalid_input",
            AppError::NotFound => "errors.not_found",
            AppError::Forbidden(refusal) => refusal.key(),
            AppError::LoginRequired { .. } => "errors.login_required",
            AppError::Csrf => "errors.csrf",
            AppError::BadRequest(key) | AppError::Conflict(key) => key,
            AppError::TooManyRequests { .. } => "errors.too_many_requests",
            AppError::Unexpected(_) => "errors.unexpected",
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(refusal) => {
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN)
            }
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::BAD_REQUEST,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
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
            AppError::TooManyRequests { retry_after } => HttpResponse::build(self.status_code())
                .insert_header((header::RETRY_AFTER, retry_after_secs(*retry_after)))
                .content_type("text/plain; charset=utf-8")
                .body(self.message_key()),
            _ => HttpResponse::build(self.status_code())
                .content_type("text/plain; charset=utf-8")
                .body(self.message_key()),
        }
    }
}

/// Whole seconds for a `Retry-After` header, at least one.
pub fn retry_after_secs(wait: std::time::Duration) -> String {
    wait.as_secs_f64().ceil().max(1.0).to_string()
}

/// Whole minutes to tell a person to wait, at least one.
pub fn wait_minutes(wait: std::time::Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

/// `/login?next=…` for a local path; anything else falls back to the login page
/// alone, so `next` can never send someone to another site.
pub fn login_url(next: &str) -> String {
    match LocalPath::parse(next) {
        Some(next) => format!(
            "/login?next={}",
            percent_encoding::utf8_percent_encode(next.as_str(), QUERY_VALUE)
        ),
        None => "/login".to_owned(),
    }
}

/// Everything but unreserved characters and `/` is encoded in a query value.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_parameter_only_accepts_local_paths() {
        assert_eq!(login_url("/account"), "/login?next=/account");
        assert_eq!(login_url("//evil.example"), "/login");
        assert_eq!(login_url("https://evil.example"), "/login");
        assert_eq!(login_url("/a?b=c%20d"), "/login?next=/a%3Fb%3Dc%2520d");
        assert_eq!(login_url("/\t/evil.example"), "/login");
        assert_eq!(login_url("/\\evil"), "/login");
    }
}
