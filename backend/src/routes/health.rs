use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::json;

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .route("/metrics", web::get().to(metrics));
}

/// The process is up, and which release and commit it runs (to check that every
/// replica runs the same build during an upgrade).
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": crate::build_info::VERSION,
        "commit": crate::build_info::COMMIT,
    }))
}

/// The database answers and the schema is current: safe to send traffic here.
/// 503 while the replica shuts down (see `crate::shutdown`).
#[get("/readyz")]
pub async fn readyz(
    state: web::Data<AppState>,
    draining: Option<web::Data<crate::shutdown::Draining>>,
) -> HttpResponse {
    if draining.is_some_and(|d| d.is_draining()) {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    match crate::db::is_ready(&state.db).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" })),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": reason }))
        }
    }
}

/// `GET /metrics` on the main address: 404 unless a token is configured (so
/// its existence is not advertised), 401 without the right token.
pub async fn metrics(
    req: HttpRequest,
    endpoint: web::Data<crate::metrics::Endpoint>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if !endpoint.on_main {
        return HttpResponse::NotFound().finish();
    }
    crate::metrics::render(&req, &endpoint, &state.db).await
}
