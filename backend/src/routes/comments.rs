//! Comments on ideas: writing, editing and deleting one's own, flagging
//! others', and staff moderation (hide or restore, with a reason).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::entities::{comment, idea};
use crate::errors::AppError;
use crate::routes::context::{Ctx, LoggedIn, Staff};
use crate::routes::ideas::{DetailForms, detail_page};
use crate::routes::see_other;
use crate::routes::views::FieldErrors;
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
    let created = comments::create(&ctx.state.db, &me, *id, parent, &form.body).await;
    ctx.form_result(
        created,
        |cm| {
            ctx.flash("success", "comment.created");
            ctx.tell_about_personal_data(&[&form.body], &[&form.body]);
            Ok(see_other(&format!("/ideas/{id}#comment-{}", cm.id)))
        },
        async |errors| {
            let forms = DetailForms {
                errors,
                comment_body: form.body.clone(),
                reply_to: parent,
                ..Default::default()
            };
            detail_page(&ctx, *id, forms).await
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct BodyForm {
    #[serde(default)]
    body: String,
}

/// The idea a comment page links back to.
#[derive(Serialize)]
struct IdeaRef {
    id: i64,
    title: String,
}

impl IdeaRef {
    fn of(i: &idea::Model) -> Self {
        IdeaRef {
            id: i.id,
            title: i.title.clone(),
        }
    }
}

#[derive(Serialize)]
struct CommentEditPage<'a> {
    comment_id: i64,
    idea: IdeaRef,
    body: &'a str,
    has_errors: bool,
    errors: FieldErrors,
    body_max: usize,
    minutes: i64,
}

fn comment_edit_page(
    ctx: &Ctx,
    cm: &comment::Model,
    i: &idea::Model,
    body: &str,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let page = CommentEditPage {
        comment_id: cm.id,
        idea: IdeaRef::of(i),
        body,
        has_errors: !errors.is_empty(),
        errors,
        body_max: comments::BODY_MAX,
        minutes: comments::EDIT_MINUTES,
    };
    ctx.render("comment_edit", &ctx.t("comment.edit_title"), page)
}

#[get("/comments/{id}/edit")]
pub async fn comment_edit_form(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let (cm, i) = comments::get_for_edit(&ctx.state.db, &me, *id).await?;
    comment_edit_page(&ctx, &cm, &i, &cm.body, FieldErrors::default())
}

#[post("/comments/{id}/edit")]
pub async fn comment_edit(
    id: web::Path<i64>,
    form: web::Form<BodyForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let saved = comments::edit(&ctx.state.db, &me, *id, &form.body).await;
    ctx.form_result(
        saved,
        |cm| {
            ctx.flash("success", "comment.saved");
            ctx.tell_about_personal_data(&[&form.body], &[&form.body]);
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        },
        async |errors| {
            let (cm, i) = comments::get_for_edit(&ctx.state.db, &me, *id).await?;
            comment_edit_page(&ctx, &cm, &i, &form.body, errors)
        },
    )
    .await
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

#[derive(Serialize)]
struct ReasonPage<'a> {
    comment_id: i64,
    idea: IdeaRef,
    body: &'a str,
    moderate: bool,
    is_hidden: bool,
    flag_count: i32,
    action: String,
    reason: &'a str,
    has_errors: bool,
    errors: FieldErrors,
    reason_max: usize,
}

/// The page for flagging (citizens) or moderating (staff) one comment.
fn reason_page(
    ctx: &Ctx,
    cm: &comment::Model,
    i: &idea::Model,
    moderate: bool,
    reason: &str,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let title = if moderate {
        ctx.t("comment.moderate_title")
    } else {
        ctx.t("comment.flag_title")
    };
    let action = if moderate {
        format!("/comments/{}/moderate", cm.id)
    } else {
        format!("/comments/{}/flag", cm.id)
    };
    let page = ReasonPage {
        comment_id: cm.id,
        idea: IdeaRef::of(i),
        body: &cm.body,
        moderate,
        is_hidden: cm.status == CommentStatus::Hidden,
        flag_count: cm.flag_count,
        action,
        reason,
        has_errors: !errors.is_empty(),
        errors,
        reason_max: comments::REASON_MAX,
    };
    ctx.render("comment_reason", &title, page)
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
    reason_page(&ctx, &cm, &i, false, "", FieldErrors::default())
}

#[post("/comments/{id}/flag")]
pub async fn flag_comment(
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let flagged = comments::flag(&ctx.state.db, &me, *id, &form.reason).await;
    let flagged = match flagged {
        Ok(_) => Ok(comments::get_visible(&ctx.state.db, Some(&me), *id).await?),
        Err(e) => Err(e),
    };
    ctx.form_result(
        flagged,
        |(cm, _, _)| {
            ctx.flash("success", "comment.flagged");
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        },
        async |errors| {
            let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
            reason_page(&ctx, &cm, &i, false, &form.reason, errors)
        },
    )
    .await
}

#[get("/comments/{id}/moderate")]
pub async fn moderate_form(
    id: web::Path<i64>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
    reason_page(&ctx, &cm, &i, true, "", FieldErrors::default())
}

#[post("/comments/{id}/moderate")]
pub async fn moderate_comment(
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let decision =
        Decision::parse(&form.decision).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let moderated = comments::moderate(&ctx.state.db, &me, *id, decision, &form.reason).await;
    ctx.form_result(
        moderated,
        |cm| {
            let key = match decision {
                Decision::Hide => "comment.hidden_done",
                Decision::Restore => "comment.restored_done",
            };
            ctx.flash("success", key);
            Ok(see_other(&format!(
                "/ideas/{}#comment-{}",
                cm.idea_id, cm.id
            )))
        },
        async |errors| {
            let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(&me), *id).await?;
            reason_page(&ctx, &cm, &i, true, &form.reason, errors)
        },
    )
    .await
}
