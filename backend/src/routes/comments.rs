//! Comments on ideas: writing, editing and deleting one's own, flagging
//! others', and staff moderation (hide or restore, with a reason).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::entities::{comment, idea};
use crate::errors::AppError;
use crate::routes::context::{Ctx, LoggedIn, Staff};
use crate::routes::ideas::{DetailForms, detail_page};
use crate::routes::see_other;
use crate::routes::views::field_errors;
use crate::services::comments::{self, CommentStatus, Decision};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_comment)
        .service(comment_edit_form)
        .service(comment_edit)
        .service(comment_delete)
        .service(flag_form)
        .service(flag_comment)
        .service(moderate_form)
        .service(moderate_comment);
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    parent_id: Option<String>,
}

#[post("/ideas/{id}/comments")]
pub async fn create_comment(
    id: web::Path<i64>,
    form: web::Form<CommentForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let parent = match form.parent_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<i64>()
                .map_err(|_| AppError::BadRequest("errors.invalid_input"))?,
        ),
    };
    match comments::create(&ctx.state.db, &me, *id, parent, &form.body).await {
        Ok(cm) => {
            ctx.flash("success", "comment.created");
            Ok(see_other(&format!("/ideas/{id}#comment-{}", cm.id)))
        }
        Err(AppError::Validation(errors)) => {
            let forms = DetailForms {
                errors,
                comment_body: form.body.clone(),
                reply_to: parent,
                ..Default::default()
            };
            detail_page(&ctx, *id, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct BodyForm {
    #[serde(default)]
    body: String,
}

fn comment_edit_page(
    ctx: &Ctx,
    status: StatusCode,
    cm: &comment::Model,
    i: &idea::Model,
    body: &str,
    errors: Value,
) -> Result<HttpResponse, AppError> {
    ctx.render_status(
        status,
        "comment_edit",
        &ctx.t("comment.edit_title"),
        json!({
            "comment_id": cm.id,
            "idea": { "id": i.id, "title": i.title },
            "body": body,
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "body_max": comments::BODY_MAX,
            "minutes": comments::EDIT_MINUTES,
        }),
    )
}

#[get("/comments/{id}/edit")]
pub async fn comment_edit_form(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let (cm, i) = comments::get_for_edit(&ctx.state.db, &me, *id).await?;
    comment_edit_page(&ctx, StatusCode::OK, &cm, &i, &cm.body, json!({}))
}

#[post("/comments/{id}/edit")]
pub async fn comment_edit(
    id: web::Path<i64>,
    form: web::Form<BodyForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    match comments::edit(&ctx.state.db, &me, *id, &form.body).await {
        Ok(cm) => {
            ctx.flash("success", "comment.saved");
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        }
        Err(AppError::Validation(errors)) => {
            let (cm, i) = comments::get_for_edit(&ctx.state.db, &me, *id).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            comment_edit_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &cm,
                &i,
                &form.body,
                errors,
            )
        }
        Err(e) => Err(e),
    }
}

#[post("/comments/{id}/delete")]
pub async fn comment_delete(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let cm = comments::delete(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "comment.deleted");
    Ok(see_other(&format!(
        "/ideas/{}#comment-{}",
        cm.idea_id, cm.id
    )))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    decision: String,
}

/// The page for flagging (citizens) or moderating (staff) one comment.
fn reason_page(
    ctx: &Ctx,
    status: StatusCode,
    cm: &comment::Model,
    i: &idea::Model,
    moderate: bool,
    reason: &str,
    errors: Value,
) -> Result<HttpResponse, AppError> {
    let title = if moderate {
        ctx.t("comment.moderate_title")
    } else {
        ctx.t("comment.flag_title")
    };
    let st = cm.status;
    ctx.render_status(
        status,
        "comment_reason",
        &title,
        json!({
            "comment_id": cm.id,
            "idea": { "id": i.id, "title": i.title },
            "body": cm.body,
            "moderate": moderate,
            "is_hidden": st == CommentStatus::Hidden,
            "flag_count": cm.flag_count,
            "action": if moderate { format!("/comments/{}/moderate", cm.id) } else { format!("/comments/{}/flag", cm.id) },
            "reason": reason,
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "reason_max": comments::REASON_MAX,
        }),
    )
}

#[get("/comments/{id}/flag")]
pub async fn flag_form(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
    if cm.status != CommentStatus::Visible {
        return Err(AppError::Conflict("errors.comment_not_flaggable"));
    }
    reason_page(&ctx, StatusCode::OK, &cm, &i, false, "", json!({}))
}

#[post("/comments/{id}/flag")]
pub async fn flag_comment(
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    match comments::flag(&ctx.state.db, &me, *id, &form.reason).await {
        Ok(_) => {
            let (cm, _, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
            ctx.flash("success", "comment.flagged");
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        }
        Err(AppError::Validation(errors)) => {
            let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            reason_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &cm,
                &i,
                false,
                &form.reason,
                errors,
            )
        }
        Err(e) => Err(e),
    }
}

#[get("/comments/{id}/moderate")]
pub async fn moderate_form(
    id: web::Path<i64>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
    reason_page(&ctx, StatusCode::OK, &cm, &i, true, "", json!({}))
}

#[post("/comments/{id}/moderate")]
pub async fn moderate_comment(
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let decision =
        Decision::parse(&form.decision).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    match comments::moderate(&ctx.state.db, &me, *id, decision, &form.reason).await {
        Ok(cm) => {
            let key = match decision {
                Decision::Hide => "comment.hidden_done",
                Decision::Restore => "comment.restored_done",
            };
            ctx.flash("success", key);
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        }
        Err(AppError::Validation(errors)) => {
            let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            reason_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &cm,
                &i,
                true,
                &form.reason,
                errors,
            )
        }
        Err(e) => Err(e),
    }
}
