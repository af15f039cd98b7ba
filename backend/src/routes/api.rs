//! The read-only public JSON API, version 1, and its OpenAPI document
//! (generated from these types and handlers by utoipa). It answers for an
//! anonymous reader whoever asks: no email addresses, no drafts, no ideas
//! awaiting moderation, no text of hidden or deleted comments. Lists answer
//! `{"items": [...], "next": cursor-or-null}`; pass `cursor` to get the next
//! page.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::entities::{consultation, idea};
use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::routes::ideas::list_query;
use crate::services::comments::{self, CommentStatus};
use crate::services::consultations::{self, Status};
use crate::services::ideas::{self, IdeaStatus};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_document)
        .service(consultation_list)
        .service(consultation_detail)
        .service(idea_list)
        .service(idea_detail);
}

const CONSULTATIONS_PER_PAGE: usize = 50;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Samskab API",
        version = "1",
        description = "Read-only public data: consultations, citizens' ideas, the council's answers and comments, conversation statements, opinion groups and consultation reports."
    ),
    paths(
        consultation_list,
        consultation_detail,
        idea_list,
        idea_detail,
        crate::routes::api_deliberation::list,
        crate::routes::api_deliberation::show,
        crate::routes::export::api_export,
        crate::routes::report::api,
        crate::routes::data_rights::api_export
    )
)]
pub struct ApiDoc;

#[derive(Serialize, ToSchema)]
pub struct ConsultationItem {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// open, closed, published or archived
    pub status: String,
    pub accepts_ideas: bool,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsultationDetail {
    #[serde(flatten)]
    pub item: ConsultationItem,
    /// Markdown source of the description.
    pub body: String,
    pub categories: Vec<String>,
    pub support_threshold: i32,
    pub moderation_mode: String,
    pub ideas_url: String,
    /// Expected date of the political decision (YYYY-MM-DD).
    pub decision_expected_on: Option<String>,
    /// The life cycle with dates, in order.
    pub timeline: Vec<TimelineStep>,
    /// Material: files (served from `url`) and links.
    pub attachments: Vec<Attachment>,
    pub contact: Option<Contact>,
    /// What came of the consultation, once published.
    pub outcome: Option<crate::services::outcome::Outcome>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineStep {
    /// drafted, opens, closes, report, decision
    pub step: String,
    /// RFC 3339 time or YYYY-MM-DD date; null when not planned.
    pub at: Option<String>,
    pub done: bool,
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Attachment {
    pub title: String,
    /// file or link
    pub kind: String,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub alt_text: Option<String>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct Contact {
    pub name: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsultationPage {
    pub items: Vec<ConsultationItem>,
    /// Cursor for the next page, or null on the last page.
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IdeaItem {
    pub id: i64,
    pub consultation: String,
    pub title: String,
    /// published, under_review, awaiting_answer, answered, accepted, rejected, implemented or withdrawn
    pub status: String,
    pub category: Option<String>,
    pub place: Option<String>,
    pub author: Option<String>,
    pub support_count: i32,
    pub comment_count: i32,
    pub created_at: String,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct IdeaPage {
    pub items: Vec<IdeaItem>,
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusChange {
    pub status: String,
    /// The official response published with the change (may be empty).
    pub response: String,
    /// Who gives the response (role and department), when there is one.
    pub signature: Option<String>,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    /// visible, hidden or deleted; only visible comments carry their text.
    pub status: String,
    pub author: Option<String>,
    pub body: Option<String>,
    pub created_at: String,
    pub edited: bool,
}

#[derive(Serialize, ToSchema)]
pub struct IdeaDetail {
    #[serde(flatten)]
    pub item: IdeaItem,
    /// Markdown source of the idea.
    pub body: String,
    pub history: Vec<StatusChange>,
    pub comments: Vec<Comment>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ApiErrorBody {
    pub status: u16,
    pub code: String,
    pub message: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsultationListParams {
    /// Only consultations with this status (open, closed, published, archived).
    status: Option<String>,
    /// Cursor from a previous page's `next`.
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdeaListParams {
    /// newest (default), most_supported or most_commented
    sort: Option<String>,
    status: Option<String>,
    category: Option<String>,
    /// Text searched for in title and body, case-insensitively.
    q: Option<String>,
    cursor: Option<String>,
}

fn rfc3339(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_cursor(cursor: Option<&str>) -> Result<u64, AppError> {
    match cursor.filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(c) => c
            .parse::<u64>()
            .map_err(|_| AppError::BadRequest("errors.invalid_cursor")),
    }
}

fn consultation_item(c: &consultation::Model) -> ConsultationItem {
    ConsultationItem {
        slug: c.slug.clone(),
        title: c.title.clone(),
        summary: c.summary.clone(),
        status: c.status.as_str().to_owned(),
        accepts_ideas: c.accepts_ideas,
        opens_at: c.opens_at.as_ref().map(rfc3339),
        closes_at: c.closes_at.as_ref().map(rfc3339),
        url: format!("/consultations/{}", c.slug),
    }
}

fn idea_item(i: &idea::Model, slug: &str, author: Option<&String>) -> IdeaItem {
    IdeaItem {
        id: i.id,
        consultation: slug.to_owned(),
        title: i.title.clone(),
        status: i.status.as_str().to_owned(),
        category: i.category.clone(),
        place: i.place.clone(),
        author: author.cloned(),
        support_count: i.support_count,
        comment_count: i.comment_count,
        created_at: rfc3339(&i.created_at),
        url: format!("/ideas/{}", i.id),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations",
    params(ConsultationListParams),
    responses(
        (status = 200, description = "Publicly visible consultations, newest first", body = ConsultationPage),
        (status = 400, description = "Unknown status or bad cursor", body = ApiError)
    )
)]
#[get("/api/v1/consultations")]
pub async fn consultation_list(
    ctx: Ctx,
    params: web::Query<ConsultationListParams>,
) -> Result<HttpResponse, AppError> {
    let only: Vec<Status> = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(s) => vec![
            Status::parse(s)
                .filter(|s| s.is_public())
                .ok_or(AppError::BadRequest("errors.invalid_filter"))?,
        ],
    };
    let offset = parse_cursor(params.cursor.as_deref())? as usize;
    let all = consultations::list_public(&ctx.state.db, &only).await?;
    let items: Vec<_> = all
        .iter()
        .skip(offset)
        .take(CONSULTATIONS_PER_PAGE)
        .map(consultation_item)
        .collect();
    let end = offset + items.len();
    let next = (end < all.len()).then(|| end.to_string());
    Ok(HttpResponse::Ok().json(ConsultationPage { items, next }))
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}",
    params(("slug" = String, Path, description = "The consultation's short name")),
    responses(
        (status = 200, body = ConsultationDetail),
        (status = 404, description = "No such public consultation", body = ApiError)
    )
)]
#[get("/api/v1/consultations/{slug}")]
pub async fn consultation_detail(
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_visible(&ctx.state.db, None, &slug).await?;
    let attachments = crate::services::attachments::list(&ctx.state.db, c.id)
        .await?
        .into_iter()
        .map(|a| Attachment {
            kind: if a.url.is_some() { "link" } else { "file" }.to_owned(),
            url: a
                .url
                .clone()
                .unwrap_or_else(|| format!("/consultations/{}/material/{}", c.slug, a.id)),
            title: a.title,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            alt_text: a.alt_text,
        })
        .collect();
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let decided = c.outcome_published_at.is_some();
    let decision_at = if decided {
        day(c.decided_on).or_else(|| c.outcome_published_at.as_ref().map(rfc3339))
    } else {
        day(c.decision_expected_on)
    };
    let marks = crate::routes::views::timeline(&ctx.state.catalogs, ctx.locale, &c);
    let timeline = [
        ("drafted", Some(rfc3339(&c.created_at))),
        ("opens", c.opens_at.as_ref().map(rfc3339)),
        ("closes", c.closes_at.as_ref().map(rfc3339)),
        ("report", c.published_at.as_ref().map(rfc3339)),
        ("decision", decision_at),
    ]
    .into_iter()
    .zip(marks)
    .map(|((step, at), mark)| TimelineStep {
        step: step.to_owned(),
        at,
        done: mark.done,
        current: mark.current,
    })
    .collect();
    let contact = (c.contact_name.is_some()
        || c.contact_department.is_some()
        || c.contact_email.is_some()
        || c.contact_phone.is_some())
    .then(|| Contact {
        name: c.contact_name.clone(),
        department: c.contact_department.clone(),
        email: c.contact_email.clone(),
        phone: c.contact_phone.clone(),
    });
    let outcome = crate::services::outcome::published(&c);
    Ok(HttpResponse::Ok().json(ConsultationDetail {
        decision_expected_on: day(c.decision_expected_on),
        timeline,
        attachments,
        contact,
        outcome,
        item: consultation_item(&c),
        body: c.body.clone(),
        categories: consultations::categories(&c),
        support_threshold: c.support_threshold,
        moderation_mode: c.moderation_mode.as_str().to_owned(),
        ideas_url: format!("/api/v1/consultations/{}/ideas", c.slug),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}/ideas",
    params(("slug" = String, Path, description = "The consultation's short name"), IdeaListParams),
    responses(
        (status = 200, description = "Published ideas", body = IdeaPage),
        (status = 400, description = "Unknown filter or bad cursor", body = ApiError),
        (status = 404, body = ApiError)
    )
)]
#[get("/api/v1/consultations/{slug}/ideas")]
pub async fn idea_list(
    ctx: Ctx,
    slug: web::Path<String>,
    params: web::Query<IdeaListParams>,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_visible(&ctx.state.db, None, &slug).await?;
    let some = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (sort, status, category, q) = (
        some(&params.sort),
        some(&params.status),
        some(&params.category),
        some(&params.q),
    );
    let mut query = list_query(
        &c,
        sort.as_deref(),
        status.as_deref(),
        category.as_deref(),
        q.as_deref(),
    )?;
    query.offset = parse_cursor(params.cursor.as_deref())?;
    let (list, more) = ideas::list(&ctx.state.db, &c, &query).await?;
    let names =
        ideas::display_names(&ctx.state.db, list.iter().filter_map(|i| i.author_id)).await?;
    let items: Vec<_> = list
        .iter()
        .map(|i| idea_item(i, &c.slug, i.author_id.and_then(|a| names.get(&a))))
        .collect();
    let next = more.then(|| (query.offset + items.len() as u64).to_string());
    Ok(HttpResponse::Ok().json(IdeaPage { items, next }))
}

#[utoipa::path(
    get,
    path = "/api/v1/ideas/{id}",
    params(("id" = i64, Path, description = "The idea's number")),
    responses(
        (status = 200, description = "The idea with its status history and comments", body = IdeaDetail),
        (status = 404, body = ApiError)
    )
)]
#[get("/api/v1/ideas/{id}")]
pub async fn idea_detail(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let (i, c) = ideas::get_visible(db, None, *id).await?;
    let history = ideas::history(db, i.id).await?;
    let thread = comments::thread(db, i.id).await?;
    let names = ideas::display_names(
        db,
        i.author_id
            .into_iter()
            .chain(thread.iter().filter_map(|c| c.author_id)),
    )
    .await?;
    let comments = thread
        .iter()
        .map(|cm| {
            let visible = cm.status == CommentStatus::Visible;
            Comment {
                id: cm.id,
                parent_id: cm.parent_id,
                depth: cm.depth,
                status: cm.status.as_str().to_owned(),
                author: visible
                    .then(|| cm.author_id.and_then(|a| names.get(&a)).cloned())
                    .flatten(),
                body: visible.then(|| cm.body.clone()),
                created_at: rfc3339(&cm.created_at),
                edited: cm.edited_at.is_some(),
            }
        })
        .collect();
    let history = history
        .iter()
        // Before publication an idea is not public; neither is its history.
        .filter(|h| h.to_status != IdeaStatus::Submitted)
        .map(|h| StatusChange {
            status: h.to_status.as_str().to_owned(),
            response: h.response.clone(),
            signature: h.signature.clone().filter(|_| !h.response.is_empty()),
            at: rfc3339(&h.created_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(IdeaDetail {
        item: idea_item(&i, &c.slug, i.author_id.and_then(|a| names.get(&a))),
        body: i.body.clone(),
        history,
        comments,
    }))
}

#[get("/api/v1/openapi.json")]
pub async fn openapi_document() -> Result<HttpResponse, AppError> {
    let json = ApiDoc::openapi()
        .to_json()
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("openapi")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json))
}
