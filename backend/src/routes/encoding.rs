//! Form fields and query strings must be valid UTF-8 once percent-decoded.
//! actix-web's `Form` and `Query` (serde_urlencoded) would otherwise replace
//! every invalid byte with U+FFFD and the handler would store the damaged
//! text as if the person had written it. This middleware answers such a
//! request with a translated 400 before the CSRF guard (which parses the
//! body the same lenient way) or any handler sees it, so nothing is stored.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;

use crate::errors::AppError;

/// Whether `input` (`application/x-www-form-urlencoded`: a body or a query
/// string) decodes to UTF-8. `&`, `=` and `+` are ASCII, so checking the
/// decoded whole is the same as checking every name and value.
pub fn urlencoded_is_utf8(input: &[u8]) -> bool {
    percent_encoding::percent_decode(input)
        .decode_utf8()
        .is_ok()
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn refuse<B>(req: ServiceRequest) -> ServiceResponse<EitherBody<B>> {
    req.error_response(AppError::BadRequest("errors.invalid_encoding"))
        .map_into_right_body()
}

pub async fn utf8_only(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !urlencoded_is_utf8(req.query_string().as_bytes()) {
        return Ok(refuse(req));
    }
    if is_form(&req) {
        let body = match req.extract::<Bytes>().await {
            Ok(body) => body,
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        };
        if !urlencoded_is_utf8(&body) {
            return Ok(refuse(req));
        }
        // Put the body back for the CSRF guard and the handler.
        req.set_payload(Payload::from(body));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_invalid_utf8_in_names_and_values() {
        assert!(urlencoded_is_utf8(b"title=Cykelsti+i+%C3%85byh%C3%B8j&x=1"));
        assert!(urlencoded_is_utf8(b""));
        assert!(urlencoded_is_utf8(b"a=%zz&b=%"));
        assert!(!urlencoded_is_utf8(b"title=%FF"));
        assert!(!urlencoded_is_utf8(b"%C3=x"));
        assert!(!urlencoded_is_utf8(b"a=%C3&b=%85"));
        assert!(!urlencoded_is_utf8(b"a=\xff"));
        assert!(!urlencoded_is_utf8(b"a=%ED%A0%80"), "a lone surrogate");
    }
}
