//! Council staff: create, edit and run consultations.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::errors::AppError;
use crate::routes::context::{Ctx, Staff};
use crate::routes::see_other;
use crate::routes::views::{consultation_card, field_errors};
use crate::services::consultations::{self, ConsultationForm, Status};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(new_form)
        .service(create)
        .service(edit_form)
        .service(update)
        .service(transition);
}

#[get("/staff/consultations")]
pub async fn list(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let all = consultations::list_all(&ctx.state.db, &me).await?;
    let items: Vec<_> = all
        .iter()
        .map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c))
        .collect();
    ctx.render(
        "staff_consultations",
        &ctx.t("staff.title"),
        json!({ "items": items }),
    )
}

fn form_page(
    ctx: &Ctx,
    status: StatusCode,
    form: &ConsultationForm,
    errors: Value,
    edit: Option<&crate::entities::consultation::Model>,
) -> Result<HttpResponse, AppError> {
    let title = if edit.is_some() {
        ctx.t("staff.edit_title")
    } else {
        ctx.t("staff.new_title")
    };
    let transitions: Vec<_> = edit
        .map(|c| {
            c.status
                .next()
                .iter()
                .map(|s| json!({ "value": s.as_str(), "label": ctx.t(&format!("staff.to_{}", s.as_str())) }))
                .collect()
        })
        .unwrap_or_default();
    let slug_locked = edit.is_some_and(|c| c.status != Status::Draft);
    ctx.render_status(
        status,
        "staff_consultation_form",
        &title,
        json!({
            "form": form,
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "is_pre": form.moderation_mode == "pre",
            "eligibility": crate::domain::VotingEligibility::ALL
                .iter()
                .map(|e| json!({
                    "value": e.as_str(),
                    "label": ctx.t(&format!("eligibility.{}", e.as_str())),
                    "checked": form.voting_eligibility == e.as_str()
                        || (form.voting_eligibility.is_empty() && e.as_str() == "anyone"),
                }))
                .collect::<Vec<_>>(),
            "edit": edit.map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c)),
            "slug_locked": slug_locked,
            "transitions": transitions,
        }),
    )
}

#[get("/staff/consultations/new")]
pub async fn new_form(Staff(ctx, _): Staff) -> Result<HttpResponse, AppError> {
    let form = ConsultationForm {
        accepts_ideas: Some("on".into()),
        has_conversation: Some("on".into()),
        moderation_mode: "post".into(),
        support_threshold: "50".into(),
        comment_flag_threshold: "3".into(),
        voting_eligibility: "anyone".into(),
        statement_max_chars: "200".into(),
        ..Default::default()
    };
    form_page(&ctx, StatusCode::OK, &form, json!({}), None)
}

#[post("/staff/consultations")]
pub async fn create(
    form: web::Form<ConsultationForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    match consultations::create(&ctx.state.db, &me, &form).await {
        Ok(c) => {
            ctx.flash("success", "staff.created");
            Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
        }
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            form_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, errors, None)
        }
        Err(e) => Err(e),
    }
}

#[get("/staff/consultations/{slug}/edit")]
pub async fn edit_form(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
    form_page(
        &ctx,
        StatusCode::OK,
        &ConsultationForm::from_model(&c),
        json!({}),
        Some(&c),
    )
}

#[post("/staff/consultations/{slug}/edit")]
pub async fn update(
    slug: web::Path<String>,
    form: web::Form<ConsultationForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    match consultations::update(&ctx.state.db, &me, &slug, &form).await {
        Ok(c) => {
            ctx.flash("success", "staff.saved");
            Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
        }
        Err(AppError::Validation(errors)) => {
            let existing = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            form_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                errors,
                Some(&existing),
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct TransitionForm {
    #[serde(default)]
    to: String,
}

#[post("/staff/consultations/{slug}/status")]
pub async fn transition(
    slug: web::Path<String>,
    form: web::Form<TransitionForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let to = Status::parse(&form.to).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let c = crate::services::lifecycle::transition(&ctx.state.db, &me, &slug, to).await?;
    ctx.flash("success", &format!("staff.now_{}", to.as_str()));
    Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
}
