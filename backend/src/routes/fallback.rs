//! What answers when no handler takes a request: `405 Method Not Allowed`
//! with an `Allow` header when the path exists under other methods, `404`
//! when it does not, and `403` for a request the CSRF guard refused on a
//! route that exists for its method.
//!
//! Every route is declared with its method (`#[get]`, `#[post]`), so each is a
//! resource guarded by that method. While the router looks for a match it
//! notes the method of every resource whose path matched; the catch-all
//! resource registered last reads that list (actix-web's default for a
//! resource without a matching route puts it in `Allow`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};

use crate::auth::csrf;
use crate::errors::AppError;

/// Registered after every other route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/{tail:.*}").wrap(from_fn(decide)));
}

/// The path exists, but not for this method.
#[derive(Debug, thiserror::Error)]
#[error("method not allowed")]
pub struct MethodNotAllowed(pub Vec<Method>);

impl ResponseError for MethodNotAllowed {
    fn status_code(&self) -> StatusCode {
        StatusCode::METHOD_NOT_ALLOWED
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::MethodNotAllowed()
            .insert_header(header::Allow(self.0.clone()))
            .content_type("text/plain; charset=utf-8")
            .body("errors.method_not_allowed")
    }
}

/// The methods in an `Allow` header, HEAD added where GET is (HEAD is answered like GET).
fn allowed(res: &ServiceResponse<impl MessageBody>) -> Vec<Method> {
    let mut methods: Vec<Method> = Vec::new();
    for value in res.headers().get_all(header::ALLOW) {
        let list = value.to_str().unwrap_or("");
        for m in list.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            if let Ok(m) = Method::from_bytes(m.as_bytes())
                && !methods.contains(&m)
            {
                methods.push(m);
            }
        }
    }
    if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
        methods.push(Method::HEAD);
    }
    methods.retain(|m| *m != csrf::refused_method());
    methods
}

async fn decide(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    let refused = req.extensions().get::<csrf::Refused>().cloned();
    let res = next.call(req).await?;
    let methods = allowed(&res);
    let (req, _) = res.into_parts();
    let error: actix_web::Error = match refused {
        Some(csrf::Refused(method)) if methods.contains(&method) => {
            tracing::info!(path = %req.path(), "request refused: CSRF token missing or wrong");
            AppError::Csrf.into()
        }
        _ if !methods.is_empty() => MethodNotAllowed(methods).into(),
        _ => AppError::NotFound.into(),
    };
    Ok(ServiceResponse::from_err(error, req))
}
