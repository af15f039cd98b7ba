//! Cross-cutting request handling: locale choice, security headers and the
//! translated error pages.

use actix_session::SessionExt;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, Next};
use actix_web::{HttpMessage, HttpResponse, web};
use serde_json::json;

use crate::errors::AppError;
use crate::i18n::Locale;
use crate::routes::context::{CurrentUser, base_context, render_page};
use crate::state::AppState;

pub const LANG_COOKIE: &str = "samskab_lang";

/// Strict, first-party only: no page may load anything from another origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// `hsts_max_age` > 0 adds `Strict-Transport-Security` (browsers then use
/// only https for this host for that many seconds).
pub fn security_headers(hsts_max_age: u64) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if hsts_max_age > 0 {
        headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            format!("max-age={hsts_max_age}"),
        ))
    } else {
        headers
    }
}

/// Paths whose pages are about logging in: never kept by a cache, whoever asks.
const LOGIN_PATHS: [&str; 6] = [
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/auth/",
];

/// `Cache-Control: no-store` on every answer to a logged-in person (their own
/// data, their name in the header) and on the login pages, so neither a shared
/// cache nor the browser's history keeps them. Static files stay cacheable;
/// public pages for visitors without a login are left as they are.
pub async fn no_store_when_personal(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let logged_in = req
        .get_session()
        .contains_key(crate::auth::session::SESSION_USER);
    let personal = (logged_in && !path.starts_with("/static/"))
        || LOGIN_PATHS.iter().any(|p| path.starts_with(p));
    let mut res = next.call(req).await?;
    if personal {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Answer HEAD like GET without the body (RFC 9110 §9.3.2): link checkers and
/// uptime monitors use HEAD, and the routes are declared for GET only. The
/// HTTP layer knows the request was HEAD and leaves the body out.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// Decide the locale: `?lang=` (remembered in a cookie), then the cookie,
/// then Danish. The browser's Accept-Language is deliberately not used: the
/// municipality's default language is Danish and the switch is visible.
pub async fn locale(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let from_query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("lang").and_then(|l| Locale::parse(l)));
    let from_cookie = req
        .cookie(LANG_COOKIE)
        .and_then(|c| Locale::parse(c.value()));
    let locale = from_query.or(from_cookie).unwrap_or(Locale::Da);
    req.extensions_mut().insert(locale);
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.cookie_secure);
    let mut res = next.call(req).await?;
    if let Some(chosen) = from_query
        && from_cookie != Some(chosen)
    {
        let cookie = Cookie::build(LANG_COOKIE, chosen.code())
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::days(365))
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// Turn every error response into a page in the layout (or JSON under /api/),
/// in the request's language. Responses that handlers rendered themselves
/// (for example a form with messages, status 422) are left alone.
pub fn error_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let Some(error) = res.response().error() else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    if res.status() == actix_web::http::StatusCode::SEE_OTHER {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let wait = match error.as_error::<AppError>() {
        Some(AppError::TooManyRequests { retry_after }) => Some(*retry_after),
        _ => None,
    };
    let key = match error.as_error::<AppError>() {
        Some(app) => app.message_key(),
        None => match status.as_u16() {
            404 => "errors.not_found",
            403 => "errors.forbidden",
            405 => "errors.method_not_allowed",
            413 => "errors.too_large",
            429 => "errors.too_many_requests",
            s if s >= 500 => "errors.unexpected",
            _ => "errors.invalid_input",
        },
    };
    let req = res.request().clone();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let locale = req
        .extensions()
        .get::<Locale>()
        .copied()
        .unwrap_or(Locale::Da);
    let mut message = state.catalogs.text(locale, key);
    if let Some(wait) = wait {
        message = message.replace("{minutes}", &crate::errors::wait_minutes(wait).to_string());
    }
    let (http_req, original) = res.into_parts();
    // A 405 says which methods would work.
    let allow = original.headers().get(header::ALLOW).cloned();

    let response: HttpResponse<BoxBody> = if req.path().starts_with("/api/") {
        HttpResponse::build(status).json(json!({
            "error": { "status": status.as_u16(), "code": key, "message": message }
        }))
    } else {
        let user = req
            .extensions()
            .get::<Option<CurrentUser>>()
            .cloned()
            .flatten();
        let session = req.get_session();
        let title = state.catalogs.text(
            locale,
            &format!("errors.title_{}", status_group(status.as_u16())),
        );
        let mut data = base_context(
            &state,
            locale,
            user.as_ref(),
            Some(&session),
            req.path(),
            &title,
            Vec::new(),
        );
        data["page"] = json!({ "status": status.as_u16(), "message": message });
        match render_page(&state, locale, "pages/error", data) {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => {
                tracing::error!(error = ?e, "rendering the error page failed");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(message)
            }
        }
    };
    let mut response = response;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(value) = wait
        .map(crate::errors::retry_after_secs)
        .and_then(|secs| HeaderValue::from_str(&secs).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(http_req, response).map_into_right_body(),
    ))
}

fn status_group(status: u16) -> &'static str {
    match status {
        404 => "404",
        403 => "403",
        429 => "429",
        s if s >= 500 => "500",
        _ => "400",
    }
}

pub type ErrorBody<B> = EitherBody<B>;
