//! HTTP routes. Handlers are thin: parse the request, call a service, render a
//! page or redirect.

pub mod about;
pub mod account;
pub mod admin;
pub mod api;
pub mod api_deliberation;
pub mod assets;
pub mod attachments;
pub mod auth;
pub mod client;
pub mod comments;
pub mod complaints;
pub mod context;
pub mod data_rights;
pub mod deliberation;
pub mod encoding;
pub mod export;
pub mod fallback;
pub mod health;
pub mod ideas;
pub mod mail;
pub mod middleware;
pub mod notifications;
pub mod oidc;
pub mod pages;
pub mod politician;
pub mod report;
pub mod report_brief;
pub mod report_pdf;
pub mod staff;
pub mod views;

use actix_web::{HttpResponse, http::header, web};

use crate::errors::AppError;

/// Every route, in registration order. Each area declares its own routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    // The conversation's routes come next because they are the busiest (every
    // vote, every statement shown): actix tries each dynamic route's pattern
    // (a regular expression) in the order of registration, and from the end
    // of the list a vote cost some sixty failed matches, about a tenth of its
    // CPU time. No earlier route shares their paths, so the order changes no
    // answer.
    deliberation::configure(cfg);
    api_deliberation::configure(cfg);
    about::configure(cfg);
    assets::configure(cfg);
    pages::configure(cfg);
    auth::configure(cfg);
    oidc::configure(cfg);
    mail::configure(cfg);
    account::configure(cfg);
    data_rights::configure(cfg);
    complaints::configure(cfg);
    staff::consultations::configure(cfg);
    attachments::configure(cfg);
    admin::configure(cfg);
    ideas::configure(cfg);
    comments::configure(cfg);
    staff::ideas::configure(cfg);
    staff::workbench::configure(cfg);
    staff::paper::configure(cfg);
    staff::desk::configure(cfg);
    notifications::configure(cfg);
    api::configure(cfg);
    // Open data.
    export::configure(cfg);
    report::configure(cfg);
    report_pdf::configure(cfg);
    politician::configure(cfg);
    // Last: 405 with `Allow` or 404 for whatever no route above took.
    fallback::configure(cfg);
    cfg.default_service(web::to(not_found));
}

async fn not_found(_ctx: context::Ctx) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// 303 See Other: the browser follows with a GET, so a reload never re-posts.
/// Targets from a request go through [`LocalPath`](crate::local_path::LocalPath)
/// first; this only makes sure the header itself can always be built (a slug
/// from the path with a control character would otherwise fail the response
/// with a 500), by percent-encoding what a header value or URL may not contain.
pub fn see_other(location: &str) -> HttpResponse {
    let encoded = percent_encoding::utf8_percent_encode(location, NOT_IN_LOCATION).to_string();
    let value = header::HeaderValue::from_str(&encoded)
        .unwrap_or_else(|_| header::HeaderValue::from_static("/"));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, value))
        .finish()
}

/// Controls, space, DEL, backslash and every non-ASCII byte.
const NOT_IN_LOCATION: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'\\')
    .add(b'"')
    .add(b'<')
    .add(b'>');
