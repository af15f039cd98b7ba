//! The politician's landing page (`/politician`): the consultations whose report they may
//! read, with report status and deadlines. Who may see it is decided in
//! `services::politician`.

use actix_web::{HttpResponse, get};
use serde_json::{Value, json};

use crate::errors::AppError;
use crate::routes::context::LoggedIn;
use crate::routes::views::{date, status_label};
use crate::services::politician;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(overview);
}

#[get("/politician")]
pub async fn overview(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    let rows = politician::overview(&ctx.state.db, &me).await?;
    let locale = ctx.locale;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let c = &r.consultation;
            json!({
                "title": c.title,
                "slug": c.slug,
                "status": c.status.as_str(),
                "status_label": status_label(&ctx.state.catalogs, locale, c.status),
                "report": r.report.as_str(),
                "report_label": ctx.t(&format!("politician.report_{}", r.report.as_str())),
                "opens_at": r.opens_at.as_ref().map(|d| date(locale, d)),
                "closes_at": r.closes_at.as_ref().map(|d| date(locale, d)),
            })
        })
        .collect();
    ctx.render(
        "politician",
        &ctx.t("politician.title"),
        json!({ "items": items, "has_items": !items.is_empty() }),
    )
}

/// Where to go after logging in: a politician who was headed for the default account page
/// lands on the overview instead; any other target is kept.
pub fn landing(next: &str, role: crate::domain::Role) -> &str {
    if next == "/account" && politician::lands_on_overview(role) {
        "/politician"
    } else {
        next
    }
}
