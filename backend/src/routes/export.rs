//! Open data downloads and the open data page.
//!
//! - `GET /consultations/{slug}/export/{file}`: `comments.csv`, `votes.csv`,
//!   `participants-votes.csv`, `summary.csv`, `stats-history.csv`,
//!   `export.json`, or `{slug}.zip` with all of them and LICENSE.txt.
//! - `GET /api/v1/consultations/{slug}/export`: the JSON document.
//! - `GET /open-data`: published and archived consultations with their
//!   reports and downloads.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::entities::consultation;
use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::routes::views::{ConsultationCard, consultation_card};
use crate::services::consultations::{self, Status};
use crate::services::export::{self, ExportDocument, ExportFile};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(download).service(api_export).service(open_data);
}

/// A refusal for someone not logged in becomes "log in first", as for other
/// pages that need an account.
fn refused(ctx: &Ctx, e: AppError) -> AppError {
    match e {
        AppError::Forbidden(_) if ctx.user.is_none() => match ctx.require_user() {
            Err(login) => login,
            Ok(_) => AppError::forbidden(),
        },
        other => other,
    }
}

fn public_url(ctx: &Ctx) -> Option<String> {
    ctx.state.settings.public_url.clone()
}

#[get("/consultations/{slug}/export/{file}")]
pub async fn download(
    ctx: Ctx,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, name) = path.into_inner();
    let file = ExportFile::parse(&slug, &name).ok_or(AppError::NotFound)?;
    let db = &ctx.state.db;
    let c = export::authorize(db, ctx.user.as_ref(), &slug)
        .await
        .map_err(|e| refused(&ctx, e))?;
    let data = export::load(db, c, public_url(&ctx).as_deref()).await?;
    let bytes = data.file(file)?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}/export",
    params(("slug" = String, Path, description = "The consultation's short name")),
    responses(
        (status = 200, description = "The consultation's open data (CC BY 4.0): statements, participants with their opinion group and votes, every vote as cast", body = ExportDocument),
        (status = 403, description = "Not published yet: only staff and politicians may download"),
        (status = 404, description = "No such consultation with a conversation")
    )
)]
#[get("/api/v1/consultations/{slug}/export")]
pub async fn api_export(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let c = export::authorize(db, ctx.user.as_ref(), &slug).await?;
    let data = export::load(db, c, public_url(&ctx).as_deref()).await?;
    Ok(HttpResponse::Ok().json(data.document()))
}

/// One file of the open-data export, as a link.
#[derive(Serialize)]
pub struct Download {
    name: String,
    href: String,
    description: String,
}

/// Links and descriptions of every download of `c`, for the pages.
pub fn downloads(ctx: &Ctx, c: &consultation::Model) -> Vec<Download> {
    ExportFile::ALL
        .into_iter()
        .map(|f| Download {
            name: f.name(&c.slug),
            href: export::url(&c.slug, f),
            description: ctx.t(&format!("open_data.file.{}", f.key())),
        })
        .collect()
}

/// A published consultation with its report and files.
#[derive(Serialize)]
struct OpenDataItem {
    #[serde(flatten)]
    card: ConsultationCard,
    report_href: String,
    downloads: Vec<Download>,
}

/// A file of the export, described.
#[derive(Serialize)]
struct DictionaryEntry {
    name: String,
    description: String,
}

#[derive(Serialize)]
struct OpenDataPage {
    items: Vec<OpenDataItem>,
    dictionary: Vec<DictionaryEntry>,
    license_url: &'static str,
}

#[get("/open-data")]
pub async fn open_data(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let list =
        consultations::list_public(&ctx.state.db, &[Status::Published, Status::Archived]).await?;
    let items = list
        .iter()
        .map(|c| OpenDataItem {
            card: consultation_card(&ctx.state.catalogs, ctx.locale, c),
            report_href: format!("/consultations/{}/report", c.slug),
            downloads: if c.has_conversation && export::can_download(ctx.user.as_ref(), c) {
                downloads(&ctx, c)
            } else {
                Vec::new()
            },
        })
        .collect();
    let dictionary = ExportFile::ALL
        .into_iter()
        .filter(|f| *f != ExportFile::Zip)
        .map(|f| DictionaryEntry {
            name: f.name(""),
            description: ctx.t(&format!("open_data.file.{}", f.key())),
        })
        .collect();
    let page = OpenDataPage {
        items,
        dictionary,
        license_url: export::LICENSE_URL,
    };
    ctx.render("open_data", &ctx.t("open_data.title"), page)
}
