//! The conversation of a consultation: vote on statements one at a time or in
//! a list, write statements, see one's opinion group; staff moderate and add
//! seed statements. Plain forms: everything works without JavaScript.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::entities::{consultation, statement};
use crate::errors::AppError;
use crate::opinion::{Direction, Snapshot, VoteValue};
use crate::routes::context::{Ctx, CurrentUser, Staff};
use crate::routes::see_other;
use crate::routes::views::field_errors;
use crate::services::consultations::Status;
use crate::services::participants::Visitor;
use crate::services::statements::{self, ModerationAction, StatementStatus};
use crate::services::{eligibility, participants, snapshots, votes};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `statements/all` before the `{id}` routes.
    cfg.service(list)
        .service(show)
        .service(vote)
        .service(create)
        .service(moderation)
        .service(add_seed)
        .service(moderate);
}

/// Session key of an anonymous participant's random token.
const SESSION_PARTICIPANT: &str = "ptok";

/// The visitor behind the request; `create` gives an anonymous visitor a
/// participant token (kept in the session cookie) when they act.
fn visitor(ctx: &Ctx, give_token: bool) -> Visitor {
    let mut token: Option<String> = ctx.session.get(SESSION_PARTICIPANT).ok().flatten();
    if token.is_none() && give_token && ctx.user.is_none() {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        let fresh = hex::encode(bytes);
        if ctx.session.insert(SESSION_PARTICIPANT, &fresh).is_ok() {
            token = Some(fresh);
        }
    }
    Visitor {
        user: ctx.user.clone(),
        anon_token: token,
    }
}

struct Conversation {
    c: consultation::Model,
    accepted: Vec<statement::Model>,
    snapshot: Option<Snapshot>,
    participant: Option<crate::entities::participant::Model>,
    voted: HashMap<i64, VoteValue>,
}

async fn load(ctx: &Ctx, slug: &str) -> Result<Conversation, AppError> {
    let db = &ctx.state.db;
    let c = statements::conversation(db, ctx.user.as_ref(), slug).await?;
    let accepted = statements::list_accepted(db, c.id).await?;
    let snapshot = snapshots::latest(db, c.id).await?.map(|(_, s)| s);
    // The participant token is handed out with the page, so that the forms on
    // it (even double-submitted ones) all act for the same participant.
    let participant = participants::find(db, c.id, &visitor(ctx, true)).await?;
    let voted = match &participant {
        Some(p) => votes::of_participant(db, p.id).await?,
        None => HashMap::new(),
    };
    Ok(Conversation {
        c,
        accepted,
        snapshot,
        participant,
        voted,
    })
}

/// The participant's group in words: its size and the statements that
/// characterise it.
fn my_group(ctx: &Ctx, conv: &Conversation) -> Value {
    let (Some(p), Some(snap)) = (&conv.participant, &conv.snapshot) else {
        return Value::Null;
    };
    let Some(g) = snap
        .participants
        .get(&p.id)
        .and_then(|r| r.group)
        .and_then(|g| snap.groups.get(g))
    else {
        return Value::Null;
    };
    if snap.k < 2 {
        return Value::Null;
    }
    let text_of = |n: i64| {
        conv.accepted
            .iter()
            .find(|s| s.number == n)
            .map(|s| s.body.clone())
    };
    let agree: Vec<_> = g
        .representative
        .iter()
        .filter(|r| r.direction == Direction::Agree)
        .filter_map(|r| {
            text_of(r.statement)
                .map(|t| json!({"text": t, "percent": (r.stats.pa * 100.0).round()}))
        })
        .collect();
    let disagree: Vec<_> = g
        .representative
        .iter()
        .filter(|r| r.direction == Direction::Disagree)
        .filter_map(|r| {
            text_of(r.statement)
                .map(|t| json!({"text": t, "percent": (r.stats.pd * 100.0).round()}))
        })
        .collect();
    json!({
        "name": crate::services::snapshots::group_name(g.id),
        "members": g.members,
        "groups": snap.k,
        "agree": agree,
        "disagree": disagree,
        "has_agree": !agree.is_empty(),
        "has_disagree": !disagree.is_empty(),
        "label": ctx.t("statements.group_label"),
    })
}

fn choice_label(ctx: &Ctx, v: Option<&VoteValue>) -> Value {
    match v {
        Some(v) => json!(ctx.t(&format!("statements.{}", votes::choice_name(*v)))),
        None => Value::Null,
    }
}

async fn voting_page(
    ctx: &Ctx,
    slug: &str,
    status: StatusCode,
    body: &str,
    errors: Value,
) -> Result<HttpResponse, AppError> {
    let conv = load(ctx, slug).await?;
    let participant_id = conv.participant.as_ref().map_or(0, |p| p.id);
    let current = snapshots::next_statement(
        &conv.accepted,
        conv.snapshot.as_ref(),
        participant_id,
        &conv.voted,
    );
    let voted_here = conv
        .accepted
        .iter()
        .filter(|s| conv.voted.contains_key(&s.id))
        .count();
    let mine: Vec<_> = match &conv.participant {
        Some(p) => statements::list_by_participant(&ctx.state.db, p.id)
            .await?
            .iter()
            .map(|s| {
                json!({
                    "body": s.body,
                    "status": s.status,
                    "status_label": ctx.t(&format!("statements.status_{}", s.status)),
                    "reason": s.moderation_reason,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    let is_open = conv.c.status == Status::Open;
    let eligible = eligibility::conversation(&conv.c, ctx.user.as_ref());
    ctx.render_status(
        status,
        "statements",
        &format!("{} · {}", ctx.t("statements.title"), conv.c.title),
        json!({
            "consultation": { "slug": conv.c.slug, "title": conv.c.title },
            "is_open": is_open,
            "can_take_part": votes::may_vote(ctx.user.as_ref(), &conv.c).is_ok(),
            "not_eligible": eligible.err().map(|k| ctx.t(k.key())),
            "current": current.map(|s| json!({ "id": s.id, "body": s.body, "is_meta": s.is_meta })),
            "voted": voted_here,
            "total": conv.accepted.len(),
            "done": current.is_none() && !conv.accepted.is_empty(),
            "empty": conv.accepted.is_empty(),
            "mine": mine,
            "has_mine": !mine.is_empty(),
            "group": my_group(ctx, &conv),
            "form": { "body": body },
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "max_chars": statements::max_chars(&conv.c),
            "pre_moderation": conv.c.moderation_mode == crate::domain::ModerationMode::Pre,
        }),
    )
}

#[get("/consultations/{slug}/statements")]
pub async fn show(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    voting_page(&ctx, &slug, StatusCode::OK, "", json!({})).await
}

#[get("/consultations/{slug}/statements/all")]
pub async fn list(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let conv = load(&ctx, &slug).await?;
    let is_open = conv.c.status == Status::Open;
    let eligible = eligibility::conversation(&conv.c, ctx.user.as_ref());
    let items: Vec<_> = conv
        .accepted
        .iter()
        .map(|s| {
            let mine = conv.voted.get(&s.id);
            json!({
                "id": s.id,
                "body": s.body,
                "is_meta": s.is_meta,
                "my_vote": choice_label(&ctx, mine),
                "agree_current": mine == Some(&VoteValue::Agree),
                "disagree_current": mine == Some(&VoteValue::Disagree),
                "pass_current": mine == Some(&VoteValue::Pass),
            })
        })
        .collect();
    ctx.render(
        "statements_all",
        &format!("{} · {}", ctx.t("statements.all_title"), conv.c.title),
        json!({
            "consultation": { "slug": conv.c.slug, "title": conv.c.title },
            "can_take_part": votes::may_vote(ctx.user.as_ref(), &conv.c).is_ok(),
            "not_eligible": eligible.err().map(|k| ctx.t(k.key())),
            "is_open": is_open,
            "items": items,
        }),
    )
}

#[derive(Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    vote: String,
    /// Where to go afterwards: the list view or the next statement.
    #[serde(default)]
    back: String,
}

#[post("/consultations/{slug}/statements/{id}/vote")]
pub async fn vote(
    ctx: Ctx,
    path: web::Path<(String, i64)>,
    form: web::Form<VoteForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, statement_id) = path.into_inner();
    let value =
        votes::parse_choice(&form.vote).ok_or(AppError::BadRequest("errors.vote_invalid"))?;
    let c = statements::conversation(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let who = visitor(&ctx, true);
    votes::cast(&ctx.state.db, &c, &who, statement_id, value).await?;
    let to = if form.back == "all" {
        format!("/consultations/{slug}/statements/all#s{statement_id}")
    } else {
        format!("/consultations/{slug}/statements")
    };
    Ok(see_other(&to))
}

#[derive(Deserialize)]
pub struct StatementForm {
    #[serde(default)]
    body: String,
}

#[post("/consultations/{slug}/statements")]
pub async fn create(
    ctx: Ctx,
    slug: web::Path<String>,
    form: web::Form<StatementForm>,
) -> Result<HttpResponse, AppError> {
    let c = statements::conversation(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let who = visitor(&ctx, true);
    match statements::add(&ctx.state.db, &c, &who, &form.body).await {
        Ok(s) => {
            let key = if s.status == StatementStatus::Pending {
                "statements.created_pending"
            } else {
                "statements.created"
            };
            ctx.flash("success", key);
            Ok(see_other(&format!("/consultations/{slug}/statements")))
        }
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            voting_page(
                &ctx,
                &slug,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.body,
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn moderation_page(
    ctx: &Ctx,
    slug: &str,
    status: StatusCode,
    body: &str,
    errors: Value,
    item_error: Option<(i64, String)>,
    me: &CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (c, all) = statements::list_for_moderation(&ctx.state.db, me, slug).await?;
    let items: Vec<_> = all
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "number": s.number,
                "body": s.body,
                "status": s.status,
                "status_label": ctx.t(&format!("statements.status_{}", s.status)),
                "pending": s.status == StatementStatus::Pending,
                "rejected": s.status == StatementStatus::Rejected,
                "is_meta": s.is_meta,
                "is_seed": s.is_seed,
                "reason": s.moderation_reason,
                "error": item_error.as_ref().filter(|(id, _)| *id == s.id).map(|(_, e)| e),
            })
        })
        .collect();
    ctx.render_status(
        status,
        "staff_statements",
        &format!("{} · {}", ctx.t("moderation_page.title"), c.title),
        json!({
            "consultation": { "slug": c.slug, "title": c.title },
            "items": items,
            "form": { "body": body },
            "errors": errors,
            "has_errors": errors.as_object().is_some_and(|m| !m.is_empty()),
            "max_chars": statements::max_chars(&c),
        }),
    )
}

#[get("/staff/consultations/{slug}/statements")]
pub async fn moderation(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    moderation_page(&ctx, &slug, StatusCode::OK, "", json!({}), None, &me).await
}

#[post("/staff/consultations/{slug}/statements")]
pub async fn add_seed(
    slug: web::Path<String>,
    form: web::Form<StatementForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    match statements::add_seed(&ctx.state.db, &me, &slug, &form.body).await {
        Ok(_) => {
            ctx.flash("success", "statements.created");
            Ok(see_other(&format!(
                "/staff/consultations/{slug}/statements"
            )))
        }
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            moderation_page(
                &ctx,
                &slug,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.body,
                errors,
                None,
                &me,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ModerateForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

#[post("/staff/consultations/{slug}/statements/{id}/moderate")]
pub async fn moderate(
    path: web::Path<(String, i64)>,
    form: web::Form<ModerateForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let action = ModerationAction::parse(&form.action)
        .ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    match statements::moderate(&ctx.state.db, &me, &slug, id, action, &form.reason).await {
        Ok(_) => {
            ctx.flash("success", "moderation_page.saved");
            Ok(see_other(&format!(
                "/staff/consultations/{slug}/statements"
            )))
        }
        Err(AppError::Validation(errors)) => {
            let message = errors
                .first()
                .map(|e| ctx.t(&format!("errors.{}", e.key)))
                .unwrap_or_default();
            moderation_page(
                &ctx,
                &slug,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                json!({}),
                Some((id, message)),
                &me,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
