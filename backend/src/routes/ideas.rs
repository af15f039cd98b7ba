//! Citizens' ideas: the list of a consultation, the idea page with supports,
//! status history and comments, the proposal and edit forms, and the staff
//! dashboard of ideas waiting for moderation or an answer.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::entities::{comment, consultation, idea};
use crate::errors::{AppError, FieldError};
use crate::routes::context::Ctx;
use crate::routes::see_other;
use crate::routes::views::{date, field_errors};
use crate::services::comments::{self, CommentStatus, Decision};
use crate::services::consultations::{self, Status};
use crate::services::ideas::{self, IdeaForm, IdeaStatus, ListQuery, Sort};
use crate::services::notifications;

pub fn status_label(ctx: &Ctx, s: IdeaStatus) -> String {
    ctx.t(&format!("idea_status.{}", s.as_str()))
}

fn idea_card(ctx: &Ctx, i: &idea::Model, author: Option<&String>) -> Value {
    let s = i.status;
    json!({
        "id": i.id,
        "title": i.title,
        "status": s.as_str(),
        "status_label": status_label(ctx, s),
        "category": i.category,
        "place": i.place,
        "author": author.cloned().unwrap_or_else(|| ctx.t("ideas.unknown_author")),
        "created_at": date(ctx.locale, &i.created_at),
        "support_count": i.support_count,
        "comment_count": i.comment_count,
    })
}

#[derive(Deserialize, Serialize, Default)]
pub struct ListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parse list filters; an unknown sort, status or category is a bad request.
pub fn list_query(
    c: &consultation::Model,
    sort: Option<&str>,
    status: Option<&str>,
    category: Option<&str>,
    q: Option<&str>,
) -> Result<ListQuery, AppError> {
    let sort = match sort {
        None => Sort::Newest,
        Some(s) => Sort::parse(s).ok_or(AppError::BadRequest("errors.invalid_filter"))?,
    };
    let status = status
        .map(|s| {
            IdeaStatus::parse(s)
                .filter(|s| *s != IdeaStatus::Submitted)
                .ok_or(AppError::BadRequest("errors.invalid_filter"))
        })
        .transpose()?;
    let category = category
        .map(|cat| {
            consultations::categories(c)
                .into_iter()
                .find(|x| x == cat)
                .ok_or(AppError::BadRequest("errors.invalid_filter"))
        })
        .transpose()?;
    if q.is_some_and(|q| q.chars().count() > ideas::SEARCH_MAX) {
        return Err(AppError::BadRequest("errors.search_too_long"));
    }
    Ok(ListQuery {
        sort,
        status,
        category,
        search: q.map(str::to_owned),
        offset: 0,
        limit: ideas::PAGE_SIZE,
    })
}

#[get("/consultations/{slug}/ideas")]
pub async fn idea_list(
    ctx: Ctx,
    slug: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_visible(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let mut query = list_query(
        &c,
        non_empty(&params.sort),
        non_empty(&params.status),
        non_empty(&params.category),
        non_empty(&params.q),
    )?;
    let page = params.page.unwrap_or(1).max(1);
    query.offset = (page - 1).saturating_mul(ideas::PAGE_SIZE);
    let (items, more) = ideas::list(&ctx.state.db, &c, &query).await?;
    let names =
        ideas::display_names(&ctx.state.db, items.iter().filter_map(|i| i.author_id)).await?;
    let cards: Vec<_> = items
        .iter()
        .map(|i| idea_card(&ctx, i, i.author_id.and_then(|a| names.get(&a))))
        .collect();
    let link = |p: u64| {
        let params = ListParams {
            sort: non_empty(&params.sort).map(str::to_owned),
            status: non_empty(&params.status).map(str::to_owned),
            category: non_empty(&params.category).map(str::to_owned),
            q: non_empty(&params.q).map(str::to_owned),
            page: Some(p),
        };
        format!(
            "/consultations/{}/ideas?{}",
            c.slug,
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    };
    let sorts: Vec<_> = Sort::ALL
        .iter()
        .map(|s| json!({"value": s.as_str(), "label": ctx.t(&format!("ideas.sort_{}", s.as_str())), "selected": *s == query.sort}))
        .collect();
    let statuses: Vec<_> = IdeaStatus::ALL
        .iter()
        .filter(|s| **s != IdeaStatus::Submitted)
        .map(|s| json!({"value": s.as_str(), "label": status_label(&ctx, *s), "selected": Some(*s) == query.status}))
        .collect();
    let categories: Vec<_> = consultations::categories(&c)
        .into_iter()
        .map(|cat| json!({"selected": query.category.as_deref() == Some(cat.as_str()), "value": cat}))
        .collect();
    let can_propose = c.accepts_ideas && c.status == Status::Open;
    ctx.render(
        "ideas",
        &format!("{} · {}", ctx.t("ideas.title"), c.title),
        json!({
            "consultation": { "slug": c.slug, "title": c.title },
            "items": cards,
            "sorts": sorts,
            "statuses": statuses,
            "categories": categories,
            "q": non_empty(&params.q).unwrap_or(""),
            "search_max": ideas::SEARCH_MAX,
            "can_propose": can_propose,
            "accepts_ideas": c.accepts_ideas,
            "page": page,
            "prev": (page > 1).then(|| link(page - 1)),
            "next": more.then(|| link(page + 1)),
        }),
    )
}

fn form_page(
    ctx: &Ctx,
    status: StatusCode,
    c: &consultation::Model,
    form: &IdeaForm,
    errors: Value,
    edit: Option<&idea::Model>,
) -> Result<HttpResponse, AppError> {
    let title = if edit.is_some() {
        ctx.t("idea_form.edit_title")
    } else {
        ctx.t("idea_form.new_title")
    };
    let categories: Vec<_> = consultations::categories(c)
        .into_iter()
        .map(|cat| json!({"selected": form.category == cat, "value": cat}))
        .collect();
    let action = match edit {
        Some(i) => format!("/ideas/{}/edit", i.id),
        None => format!("/consultations/{}/ideas", c.slug),
    };
    ctx.render_status(
        status,
        "idea_form",
        &title,
        json!({
            "consultation": { "slug": c.slug, "title": c.title },
            "form": form,
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "categories": categories,
            "action": action,
            "is_edit": edit.is_some(),
            "pre_moderation": c.moderation_mode == crate::domain::ModerationMode::Pre,
            "title_max": ideas::TITLE_MAX,
            "body_max": ideas::BODY_MAX,
            "place_max": ideas::PLACE_MAX,
        }),
    )
}

#[get("/consultations/{slug}/ideas/new")]
pub async fn new_form(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let c = ideas::consultation_for_proposal(&ctx.state.db, me, &slug).await?;
    form_page(
        &ctx,
        StatusCode::OK,
        &c,
        &IdeaForm::default(),
        json!({}),
        None,
    )
}

#[post("/consultations/{slug}/ideas")]
pub async fn create(
    ctx: Ctx,
    slug: web::Path<String>,
    form: web::Form<IdeaForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    match ideas::create(&ctx.state.db, &me, &slug, &form).await {
        Ok(i) => {
            let key = if i.published_at.is_some() {
                "idea.created"
            } else {
                "idea.created_pending"
            };
            ctx.flash("success", key);
            Ok(see_other(&format!("/ideas/{}", i.id)))
        }
        Err(AppError::Validation(errors)) => {
            let c = ideas::consultation_for_proposal(&ctx.state.db, &me, &slug).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            form_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &c,
                &form,
                errors,
                None,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/ideas/{id}/edit")]
pub async fn edit_form(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let (i, c) = ideas::get_for_edit(&ctx.state.db, me, *id).await?;
    form_page(
        &ctx,
        StatusCode::OK,
        &c,
        &IdeaForm::from_model(&i),
        json!({}),
        Some(&i),
    )
}

#[post("/ideas/{id}/edit")]
pub async fn update(
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<IdeaForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    match ideas::update(&ctx.state.db, &me, *id, &form).await {
        Ok(i) => {
            ctx.flash("success", "idea.saved");
            Ok(see_other(&format!("/ideas/{}", i.id)))
        }
        Err(AppError::Validation(errors)) => {
            let (i, c) = ideas::get_for_edit(&ctx.state.db, &me, *id).await?;
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            form_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &c,
                &form,
                errors,
                Some(&i),
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// What the idea page re-shows after a rejected comment or status form.
#[derive(Default)]
struct DetailForms {
    errors: Vec<FieldError>,
    comment_body: String,
    reply_to: Option<i64>,
    response: String,
}

fn comment_view(
    ctx: &Ctx,
    cm: &comment::Model,
    names: &std::collections::HashMap<i64, String>,
    may_take_part: bool,
) -> Value {
    let me = ctx.user.as_ref();
    let staff = me.is_some_and(|u| u.role.is_staff());
    let st = cm.status;
    let mine = me.is_some_and(|u| cm.author_id == Some(u.id));
    let show_text = st == CommentStatus::Visible || (st == CommentStatus::Hidden && staff);
    json!({
        "id": cm.id,
        "depth": cm.depth,
        "author": cm.author_id.and_then(|a| names.get(&a)).cloned().unwrap_or_else(|| ctx.t("ideas.unknown_author")),
        "created_at": date(ctx.locale, &cm.created_at),
        "body": if show_text { cm.body.clone() } else { String::new() },
        "show_text": show_text,
        "is_hidden": st == CommentStatus::Hidden,
        "is_deleted": st == CommentStatus::Deleted,
        "edited": cm.edited_at.is_some(),
        "can_edit": may_take_part && comments::editable_by(me, cm),
        "can_delete": mine && st != CommentStatus::Deleted,
        "can_flag": me.is_some() && !mine && st == CommentStatus::Visible,
        "can_reply": may_take_part && st == CommentStatus::Visible && cm.depth < comments::MAX_DEPTH,
        "can_moderate": staff && st != CommentStatus::Deleted,
    })
}

async fn detail_page(
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    forms: DetailForms,
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let me = ctx.user.as_ref();
    let (i, c) = ideas::get_visible(db, me, id).await?;
    let st = i.status;
    let open = c.status == Status::Open;
    let staff = me.is_some_and(|u| u.role.is_staff());
    let is_author = me.is_some_and(|u| i.author_id == Some(u.id));
    let public = i.published_at.is_some();
    let history = ideas::history(db, i.id).await?;
    let thread = comments::thread(db, i.id).await?;
    let names = ideas::display_names(
        db,
        i.author_id
            .into_iter()
            .chain(thread.iter().filter_map(|c| c.author_id)),
    )
    .await?;
    let (supported, following) = match me {
        Some(u) => (
            ideas::has_supported(db, i.id, u.id).await?,
            notifications::is_following(db, i.id, u.id).await?,
        ),
        None => (false, false),
    };
    let may_take_part = me.is_some() && open && public && st != IdeaStatus::Withdrawn;
    let history: Vec<_> = history
        .iter()
        .map(|h| {
            let to = h.to_status;
            json!({
                "status": to.as_str(),
                "status_label": status_label(ctx, to),
                "date": date(ctx.locale, &h.created_at),
                "response_html": (!h.response.is_empty()).then(|| crate::markdown::to_safe_html(&h.response)),
                "by_council": h.actor_id.is_some() && to != IdeaStatus::Withdrawn && h.from_status.is_some(),
            })
        })
        .collect();
    let answer = history
        .iter()
        .rev()
        .find(|h| h["response_html"].is_string())
        .cloned();
    let comment_views: Vec<_> = thread
        .iter()
        .map(|cm| comment_view(ctx, cm, &names, may_take_part))
        .collect();
    let transitions: Vec<_> = if staff {
        st.staff_next()
            .iter()
            .map(|s| json!({"value": s.as_str(), "label": status_label(ctx, *s)}))
            .collect()
    } else {
        Vec::new()
    };
    let participation_notice = if !open {
        Some(ctx.t("idea.consultation_not_open"))
    } else if !public {
        Some(ctx.t("idea.awaiting_moderation"))
    } else if st == IdeaStatus::Withdrawn {
        Some(ctx.t("idea.is_withdrawn"))
    } else {
        None
    };
    let errors = field_errors(&ctx.state.catalogs, ctx.locale, &forms.errors);
    let mut card = idea_card(ctx, &i, i.author_id.and_then(|a| names.get(&a)));
    card["body_html"] = json!(crate::markdown::to_safe_html(&i.body));
    card["threshold"] = json!(c.support_threshold);
    ctx.render_status(
        status,
        "idea",
        &i.title,
        json!({
            "idea": card,
            "consultation": { "slug": c.slug, "title": c.title },
            "history": history,
            "answer": answer,
            "comments": comment_views,
            "logged_in": me.is_some(),
            "login_href": crate::errors::login_url(&format!("/ideas/{}", i.id)),
            "can_support": may_take_part && !supported && st.accepts_support() && (!is_author || c.allow_self_support),
            "can_unsupport": may_take_part && supported,
            "supported": supported,
            "following": following,
            "can_follow": me.is_some(),
            "can_edit": is_author && open && st.editable() && i.support_count == 0,
            "can_withdraw": is_author && open && st.can_be_withdrawn(),
            "can_comment": may_take_part,
            "participation_notice": participation_notice,
            "transitions": transitions,
            "errors": errors,
            "comment_body": if forms.reply_to.is_none() { forms.comment_body.clone() } else { String::new() },
            "reply_body": forms.comment_body,
            "reply_to": forms.reply_to,
            "response": forms.response,
            "comment_max": comments::BODY_MAX,
            "response_max": ideas::RESPONSE_MAX,
        }),
    )
}

#[get("/ideas/{id}")]
pub async fn show(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    detail_page(&ctx, *id, StatusCode::OK, DetailForms::default()).await
}

#[post("/ideas/{id}/withdraw")]
pub async fn withdraw(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    ideas::withdraw(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.withdrawn");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/support")]
pub async fn support_idea(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    let outcome = ideas::support(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.supported");
    if outcome.reached_threshold {
        ctx.flash("success", "idea.threshold_reached");
    }
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/unsupport")]
pub async fn unsupport(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    ideas::withdraw_support(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.support_withdrawn");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/follow")]
pub async fn follow(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    ideas::follow(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.followed");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/unfollow")]
pub async fn unfollow(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    ideas::unfollow(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.unfollowed");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    response: String,
}

#[post("/ideas/{id}/status")]
pub async fn change_status(
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?.clone();
    let to = IdeaStatus::parse(&form.to).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    match ideas::change_status(&ctx.state.db, &me, *id, to, &form.response).await {
        Ok(_) => {
            ctx.flash("success", "idea.status_changed");
            Ok(see_other(&format!("/ideas/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let forms = DetailForms {
                errors,
                response: form.response.clone(),
                ..Default::default()
            };
            detail_page(&ctx, *id, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(e) => Err(e.into()),
    }
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
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
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
        Err(e) => Err(e.into()),
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
pub async fn comment_edit_form(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let (cm, i) = comments::get_for_edit(&ctx.state.db, me, *id).await?;
    comment_edit_page(&ctx, StatusCode::OK, &cm, &i, &cm.body, json!({}))
}

#[post("/comments/{id}/edit")]
pub async fn comment_edit(
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<BodyForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
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
        Err(e) => Err(e.into()),
    }
}

#[post("/comments/{id}/delete")]
pub async fn comment_delete(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
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
pub async fn flag_form(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(me), *id).await?;
    if cm.status != CommentStatus::Visible {
        return Err(AppError::Conflict("errors.comment_not_flaggable"));
    }
    reason_page(&ctx, StatusCode::OK, &cm, &i, false, "", json!({}))
}

#[post("/comments/{id}/flag")]
pub async fn flag_comment(
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
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
        Err(e) => Err(e.into()),
    }
}

#[get("/comments/{id}/moderate")]
pub async fn moderate_form(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?;
    let (cm, i, _) = comments::get_visible(&ctx.state.db, Some(me), *id).await?;
    reason_page(&ctx, StatusCode::OK, &cm, &i, true, "", json!({}))
}

#[post("/comments/{id}/moderate")]
pub async fn moderate_comment(
    ctx: Ctx,
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?.clone();
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
        Err(e) => Err(e.into()),
    }
}

#[get("/staff/ideas")]
pub async fn staff_dashboard(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?;
    let db = &ctx.state.db;
    let awaiting = ideas::staff_queue(db, me, IdeaStatus::AwaitingAnswer).await?;
    let submitted = ideas::staff_queue(db, me, IdeaStatus::Submitted).await?;
    let hidden = comments::awaiting_moderation(db, me).await?;
    let names = ideas::display_names(
        db,
        awaiting
            .iter()
            .chain(submitted.iter())
            .filter_map(|i| i.author_id),
    )
    .await?;
    let cards = |list: &[idea::Model]| -> Vec<Value> {
        list.iter()
            .map(|i| idea_card(&ctx, i, i.author_id.and_then(|a| names.get(&a))))
            .collect()
    };
    let hidden: Vec<_> = hidden
        .iter()
        .map(|cm| json!({"id": cm.id, "idea_id": cm.idea_id, "body": cm.body, "flag_count": cm.flag_count, "created_at": date(ctx.locale, &cm.created_at)}))
        .collect();
    ctx.render(
        "staff_ideas",
        &ctx.t("staff_ideas.title"),
        json!({ "awaiting": cards(&awaiting), "submitted": cards(&submitted), "hidden_comments": hidden }),
    )
}

#[get("/notifications")]
pub async fn notification_list(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let list = notifications::list(&ctx.state.db, me).await?;
    let items: Vec<_> = list
        .iter()
        .map(|n| {
            let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
            let status = data["status"]
                .as_str()
                .and_then(IdeaStatus::parse)
                .map(|s| status_label(&ctx, s))
                .unwrap_or_default();
            json!({
                "href": format!("/ideas/{}", n.subject_id),
                "title": data["title"].as_str().unwrap_or_default(),
                "status_label": status,
                "date": date(ctx.locale, &n.created_at),
                "unread": n.read_at.is_none(),
            })
        })
        .collect();
    ctx.render(
        "notifications",
        &ctx.t("notifications.title"),
        json!({ "items": items, "has_unread": ctx.unread_notifications > 0 }),
    )
}

#[post("/notifications/read")]
pub async fn notifications_read(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    notifications::mark_all_read(&ctx.state.db, &me).await?;
    ctx.flash("success", "notifications.marked_read");
    Ok(see_other("/notifications"))
}
