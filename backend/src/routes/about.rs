//! About this software: its licences (`/licenses`, the EUPL text) and where to
//! report a vulnerability (`/.well-known/security.txt`, RFC 9116).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::build_info;
use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::services::licenses::{self, LicenseGroup};
use crate::services::security_txt::SecurityTxt;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(licenses_page)
        .service(license_text)
        .service(security_txt);
}

#[get("/licenses")]
pub async fn licenses_page(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let crates = licenses::third_party()?;
    let groups = licenses::by_license(crates)
        .into_iter()
        .enumerate()
        .map(|(i, group)| GroupView {
            id: format!("license-{}", i + 1),
            count: group.crates.len(),
            group,
        })
        .collect();
    let page = LicensesPage {
        own_license: licenses::OWN_LICENSE,
        source_url: build_info::REPOSITORY,
        version: build_info::VERSION,
        commit: build_info::COMMIT,
        open_data_license_url: crate::services::export::LICENSE_URL,
        crate_count: crates.len(),
        groups,
    };
    ctx.render("licenses", &ctx.t("licenses.title"), page)
}

#[derive(Serialize)]
struct LicensesPage {
    own_license: &'static str,
    source_url: &'static str,
    version: &'static str,
    commit: &'static str,
    open_data_license_url: &'static str,
    crate_count: usize,
    groups: Vec<GroupView>,
}

#[derive(Serialize)]
struct GroupView {
    /// Anchor of the group's heading, linked from the summary.
    id: String,
    count: usize,
    #[serde(flatten)]
    group: LicenseGroup,
}

/// The full EUPL-1.2, as carried in the binary.
#[get("/licenses/EUPL-1.2.txt")]
pub async fn license_text() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(samskab_frontend::LICENSE_TEXT)
}

#[get("/.well-known/security.txt")]
pub async fn security_txt(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // Checked at start-up, so this only fails if the settings changed under us.
    let txt = SecurityTxt::from_settings(&state.settings)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(txt.render(chrono::Utc::now())))
}
