//! "Klag / få hjælp": the citizen's complaint form and the staff queue
//! (`/staff/complaints`). Rules live in `services::complaints`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::{Ctx, CurrentUser, LoggedIn, Staff};
use crate::routes::see_other;
use crate::routes::views::{FieldErrors, date};
use crate::services::complaints;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(new_form)
        .service(submit)
        .service(staff_queue)
        .service(take)
        .service(answer);
}

#[derive(Deserialize)]
pub struct NewQuery {
    decision: Option<i64>,
}

#[derive(Serialize)]
struct Decision {
    id: i64,
    what: String,
    reason: String,
    at: String,
}

#[derive(Serialize)]
struct FormPage {
    decision: Option<Decision>,
    body: String,
    errors: FieldErrors,
}

async fn form_page(
    ctx: &Ctx,
    me: &CurrentUser,
    decision_id: Option<i64>,
    body: &str,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let decision = match decision_id {
        Some(id) => {
            let d = complaints::own_decision(&ctx.state.db, me, id).await?;
            Some(Decision {
                id: d.id,
                what: ctx.t(&format!("complaints.subject.{}", d.subject_type)),
                reason: d.reason,
                at: date(ctx.locale, &d.created_at),
            })
        }
        None => None,
    };
    let page = FormPage {
        decision,
        body: body.to_owned(),
        errors,
    };
    ctx.render_status(status, "complaint_form", &ctx.t("complaints.title"), page)
}

#[get("/complaints/new")]
pub async fn new_form(
    query: web::Query<NewQuery>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    form_page(
        &ctx,
        &me,
        query.decision,
        "",
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct ComplaintForm {
    #[serde(default)]
    decision: Option<i64>,
    #[serde(default)]
    body: String,
}

#[post("/complaints")]
pub async fn submit(
    form: web::Form<ComplaintForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let saved = complaints::submit(&ctx.state.db, &me, form.decision, &form.body).await;
    ctx.form_result(
        saved,
        |_| {
            ctx.flash("success", "complaints.received_flash");
            Ok(see_other("/account/data#complaints"))
        },
        async |errors| {
            form_page(
                &ctx,
                &me,
                form.decision,
                &form.body,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        },
    )
    .await
}

#[derive(Serialize)]
struct Row {
    id: i64,
    status: String,
    status_label: String,
    body: String,
    decision: Option<String>,
    created_at: String,
    answer: Option<String>,
    can_take: bool,
    can_answer: bool,
    /// Why this staff member may not act on it, when they may not.
    refusal: Option<String>,
}

#[derive(Serialize)]
struct QueuePage {
    complaints: Vec<Row>,
}

#[get("/staff/complaints")]
pub async fn staff_queue(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let list = complaints::queue(&ctx.state.db, &me).await?;
    let complaints = list
        .into_iter()
        .map(|c| {
            let can_take = complaints::may_take(&me, &c).is_ok();
            let can_answer = complaints::may_answer(&me, &c).is_ok();
            let refusal = match (c.status.as_str(), can_take, can_answer) {
                (complaints::RECEIVED, false, _) => complaints::may_take(&me, &c).err(),
                (complaints::HANDLING, _, false) => complaints::may_answer(&me, &c).err(),
                _ => None,
            }
            .map(|key| ctx.t(key));
            Row {
                id: c.id,
                status_label: ctx.t(&format!("complaints.status.{}", c.status)),
                status: c.status,
                body: c.body,
                decision: c.decision_id.map(|id| {
                    ctx.t("complaints.about_decision")
                        .replace("{id}", &id.to_string())
                }),
                created_at: date(ctx.locale, &c.created_at),
                answer: c.answer,
                can_take,
                can_answer,
                refusal,
            }
        })
        .collect();
    ctx.render(
        "staff_complaints",
        &ctx.t("complaints.staff_title"),
        QueuePage { complaints },
    )
}

#[post("/staff/complaints/{id}/take")]
pub async fn take(id: web::Path<i64>, Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    complaints::take(&ctx.state.db, &me, id.into_inner()).await?;
    ctx.flash("success", "complaints.taken_flash");
    Ok(see_other("/staff/complaints"))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
}

#[post("/staff/complaints/{id}/answer")]
pub async fn answer(
    id: web::Path<i64>,
    form: web::Form<AnswerForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    match complaints::answer(&ctx.state.db, &me, id.into_inner(), &form.answer).await {
        Ok(_) => {
            ctx.flash("success", "complaints.answered_flash");
            Ok(see_other("/staff/complaints"))
        }
        // An empty answer: the queue again, saying so.
        Err(AppError::Validation(_)) => Err(AppError::BadRequest("complaints.answer_required")),
        Err(e) => Err(e),
    }
}
