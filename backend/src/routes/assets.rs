use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::errors::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(static_file);
}

/// Self-hosted static files, embedded in the binary.
#[get("/static/{path:.*}")]
pub async fn static_file(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let path = path.into_inner();
    let file = samskab_frontend::Static::get(&path).ok_or(AppError::NotFound)?;
    let mime = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((
            header::ETAG,
            format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8])),
        ))
        .body(file.data.into_owned()))
}
