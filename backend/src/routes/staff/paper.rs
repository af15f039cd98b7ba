//! Paper input: the printable voting sheet of a conversation, and the staff
//! form for returned sheets.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::{Ctx, CurrentUser, Staff};
use crate::routes::see_other;
use crate::services::paper::{self, SheetForm};
use crate::services::population::AGE_BANDS;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(print_sheet)
        .service(entry_form)
        .service(enter_sheet);
}

#[derive(Deserialize)]
pub struct PrintQuery {
    #[serde(default)]
    large: Option<String>,
}

#[derive(Serialize)]
struct SheetStatement {
    id: i64,
    number: i64,
    body: String,
    answer: String,
}

#[derive(Serialize)]
struct PrintPage {
    slug: String,
    title: String,
    statements: Vec<SheetStatement>,
    large: bool,
    age_bands: Vec<&'static str>,
}

#[get("/staff/consultations/{slug}/paper")]
pub async fn print_sheet(
    slug: web::Path<String>,
    query: web::Query<PrintQuery>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (c, list) = paper::sheet(&ctx.state.db, &me, &slug).await?;
    let page = PrintPage {
        slug: c.slug.clone(),
        title: c.title.clone(),
        statements: list
            .into_iter()
            .map(|s| SheetStatement {
                id: s.id,
                number: s.number + 1,
                body: s.body,
                answer: String::new(),
            })
            .collect(),
        large: query.large.as_deref().is_some_and(|v| !v.is_empty()),
        age_bands: AGE_BANDS.iter().map(|(b, _, _)| *b).collect(),
    };
    ctx.render("paper_sheet", &c.title, page)
}

#[derive(Serialize)]
struct Band {
    value: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct EntryPage {
    slug: String,
    title: String,
    statements: Vec<SheetStatement>,
    number: String,
    district: String,
    age_bands: Vec<Band>,
    entered: u64,
    refusal: Option<String>,
    errors: Vec<String>,
    error_number: Option<String>,
    error_answers: Option<String>,
    error_age_band: Option<String>,
    error_district: Option<String>,
}

async fn entry_page(
    ctx: &Ctx,
    me: &CurrentUser,
    slug: &str,
    form: &SheetForm,
    errors: &[crate::errors::FieldError],
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let (c, list) = paper::sheet(db, me, slug).await?;
    let entered = paper::count(db, c.id).await?;
    let refusal = paper::may_enter(&c).err().map(|r| ctx.t(r.key()));
    let answers: std::collections::HashMap<i64, &str> = form
        .answers
        .iter()
        .map(|(id, v)| (*id, v.as_str()))
        .collect();
    let message = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| ctx.t(&format!("paper.errors.{}", e.key)))
    };
    let page = EntryPage {
        slug: c.slug.clone(),
        title: c.title.clone(),
        statements: list
            .into_iter()
            .map(|s| SheetStatement {
                answer: answers.get(&s.id).copied().unwrap_or_default().to_owned(),
                id: s.id,
                number: s.number + 1,
                body: s.body,
            })
            .collect(),
        number: form.number.clone(),
        district: form.district.clone(),
        age_bands: AGE_BANDS
            .iter()
            .map(|(b, _, _)| Band {
                value: b,
                selected: form.age_band == *b,
            })
            .collect(),
        entered,
        refusal,
        errors: errors
            .iter()
            .map(|e| ctx.t(&format!("paper.errors.{}", e.key)))
            .collect(),
        error_number: message("number"),
        error_answers: message("answers"),
        error_age_band: message("age_band"),
        error_district: message("district"),
    };
    let status = if errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    ctx.render_status(status, "paper_entry", &ctx.t("paper.entry_title"), page)
}

#[get("/staff/consultations/{slug}/paper/sheets")]
pub async fn entry_form(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    entry_page(&ctx, &me, &slug, &SheetForm::default(), &[]).await
}

fn parse_form(pairs: &[(String, String)]) -> Result<SheetForm, AppError> {
    let mut form = SheetForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "number" => form.number = v.clone(),
            "age_band" => form.age_band = v.clone(),
            "district" => form.district = v.clone(),
            key => {
                if let Some(id) = key.strip_prefix('s') {
                    let id = id
                        .parse::<i64>()
                        .map_err(|_| AppError::BadRequest("errors.invalid_input"))?;
                    form.answers.push((id, v.clone()));
                }
            }
        }
    }
    Ok(form)
}

#[post("/staff/consultations/{slug}/paper/sheets")]
pub async fn enter_sheet(
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let sheet = parse_form(&form)?;
    match paper::enter(&ctx.state.db, &me, &slug, &sheet).await {
        Ok(_) => {
            ctx.flash("success", "paper.entered");
            Ok(see_other(&format!(
                "/staff/consultations/{slug}/paper/sheets"
            )))
        }
        Err(AppError::Validation(errors)) => entry_page(&ctx, &me, &slug, &sheet, &errors).await,
        Err(e) => Err(e),
    }
}
