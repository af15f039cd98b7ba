//! CSRF protection (synchroniser token). Every session carries one random
//! token; every form sends it back in the hidden field `csrf_token` (or a
//! script in the `X-CSRF-Token` header). The middleware checks all unsafe
//! requests before any handler runs, so no form can forget it.

use actix_session::{Session, SessionExt};
use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use base64::Engine;

const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// RFC 8058 one-click unsubscribe: the one path the guard lets through without a
/// token (see the comment in `guard`).
pub const ONE_CLICK_UNSUBSCRIBE_PATH: &str = "/mail/unsubscribe";

fn fresh() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(existing)) = session.get::<String>(SESSION_KEY) {
        return existing;
    }
    let fresh = fresh();
    let _ = session.insert(SESSION_KEY, &fresh);
    fresh
}

/// A new token (at login): one read before, e.g. by someone who had the
/// browser first, no longer works.
pub fn rotate(session: &Session) -> Result<(), actix_session::SessionInsertError> {
    session.insert(SESSION_KEY, fresh())
}

fn matches(expected: &str, provided: &str) -> bool {
    // Constant-time comparison: the token must not leak byte by byte.
    subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), provided.as_bytes()).into()
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The largest multipart body read at all; the upload handler applies the
/// configured (smaller) file limit with a translated message.
pub const MULTIPART_MAX: usize = 64 * 1024 * 1024;

async fn read_bounded(
    req: &mut ServiceRequest,
    max: usize,
) -> Result<Bytes, actix_web::error::PayloadError> {
    use futures::StreamExt;
    let mut payload = req.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > max {
            return Err(actix_web::error::PayloadError::Overflow);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The text of field `name` in a multipart body.
async fn multipart_field(
    headers: &actix_web::http::header::HeaderMap,
    body: Bytes,
    name: &str,
) -> Option<String> {
    use futures::StreamExt;
    let stream =
        futures::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut form = actix_multipart::Multipart::new(headers, stream);
    while let Some(field) = form.next().await {
        let mut field = field.ok()?;
        let wanted = field.name() == Some(name);
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            if wanted {
                value.extend_from_slice(&chunk.ok()?);
                if value.len() > 1024 {
                    return None;
                }
            }
        }
        if wanted {
            return String::from_utf8(value).ok();
        }
    }
    None
}

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    // RFC 8058 one-click unsubscribe: the mail client POSTs without cookies,
    // so there is no session to hold a CSRF token. The URL carries a token
    // signed with the server secret for exactly one person, which is what
    // authenticates the request; a forged cross-site POST without it fails
    // in the handler, and with it could only do what the link's owner asked.
    if *req.method() == Method::POST && req.path() == ONE_CLICK_UNSUBSCRIBE_PATH {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let expected = req.get_session().get::<String>(SESSION_KEY).ok().flatten();
    let header = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let provided = match header {
        Some(h) => Some(h),
        None => {
            let is_form = req
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            let is_multipart = req
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("multipart/form-data"));
            if is_form {
                let body = match req.extract::<Bytes>().await {
                    Ok(body) => body,
                    Err(e) => return Ok(req.error_response(e).map_into_right_body()),
                };
                let token = form_field(&body, FIELD);
                // Put the body back for the handler's own form extractor.
                req.set_payload(actix_web::dev::Payload::from(body));
                token
            } else if is_multipart {
                // File uploads: the token is a field of the multipart body
                // like in any form. The body is read (up to a bound) and put
                // back for the handler.
                let body = match read_bounded(&mut req, MULTIPART_MAX).await {
                    Ok(body) => body,
                    Err(e) => return Ok(req.error_response(e).map_into_right_body()),
                };
                let token = multipart_field(req.headers(), body.clone(), FIELD).await;
                req.set_payload(actix_web::dev::Payload::from(body));
                token
            } else {
                None
            }
        }
    };
    match (expected, provided) {
        (Some(e), Some(p)) if matches(&e, &p) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        _ => {
            // Refused, but routing still decides between 403, 405 and 404: a
            // POST to a page that only answers GET is a wrong method, not a
            // forged form. The request goes on under a method no handler is
            // registered for (every route is declared with its method), so no
            // handler can run; the fallback resource answers
            // (`routes::fallback`), using the method kept here.
            let original = std::mem::replace(&mut req.head_mut().method, refused_method());
            req.extensions_mut().insert(Refused(original));
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
    }
}

/// Marks a request the guard refused, with the method it came with.
#[derive(Debug, Clone)]
pub struct Refused(pub Method);

/// The method a refused request is routed with; no route declares it.
pub fn refused_method() -> Method {
    Method::from_bytes(b"X-SAMSKAB-CSRF-REFUSED").unwrap_or(Method::CONNECT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_in_a_form_body() {
        let body = b"email=a%40b.dk&csrf_token=abc-DEF_1&password=x+y";
        assert_eq!(form_field(body, FIELD).as_deref(), Some("abc-DEF_1"));
        assert_eq!(form_field(body, "email").as_deref(), Some("a@b.dk"));
        assert_eq!(form_field(body, "password").as_deref(), Some("x y"));
        assert_eq!(form_field(b"a=1", FIELD), None);
    }

    #[test]
    fn comparison_requires_exact_match() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", "ab"));
        assert!(!matches("abc", ""));
    }
}
