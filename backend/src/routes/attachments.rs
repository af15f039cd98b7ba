//! Material attached to a consultation: staff upload files (multipart, the
//! CSRF token checked by the middleware like any form) and add links; anyone
//! who may see the consultation downloads the files with exact headers.

use actix_multipart::Multipart;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, post, web};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::entities::consultation_attachment as attachment;
use crate::errors::AppError;
use crate::routes::context::{Ctx, Staff};
use crate::routes::see_other;
use crate::routes::views::{ConsultationCard, FieldErrors, consultation_card};
use crate::services::attachments::{self, Upload};
use crate::services::consultations;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_page)
        .service(upload_material)
        .service(remove)
        .service(download);
}

/// One item of material as the pages list it.
#[derive(Serialize)]
pub struct AttachmentView {
    pub id: i64,
    pub title: String,
    pub href: String,
    /// "PDF", "Billede", … (empty for a link).
    pub kind: String,
    /// "1,2 MB" (empty for a link).
    pub size: String,
    pub alt_text: Option<String>,
    pub is_image: bool,
}

/// Bytes in the reader's language with a decimal comma in Danish.
pub fn size_text(ctx: &Ctx, bytes: i64) -> String {
    let (value, unit) = if bytes >= 1024 * 1024 {
        (bytes as f64 / (1024.0 * 1024.0), "MB")
    } else {
        ((bytes as f64 / 1024.0).max(0.1), "kB")
    };
    let text = format!("{value:.1}");
    match ctx.locale {
        crate::i18n::Locale::Da => format!("{} {unit}", text.replace('.', ",")),
        crate::i18n::Locale::En => format!("{text} {unit}"),
    }
}

pub fn view(ctx: &Ctx, slug: &str, a: &attachment::Model) -> AttachmentView {
    let content_type = a.content_type.as_deref().unwrap_or_default();
    let kind = match content_type {
        "" => String::new(),
        "application/pdf" => "PDF".to_owned(),
        _ => ctx.t("deadlines.material.image"),
    };
    AttachmentView {
        id: a.id,
        title: a.title.clone(),
        href: match &a.url {
            Some(url) => url.clone(),
            None => format!("/consultations/{slug}/material/{}", a.id),
        },
        kind,
        size: a.size_bytes.map(|b| size_text(ctx, b)).unwrap_or_default(),
        alt_text: a.alt_text.clone(),
        is_image: content_type.starts_with("image/"),
    }
}

#[derive(Serialize)]
struct MaterialPage {
    consultation: ConsultationCard,
    items: Vec<AttachmentView>,
    has_errors: bool,
    errors: FieldErrors,
    max_size: String,
}

async fn page(
    ctx: &Ctx,
    me: &crate::auth::session::CurrentUser,
    slug: &str,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_for_staff(&ctx.state.db, me, slug).await?;
    let items = attachments::list(&ctx.state.db, c.id)
        .await?
        .iter()
        .map(|a| view(ctx, &c.slug, a))
        .collect();
    let max = ctx.state.settings.consultations.attachment_max_bytes as i64;
    let page = MaterialPage {
        consultation: consultation_card(&ctx.state.catalogs, ctx.locale, &c),
        items,
        has_errors: !errors.is_empty(),
        errors,
        max_size: size_text(ctx, max),
    };
    ctx.render(
        "staff_material",
        &ctx.t("deadlines.material.staff_title"),
        page,
    )
}

#[get("/staff/consultations/{slug}/material")]
pub async fn staff_page(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    page(&ctx, &me, &slug, FieldErrors::default()).await
}

/// Read the multipart form, stopping a file at `max` bytes (one more byte is
/// kept so the service can tell that it was too large).
async fn read_upload(mut form: Multipart, max: usize) -> Result<Upload, AppError> {
    let mut read = Upload::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("errors.invalid_input"))?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            read.file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default()
                .to_owned();
            read.declared_type = field.content_type().map(|m| m.essence_str().to_owned());
        }
        let limit = if name == "file" { max } else { 64 * 1024 };
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("errors.invalid_input"))?;
            if data.len() + chunk.len() > limit {
                if name == "file" {
                    read.too_large = true;
                }
                // Drain the rest without keeping it.
                continue;
            }
            data.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8(data.clone()).unwrap_or_default();
        match name.as_str() {
            "file" if !read.too_large => read.data = data,
            "title" => read.title = text(),
            "alt_text" => read.alt_text = text(),
            "url" => read.url = text(),
            _ => {}
        }
    }
    Ok(read)
}

#[post("/staff/consultations/{slug}/material")]
pub async fn upload_material(
    slug: web::Path<String>,
    form: Multipart,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let max = ctx.state.settings.consultations.attachment_max_bytes;
    let read = read_upload(form, max).await?;
    let added = attachments::add(&ctx.state.db, &me, &slug, read, max).await;
    ctx.form_result(
        added,
        |_| {
            ctx.flash("success", "deadlines.material.added_flash");
            Ok(see_other(&format!("/staff/consultations/{slug}/material")))
        },
        async |errors| page(&ctx, &me, &slug, errors).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct RemovePath {
    slug: String,
    id: i64,
}

#[post("/staff/consultations/{slug}/material/{id}/delete")]
pub async fn remove(
    path: web::Path<RemovePath>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    attachments::remove(&ctx.state.db, &me, &path.slug, path.id).await?;
    ctx.flash("success", "deadlines.material.removed_flash");
    Ok(see_other(&format!(
        "/staff/consultations/{}/material",
        path.slug
    )))
}

#[get("/consultations/{slug}/material/{id}")]
pub async fn download(ctx: Ctx, path: web::Path<RemovePath>) -> Result<HttpResponse, AppError> {
    let a = attachments::file(&ctx.state.db, ctx.user.as_ref(), &path.slug, path.id).await?;
    let content_type = a
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let file_name = a.file_name.clone().unwrap_or_else(|| format!("{}", a.id));
    // PDFs and images open in the browser; the name is kept for saving.
    let disposition = ContentDisposition {
        disposition: DispositionType::Inline,
        parameters: vec![DispositionParam::Filename(file_name)],
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(a.data.unwrap_or_default()))
}
