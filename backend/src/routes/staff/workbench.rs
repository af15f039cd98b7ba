//! The staff workbench: the landing page, the moderation queue with its
//! decisions, the moderation log (page and CSV) and an item's history.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::domain::personal_data::{self, Segment};
use crate::errors::AppError;
use crate::routes::context::{Ctx, Staff};
use crate::routes::see_other;
use crate::routes::views::FieldErrors;
use crate::services::workbench::{self, ItemKind, ItemRef, QueueFilter, Verdict};
use crate::services::{consultations, duplicates, now};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(queue)
        .service(decide)
        .service(log_page)
        .service(log_csv)
        .service(mark_duplicate)
        .service(history);
}

/// The filters as they arrive in the query string; unknown values are
/// ignored rather than refused, so an old bookmark still opens the queue.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct FilterQuery {
    #[serde(default)]
    consultation: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    age: String,
}

impl FilterQuery {
    fn filter(&self) -> QueueFilter {
        QueueFilter {
            consultation: Some(self.consultation.trim().to_owned()).filter(|s| !s.is_empty()),
            kind: ItemKind::parse(self.kind.trim()),
            min_age_days: self
                .age
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|d| AGES.contains(d)),
        }
    }

    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// The age filter's choices, in days.
const AGES: [i64; 3] = [1, 3, 7];

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ItemView {
    item: String,
    kind: ItemKind,
    kind_label: String,
    id: i64,
    consultation_slug: String,
    consultation_title: String,
    title: Option<String>,
    segments: Vec<Segment>,
    personal_data: Vec<String>,
    author: Option<String>,
    participant: Option<i64>,
    is_statement: bool,
    is_idea: bool,
    is_comment: bool,
    agree: u32,
    disagree: u32,
    pass: u32,
    supports: i32,
    flags: i32,
    idea_id: Option<i64>,
    waiting_since: String,
}

#[derive(Serialize)]
struct QueuePage {
    items: Vec<ItemView>,
    count: usize,
    /// Complaints waiting for an answer, handled on `/staff/complaints`.
    complaints: u64,
    consultations: Vec<Choice>,
    kinds: Vec<Choice>,
    ages: Vec<Choice>,
    templates: Vec<String>,
    filtered: bool,
    back: FilterQuery,
    errors: FieldErrors,
}

fn kind_label(ctx: &Ctx, kind: ItemKind) -> String {
    ctx.t(&format!("workbench.kind_{}", kind.as_str()))
}

async fn queue_page(
    ctx: &Ctx,
    me: &crate::routes::context::CurrentUser,
    query: &FilterQuery,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let filter = query.filter();
    let items = workbench::queue(db, me, &filter, now()).await?;
    let all = consultations::list_all(db, me).await?;
    let mut consultation_choices = vec![Choice {
        value: String::new(),
        label: ctx.t("workbench.filter_all"),
        selected: filter.consultation.is_none(),
    }];
    consultation_choices.extend(all.iter().map(|c| Choice {
        value: c.slug.clone(),
        label: c.title.clone(),
        selected: filter.consultation.as_deref() == Some(c.slug.as_str()),
    }));
    let mut kinds = vec![Choice {
        value: String::new(),
        label: ctx.t("workbench.filter_all"),
        selected: filter.kind.is_none(),
    }];
    kinds.extend(ItemKind::ALL.into_iter().map(|k| Choice {
        value: k.as_str().to_owned(),
        label: kind_label(ctx, k),
        selected: filter.kind == Some(k),
    }));
    let mut ages = vec![Choice {
        value: String::new(),
        label: ctx.t("workbench.filter_any_age"),
        selected: filter.min_age_days.is_none(),
    }];
    ages.extend(AGES.into_iter().map(|d| Choice {
        value: d.to_string(),
        label: ctx.t(&format!("workbench.age_{d}")),
        selected: filter.min_age_days == Some(d),
    }));
    let views: Vec<ItemView> = items
        .into_iter()
        .map(|i| {
            let mut kinds_found: Vec<String> = personal_data::kinds(&i.text)
                .into_iter()
                .chain(
                    i.title
                        .as_deref()
                        .map(personal_data::kinds)
                        .unwrap_or_default(),
                )
                .map(|k| ctx.t(&format!("personal_data.kind_{}", k.as_str())))
                .collect();
            kinds_found.dedup();
            ItemView {
                kind_label: kind_label(ctx, i.kind),
                is_statement: i.kind == ItemKind::Statement,
                is_idea: i.kind == ItemKind::Idea,
                is_comment: i.kind == ItemKind::Comment,
                segments: personal_data::segments(&i.text),
                personal_data: kinds_found,
                waiting_since: crate::dates::format_date(i.waiting_since, ctx.locale),
                item: i.item,
                kind: i.kind,
                id: i.id,
                consultation_slug: i.consultation_slug,
                consultation_title: i.consultation_title,
                title: i.title,
                author: i.author,
                participant: i.participant,
                agree: i.agree,
                disagree: i.disagree,
                pass: i.pass,
                supports: i.supports,
                flags: i.flags,
                idea_id: i.idea_id,
            }
        })
        .collect();
    let filtered =
        filter.consultation.is_some() || filter.kind.is_some() || filter.min_age_days.is_some();
    let page = QueuePage {
        complaints: workbench::complaints_waiting(db, me).await?,
        count: views.len(),
        items: views,
        consultations: consultation_choices,
        kinds,
        ages,
        templates: ctx.state.settings.moderation.reason_templates.clone(),
        filtered,
        back: query.clone(),
        errors,
    };
    let status = if page.errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    ctx.render_status(
        status,
        "staff_moderation",
        &ctx.t("workbench.queue_title"),
        page,
    )
}

#[get("/staff/moderation")]
pub async fn queue(
    query: web::Query<FilterQuery>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    queue_page(&ctx, &me, &query, FieldErrors::default()).await
}

/// A decision form: the items (`item`, repeated), the verdict, a reason
/// template and/or a typed reason, and the queue filters to return to.
struct DecisionForm {
    items: Vec<ItemRef>,
    verdict: Option<Verdict>,
    template: String,
    reason: String,
    back: FilterQuery,
}

impl DecisionForm {
    fn parse(pairs: &[(String, String)]) -> Result<Self, AppError> {
        let mut form = DecisionForm {
            items: Vec::new(),
            verdict: None,
            template: String::new(),
            reason: String::new(),
            back: FilterQuery::default(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "item" => form
                    .items
                    .push(ItemRef::parse(v).ok_or(AppError::BadRequest("errors.invalid_input"))?),
                "verdict" => form.verdict = Verdict::parse(v),
                "reason_template" => form.template = v.clone(),
                "reason" => form.reason = v.clone(),
                "back_consultation" => form.back.consultation = v.clone(),
                "back_kind" => form.back.kind = v.clone(),
                "back_age" => form.back.age = v.clone(),
                _ => {}
            }
        }
        Ok(form)
    }
}

#[post("/staff/moderation/decide")]
pub async fn decide(
    form: web::Form<Vec<(String, String)>>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let form = DecisionForm::parse(&form)?;
    let verdict = form
        .verdict
        .ok_or(AppError::BadRequest("errors.invalid_input"))?;
    let templates = &ctx.state.settings.moderation.reason_templates;
    let result = match workbench::reason(verdict, &form.template, &form.reason, templates) {
        Ok(reason) => workbench::decide(&ctx.state.db, &me, &form.items, verdict, &reason).await,
        Err(e) => Err(e),
    };
    let back = form.back.query_string();
    ctx.form_result(
        result,
        |_| {
            ctx.flash("success", "workbench.decided");
            Ok(see_other(&format!("/staff/moderation?{back}")))
        },
        async |errors| queue_page(&ctx, &me, &form.back, errors).await,
    )
    .await
}

#[derive(Serialize)]
struct MyConsultationView {
    slug: String,
    title: String,
    status: String,
    closes_at: Option<String>,
    waiting: usize,
    has_conversation: bool,
}

#[derive(Serialize)]
struct WaitingView {
    slug: String,
    title: String,
    count: usize,
}

#[derive(Serialize)]
struct HomePage {
    mine: Vec<MyConsultationView>,
    waiting_total: usize,
    waiting: Vec<WaitingView>,
    awaiting_answer: u64,
}

#[get("/staff")]
pub async fn home(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let o = workbench::overview(&ctx.state.db, &me, now()).await?;
    let page = HomePage {
        mine: o
            .mine
            .into_iter()
            .map(|c| MyConsultationView {
                status: ctx.t(&format!("status.{}", c.status)),
                closes_at: c
                    .closes_at
                    .map(|t| crate::dates::format_date(t, ctx.locale)),
                slug: c.slug,
                title: c.title,
                waiting: c.waiting,
                has_conversation: c.has_conversation,
            })
            .collect(),
        waiting_total: o.waiting_total,
        waiting: o
            .waiting_by_consultation
            .into_iter()
            .map(|(slug, (title, count))| WaitingView { slug, title, count })
            .collect(),
        awaiting_answer: o.awaiting_answer,
    };
    ctx.render("staff_home", &ctx.t("workbench.home_title"), page)
}

#[derive(Serialize)]
struct LogView {
    at: String,
    actor: Option<String>,
    kind: String,
    item: String,
    subject_id: i64,
    action: String,
    reason: String,
    channel: String,
}

#[derive(Serialize)]
struct LogPage {
    entries: Vec<LogView>,
    heading: String,
    is_history: bool,
    /// On a statement's or idea's history: marking it as a duplicate.
    duplicate: Option<DuplicateView>,
}

#[derive(Serialize)]
struct DuplicateView {
    action: String,
    originals: Vec<crate::services::duplicates::Original>,
    current: Option<i64>,
    error: Option<String>,
}

fn log_views(ctx: &Ctx, entries: Vec<workbench::LogEntry>) -> Vec<LogView> {
    entries
        .into_iter()
        .map(|e| LogView {
            at: crate::dates::format_datetime(e.at, ctx.locale),
            channel: match e.channel.as_deref() {
                Some(c) => ctx.t(&format!("workbench.channel_{c}")),
                None => ctx.t("workbench.channel_staff"),
            },
            kind: ctx.t(&format!("workbench.kind_{}", e.subject_type)),
            item: format!("{}/{}", e.subject_type, e.subject_id),
            actor: e.actor,
            subject_id: e.subject_id,
            action: ctx.t(&format!("workbench.action.{}", e.action.replace('.', "_"))),
            reason: e.reason,
        })
        .collect()
}

#[get("/staff/moderation/log")]
pub async fn log_page(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let entries = workbench::log(&ctx.state.db, &me, Some(workbench::LOG_PAGE_MAX)).await?;
    let page = LogPage {
        entries: log_views(&ctx, entries),
        heading: ctx.t("workbench.log_heading"),
        is_history: false,
        duplicate: None,
    };
    ctx.render("staff_moderation_log", &ctx.t("workbench.log_title"), page)
}

#[get("/staff/moderation/log.csv")]
pub async fn log_csv(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let entries = workbench::log(&ctx.state.db, &me, None).await?;
    let bytes = workbench::log_csv(&entries)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"moderation-log.csv\"",
        ))
        .body(bytes))
}

#[get("/staff/moderation/history/{kind}/{id}")]
pub async fn history(
    path: web::Path<(String, i64)>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (kind, id) = path.into_inner();
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    history_page(&ctx, &me, ItemRef { kind, id }, None).await
}

async fn history_page(
    ctx: &Ctx,
    me: &crate::routes::context::CurrentUser,
    item: ItemRef,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let entries = workbench::history(&ctx.state.db, me, item).await?;
    let heading = format!("{} {}", kind_label(ctx, item.kind), item.id);
    let duplicate = match duplicates::may_mark(me, item) {
        Ok(()) => {
            let (originals, current) = duplicates::originals(&ctx.state.db, me, item).await?;
            Some(DuplicateView {
                action: format!(
                    "/staff/moderation/history/{}/{}/duplicate",
                    item.kind.as_str(),
                    item.id
                ),
                originals,
                current,
                error,
            })
        }
        Err(_) => None,
    };
    let status = if duplicate.as_ref().is_some_and(|d| d.error.is_some()) {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    let page = LogPage {
        entries: log_views(ctx, entries),
        heading: heading.clone(),
        is_history: true,
        duplicate,
    };
    ctx.render_status(status, "staff_moderation_log", &heading, page)
}

#[derive(Deserialize)]
pub struct DuplicateForm {
    #[serde(default)]
    of: String,
}

#[post("/staff/moderation/history/{kind}/{id}/duplicate")]
pub async fn mark_duplicate(
    path: web::Path<(String, i64)>,
    form: web::Form<DuplicateForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let (kind, id) = path.into_inner();
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    let item = ItemRef { kind, id };
    let of = form.of.trim().parse::<i64>().unwrap_or(0);
    match duplicates::mark(&ctx.state.db, &me, item, of).await {
        Ok(()) => {
            ctx.flash("success", "workbench.duplicate_marked");
            Ok(see_other(&format!(
                "/staff/moderation/history/{}/{id}",
                kind.as_str()
            )))
        }
        Err(AppError::Validation(errors)) => {
            let message = ctx.field_errors(&errors).first().map(str::to_owned);
            history_page(&ctx, &me, item, message).await
        }
        Err(e) => Err(e),
    }
}
