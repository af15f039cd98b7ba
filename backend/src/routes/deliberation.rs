//! The conversation of a consultation: vote on statements one at a time or in
//! a list, write statements, see one's opinion group; staff moderate and add
//! seed statements. Plain forms: everything works without JavaScript.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::entities::consultation;
use crate::errors::AppError;
use crate::opinion::{Direction, Snapshot, VoteValue};
use crate::routes::context::{ActionCtx, Ctx, CurrentUser, Staff};
use crate::routes::see_other;
use crate::routes::views::{ConsultationRef, FieldErrors};
use crate::services::consultations::Status;
use crate::services::participants::Visitor;
use crate::services::rate_limits::Client;
use crate::services::shown_statements::{self, Statements};
use crate::services::statements::{self, ModerationAction, StatementStatus};
use crate::services::{eligibility, snapshots, votes};

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
        client: None,
    }
}

struct Conversation {
    c: consultation::Model,
    /// Kept in memory between views (`shown_statements`).
    statements: Arc<Statements>,
    snapshot: Option<std::sync::Arc<Snapshot>>,
    /// The visitor's participant id, once they have one.
    participant: Option<i64>,
    voted: HashMap<i64, VoteValue>,
}

async fn load(ctx: &Ctx, slug: &str) -> Result<Conversation, AppError> {
    let db = &ctx.state.db;
    let c = statements::conversation(db, ctx.user.as_ref(), slug).await?;
    let statements = shown_statements::of(db, &c).await?;
    let snapshot = snapshots::latest(db, c.id).await?.map(|(_, s)| s);
    // The participant token is handed out with the page, so that the forms on
    // it (even double-submitted ones) all act for the same participant.
    let (participant, voted) = match votes::of_visitor(db, c.id, &visitor(ctx, true)).await? {
        Some((id, voted)) => (Some(id), voted),
        None => (None, HashMap::new()),
    };
    Ok(Conversation {
        c,
        statements,
        snapshot,
        participant,
        voted,
    })
}

/// A statement that characterises a group, with the group's share.
#[derive(Serialize)]
struct GroupStatement {
    text: String,
    percent: f64,
}

/// The participant's opinion group.
#[derive(Serialize)]
struct MyGroup {
    name: String,
    members: usize,
    groups: usize,
    agree: Vec<GroupStatement>,
    disagree: Vec<GroupStatement>,
    has_agree: bool,
    has_disagree: bool,
    label: String,
}

/// The participant's group in words: its size and the statements that
/// characterise it.
fn my_group(ctx: &Ctx, conv: &Conversation) -> Option<MyGroup> {
    let (Some(p), Some(snap)) = (&conv.participant, &conv.snapshot) else {
        return None;
    };
    let g = snap
        .participants
        .get(p)
        .and_then(|r| r.group)
        .and_then(|g| snap.groups.get(g))?;
    if snap.k < 2 {
        return None;
    }
    let text_of = |n: i64| {
        conv.statements
            .accepted
            .iter()
            .find(|s| s.number == n)
            .map(|s| s.body.clone())
    };
    let agree: Vec<_> = g
        .representative
        .iter()
        .filter(|r| r.direction == Direction::Agree)
        .filter_map(|r| {
            text_of(r.statement).map(|text| GroupStatement {
                text,
                percent: (r.stats.pa * 100.0).round(),
            })
        })
        .collect();
    let disagree: Vec<_> = g
        .representative
        .iter()
        .filter(|r| r.direction == Direction::Disagree)
        .filter_map(|r| {
            text_of(r.statement).map(|text| GroupStatement {
                text,
                percent: (r.stats.pd * 100.0).round(),
            })
        })
        .collect();
    Some(MyGroup {
        name: crate::services::snapshots::group_name(g.id),
        members: g.members,
        groups: snap.k,
        has_agree: !agree.is_empty(),
        has_disagree: !disagree.is_empty(),
        agree,
        disagree,
        label: ctx.t("statements.group_label"),
    })
}

fn choice_label(ctx: &Ctx, v: Option<&VoteValue>) -> Option<String> {
    v.map(|v| ctx.t(&format!("statements.{}", votes::choice_name(*v))))
}

/// A statement the participant wrote, with its moderation.
#[derive(Serialize)]
struct MyStatement {
    body: String,
    status: StatementStatus,
    status_label: String,
    reason: Option<String>,
}

/// The statement to vote on next.
#[derive(Serialize)]
struct CurrentStatement {
    id: i64,
    body: String,
    is_meta: bool,
}

/// The statement form, as typed.
#[derive(Serialize)]
struct StatementDraft<'a> {
    body: &'a str,
}

#[derive(Serialize)]
struct VotingPage<'a> {
    consultation: ConsultationRef,
    is_open: bool,
    can_take_part: bool,
    not_eligible: Option<String>,
    current: Option<CurrentStatement>,
    voted: usize,
    total: usize,
    done: bool,
    empty: bool,
    has_mine: bool,
    mine: Vec<MyStatement>,
    group: Option<MyGroup>,
    form: StatementDraft<'a>,
    has_errors: bool,
    errors: FieldErrors,
    max_chars: usize,
    pre_moderation: bool,
}

/// The voting page; after a rejected statement the caller answers 422.
async fn voting_page(
    ctx: &Ctx,
    slug: &str,
    body: &str,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let conv = load(ctx, slug).await?;
    let participant_id = conv.participant.unwrap_or(0);
    let current = snapshots::next_statement(
        &conv.statements.accepted,
        conv.snapshot.as_deref(),
        participant_id,
        &conv.voted,
    );
    let voted_here = conv
        .voted
        .keys()
        .filter(|&&id| conv.statements.position_of(id).is_some())
        .count();
    let mine: Vec<_> = match &conv.participant {
        Some(p) => statements::list_by_participant(&ctx.state.db, *p)
            .await?
            .into_iter()
            .map(|s| MyStatement {
                status_label: ctx.t(&format!("statements.status_{}", s.status)),
                body: s.body,
                status: s.status,
                reason: s.moderation_reason,
            })
            .collect(),
        None => Vec::new(),
    };
    let is_open = conv.c.status == Status::Open;
    let eligible = eligibility::conversation(&conv.c, ctx.user.as_ref());
    let page = VotingPage {
        consultation: ConsultationRef::with_deadline(&conv.c, ctx.locale),
        is_open,
        can_take_part: votes::may_vote(ctx.user.as_ref(), &conv.c).is_ok(),
        not_eligible: eligible.err().map(|k| ctx.t(k.key())),
        current: current.map(|s| CurrentStatement {
            id: s.id,
            body: s.body.clone(),
            is_meta: s.is_meta,
        }),
        voted: voted_here,
        total: conv.statements.accepted.len(),
        done: current.is_none() && !conv.statements.accepted.is_empty(),
        empty: conv.statements.accepted.is_empty(),
        has_mine: !mine.is_empty(),
        mine,
        group: my_group(ctx, &conv),
        form: StatementDraft { body },
        has_errors: !errors.is_empty(),
        errors,
        max_chars: statements::max_chars(&conv.c),
        pre_moderation: conv.c.moderation_mode == crate::domain::ModerationMode::Pre,
    };
    ctx.render(
        "statements",
        &format!("{} · {}", ctx.t("statements.title"), conv.c.title),
        page,
    )
}

#[get("/consultations/{slug}/statements")]
pub async fn show(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    voting_page(&ctx, &slug, "", FieldErrors::default()).await
}

/// Session key of the statement list page last shown: `(slug, page)`. A vote
/// from the list comes back to `statements/all#s{id}` without a page, and the
/// list then opens on the page the vote was cast from.
const SESSION_LIST_PAGE: &str = "lpage";

#[derive(Deserialize)]
pub struct ListParams {
    page: Option<usize>,
}

#[get("/consultations/{slug}/statements/all")]
pub async fn list(
    ctx: Ctx,
    slug: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let conv = load(&ctx, &slug).await?;
    let is_open = conv.c.status == Status::Open;
    let eligible = eligibility::conversation(&conv.c, ctx.user.as_ref());
    let remembered: Option<(String, usize)> = ctx.session.get(SESSION_LIST_PAGE).ok().flatten();
    let remembered = remembered
        .filter(|(s, _)| *s == conv.c.slug)
        .map_or(1, |(_, p)| p);
    let shown = conv.statements.list_page(params.page.unwrap_or(remembered));
    if shown.page != remembered {
        // Only a change is written: a logged-in visitor's session is a
        // database row.
        let _ = ctx
            .session
            .insert(SESSION_LIST_PAGE, (&conv.c.slug, shown.page));
    }
    let items = shown
        .items
        .iter()
        .map(|s| {
            let mine = conv.voted.get(&s.id);
            ListedStatement {
                id: s.id,
                body: s.body.clone(),
                is_meta: s.is_meta,
                my_vote: choice_label(&ctx, mine),
                agree_current: mine == Some(&VoteValue::Agree),
                disagree_current: mine == Some(&VoteValue::Disagree),
                pass_current: mine == Some(&VoteValue::Pass),
            }
        })
        .collect();
    let link = |p: usize| format!("/consultations/{}/statements/all?page={p}", conv.c.slug);
    let pages: Vec<PageLink> = if shown.pages > 1 {
        (1..=shown.pages)
            .map(|p| PageLink {
                number: p,
                href: link(p),
                current: p == shown.page,
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = StatementListPage {
        consultation: ConsultationRef::of(&conv.c),
        can_take_part: votes::may_vote(ctx.user.as_ref(), &conv.c).is_ok(),
        not_eligible: eligible.err().map(|k| ctx.t(k.key())),
        is_open,
        items,
        range: (shown.pages > 1).then(|| {
            ctx.tf(
                "statements.list_range",
                &[
                    ("from", (shown.first + 1).into()),
                    ("to", (shown.first + shown.items.len()).into()),
                    ("total", shown.total.into()),
                ],
            )
        }),
        start: (shown.first > 0).then_some(shown.first + 1),
        prev: (shown.page > 1).then(|| link(shown.page - 1)),
        next: (shown.page < shown.pages).then(|| link(shown.page + 1)),
        pages,
    };
    ctx.render(
        "statements_all",
        &format!("{} · {}", ctx.t("statements.all_title"), conv.c.title),
        page,
    )
}

/// A numbered link of the statement list's pages.
#[derive(Serialize)]
struct PageLink {
    number: usize,
    href: String,
    current: bool,
}

/// A statement in the list view, with the reader's vote.
#[derive(Serialize)]
struct ListedStatement {
    id: i64,
    body: String,
    is_meta: bool,
    my_vote: Option<String>,
    agree_current: bool,
    disagree_current: bool,
    pass_current: bool,
}

#[derive(Serialize)]
struct StatementListPage {
    consultation: ConsultationRef,
    can_take_part: bool,
    not_eligible: Option<String>,
    is_open: bool,
    items: Vec<ListedStatement>,
    /// "Statements 51–100 of 783", when there is more than one page.
    range: Option<String>,
    /// The number of the page's first statement, after the first page.
    start: Option<usize>,
    prev: Option<String>,
    next: Option<String>,
    pages: Vec<PageLink>,
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
    ActionCtx(ctx): ActionCtx,
    path: web::Path<(String, i64)>,
    form: web::Form<VoteForm>,
    client: Client,
) -> Result<HttpResponse, AppError> {
    let (slug, statement_id) = path.into_inner();
    let value =
        votes::parse_choice(&form.vote).ok_or(AppError::BadRequest("errors.vote_invalid"))?;
    let who = Visitor {
        client: Some(client),
        ..visitor(&ctx, true)
    };
    votes::cast_in(&ctx.state.db, &slug, &who, statement_id, value).await?;
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
    /// `1`: sent again from the "is it the same as …?" page.
    #[serde(default)]
    confirm: String,
}

#[post("/consultations/{slug}/statements")]
pub async fn create(
    ctx: Ctx,
    slug: web::Path<String>,
    form: web::Form<StatementForm>,
    client: Client,
) -> Result<HttpResponse, AppError> {
    let c = statements::conversation(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let who = Visitor {
        client: Some(client),
        ..visitor(&ctx, true)
    };
    if form.confirm != "1" && statements::may_write(who.user.as_ref(), &c).is_ok() {
        let similar =
            crate::services::duplicates::similar_statements(&ctx.state.db, &c, &form.body).await?;
        if !similar.is_empty() {
            let shown = shown_statements::of(&ctx.state.db, &c).await?;
            let page = crate::routes::views::SimilarPage {
                action: format!("/consultations/{slug}/statements"),
                back: format!("/consultations/{slug}/statements"),
                items: similar
                    .into_iter()
                    .map(|s| crate::routes::views::SimilarItem {
                        href: format!(
                            "/consultations/{slug}/statements/all?page={}#s{}",
                            shown.list_page_of(s.id),
                            s.id
                        ),
                        text: s.body,
                    })
                    .collect(),
                body: form.body.clone(),
                hidden: Vec::new(),
            };
            return ctx.render("similar_confirm", &ctx.t("similar.title"), page);
        }
    }
    let added = statements::add(&ctx.state.db, &c, &who, &form.body).await;
    ctx.form_result(
        added,
        |s| {
            let key = if s.status == StatementStatus::Pending {
                "statements.created_pending"
            } else {
                "statements.created"
            };
            ctx.flash("success", key);
            ctx.tell_about_personal_data(&[&form.body], &[&form.body]);
            Ok(see_other(&format!("/consultations/{slug}/statements")))
        },
        async |errors| voting_page(&ctx, &slug, &form.body, errors).await,
    )
    .await
}

/// A statement as staff moderate it.
#[derive(Serialize)]
struct ModeratedStatement<'a> {
    id: i64,
    number: i64,
    body: String,
    status: StatementStatus,
    status_label: String,
    pending: bool,
    rejected: bool,
    is_meta: bool,
    is_seed: bool,
    reason: Option<String>,
    error: Option<&'a String>,
}

#[derive(Serialize)]
struct ModerationPage<'a> {
    consultation: ConsultationRef,
    items: Vec<ModeratedStatement<'a>>,
    form: StatementDraft<'a>,
    has_errors: bool,
    errors: FieldErrors,
    max_chars: usize,
}

/// The staff moderation page; after a rejected form the caller answers 422.
async fn moderation_page(
    ctx: &Ctx,
    me: &CurrentUser,
    slug: &str,
    body: &str,
    errors: FieldErrors,
    item_error: Option<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (c, all) = statements::list_for_moderation(&ctx.state.db, me, slug).await?;
    let items = all
        .iter()
        .map(|s| ModeratedStatement {
            id: s.id,
            number: s.number,
            body: s.body.clone(),
            status: s.status,
            status_label: ctx.t(&format!("statements.status_{}", s.status)),
            pending: s.status == StatementStatus::Pending,
            rejected: s.status == StatementStatus::Rejected,
            is_meta: s.is_meta,
            is_seed: s.is_seed,
            reason: s.moderation_reason.clone(),
            error: item_error
                .as_ref()
                .filter(|(id, _)| *id == s.id)
                .map(|(_, e)| e),
        })
        .collect();
    let page = ModerationPage {
        consultation: ConsultationRef::of(&c),
        items,
        form: StatementDraft { body },
        has_errors: !errors.is_empty(),
        errors,
        max_chars: statements::max_chars(&c),
    };
    ctx.render(
        "staff_statements",
        &format!("{} · {}", ctx.t("moderation_page.title"), c.title),
        page,
    )
}

#[get("/staff/consultations/{slug}/statements")]
pub async fn moderation(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    moderation_page(&ctx, &me, &slug, "", FieldErrors::default(), None).await
}

#[post("/staff/consultations/{slug}/statements")]
pub async fn add_seed(
    slug: web::Path<String>,
    form: web::Form<StatementForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let added = statements::add_seed(&ctx.state.db, &me, &slug, &form.body).await;
    ctx.form_result(
        added,
        |_| {
            ctx.flash("success", "statements.created");
            Ok(see_other(&format!(
                "/staff/consultations/{slug}/statements"
            )))
        },
        async |errors| moderation_page(&ctx, &me, &slug, &form.body, errors, None).await,
    )
    .await
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
    let moderated = statements::moderate(&ctx.state.db, &me, &slug, id, action, &form.reason).await;
    ctx.form_result(
        moderated,
        |_| {
            ctx.flash("success", "moderation_page.saved");
            Ok(see_other(&format!(
                "/staff/consultations/{slug}/statements"
            )))
        },
        // The message goes next to the statement's own form.
        async |errors| {
            let message = errors.first().unwrap_or_default().to_owned();
            let item_error = Some((id, message));
            moderation_page(&ctx, &me, &slug, "", FieldErrors::default(), item_error).await
        },
    )
    .await
}
