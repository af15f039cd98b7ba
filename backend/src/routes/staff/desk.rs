//! The citizen service desk: a staff member helps a citizen who is present to
//! take part (see `services::assisted` for the rules and the security model).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::dates::format_datetime;
use crate::entities::consultation;
use crate::errors::AppError;
use crate::local_path::LocalPath;
use crate::routes::context::{Ctx, CurrentUser, Staff};
use crate::routes::see_other;
use crate::services::assisted::{
    self, Assist, Citizen, How, Receipt, SESSION_ASSIST, SESSION_NEW_IDENTITY, SESSION_RECEIPT,
};
use crate::services::oidc::{self, Identity};
use crate::services::participants::Visitor;
use crate::services::users::{self, Login};
use crate::services::{consultations, ideas, statements, votes};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(desk)
        .service(start_mitid)
        .service(name_form)
        .service(name_submit)
        .service(start_account)
        .service(start_anonymous)
        .service(session_page)
        .service(consultation_page)
        .service(vote)
        .service(statement)
        .service(idea)
        .service(comment)
        .service(end)
        .service(receipt);
}

fn session_error(e: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {e}"))
}

fn refused(me: &CurrentUser) -> Result<(), AppError> {
    assisted::may_assist(me).map_err(AppError::from)
}

/// The running assisted session of this staff member, if any. A session that
/// ran out ends here: its receipt is kept and the staff member told.
async fn active(ctx: &Ctx, me: &CurrentUser) -> Result<Option<Assist>, AppError> {
    let Some(mut assist) = ctx.session.get::<Assist>(SESSION_ASSIST).ok().flatten() else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    if assist.staff_id != me.id {
        ctx.session.remove(SESSION_ASSIST);
        return Ok(None);
    }
    if assist.expired_at(now) {
        finish(ctx, assist, true).await?;
        ctx.flash("error", "assisted.timed_out");
        return Ok(None);
    }
    assist.last_seen_at = now;
    store(ctx, &assist)?;
    Ok(Some(assist))
}

fn store(ctx: &Ctx, assist: &Assist) -> Result<(), AppError> {
    ctx.session
        .insert(SESSION_ASSIST, assist)
        .map_err(session_error)
}

/// Begin: a new session key and CSRF token (nothing seen before carries over),
/// and the previous receipt gone.
fn begin(ctx: &Ctx, assist: &Assist) -> Result<(), AppError> {
    ctx.session.renew();
    crate::auth::csrf::rotate(&ctx.session).map_err(session_error)?;
    ctx.session.remove(SESSION_RECEIPT);
    ctx.session.remove(SESSION_NEW_IDENTITY);
    store(ctx, assist)
}

/// End: the assisted identity leaves the session; the receipt stays until
/// the next session begins.
async fn finish(ctx: &Ctx, assist: Assist, timed_out: bool) -> Result<Receipt, AppError> {
    ctx.session.remove(SESSION_ASSIST);
    let ended = assisted::end(&ctx.state.db, assist, timed_out).await?;
    ctx.session.renew();
    crate::auth::csrf::rotate(&ctx.session).map_err(session_error)?;
    ctx.session
        .insert(SESSION_RECEIPT, &ended)
        .map_err(session_error)?;
    Ok(ended)
}

#[derive(Serialize)]
struct Choice {
    slug: String,
    title: String,
}

#[derive(Serialize)]
struct DeskPage {
    providers: Vec<(String, String)>,
    anonymous: Vec<Choice>,
    has_receipt: bool,
    email: String,
    login_failed: bool,
    idle_minutes: i64,
}

async fn desk_page(ctx: &Ctx, email: &str, login_failed: bool) -> Result<HttpResponse, AppError> {
    let anonymous = assisted::anonymous_choices(&ctx.state.db)
        .await?
        .into_iter()
        .map(|c| Choice {
            slug: c.slug,
            title: c.title,
        })
        .collect();
    let page = DeskPage {
        providers: oidc::citizen_providers(&ctx.state.settings),
        anonymous,
        has_receipt: ctx.session.contains_key(SESSION_RECEIPT),
        email: email.to_owned(),
        login_failed,
        idle_minutes: assisted::IDLE_MINUTES,
    };
    let status = if login_failed {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    ctx.render_status(status, "desk", &ctx.t("assisted.title"), page)
}

#[get("/staff/desk")]
pub async fn desk(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if active(&ctx, &me).await?.is_some() {
        return Ok(see_other("/staff/desk/session"));
    }
    desk_page(&ctx, "", false).await
}

#[derive(Deserialize)]
pub struct ProviderForm {
    #[serde(default)]
    provider: String,
}

/// The citizen logs in with MitID on the desk device. The staff member's own
/// login stays; the callback (in `routes::oidc`) comes back to [`mitid_returned`].
#[post("/staff/desk/mitid")]
pub async fn start_mitid(
    form: web::Form<ProviderForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if active(&ctx, &me).await?.is_some() {
        return Ok(see_other("/staff/desk/session"));
    }
    match oidc::start_assisted(
        &ctx.state.settings,
        &ctx.state.oidc_metadata,
        &form.provider,
        LocalPath::or(Some("/staff/desk/session"), "/staff/desk"),
    )
    .await
    {
        Ok((url, pending)) => {
            ctx.session
                .insert(oidc::SESSION_PENDING, pending)
                .map_err(session_error)?;
            Ok(see_other(&url))
        }
        Err(e) => Err(AppError::BadRequest(e.key())),
    }
}

/// Back from the provider with the citizen's verified identity.
pub async fn mitid_returned(ctx: &Ctx, identity: Identity) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?.clone();
    refused(&me)?;
    if !identity.citizen {
        return Err(AppError::BadRequest("oidc.errors.unknown_provider"));
    }
    match users::log_in_with_identity(&ctx.state.db, &identity).await? {
        Some(citizen) => {
            let assist =
                assisted::begin_for_account(&ctx.state.db, &me, &citizen, How::Mitid).await?;
            begin(ctx, &assist)?;
            Ok(see_other("/staff/desk/session"))
        }
        None => {
            // First time: the citizen chooses a display name at the desk.
            ctx.session
                .insert(SESSION_NEW_IDENTITY, identity)
                .map_err(session_error)?;
            Ok(see_other("/staff/desk/name"))
        }
    }
}

#[derive(Serialize)]
struct NamePage {
    display_name: String,
    error: Option<String>,
}

#[get("/staff/desk/name")]
pub async fn name_form(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if !ctx.session.contains_key(SESSION_NEW_IDENTITY) {
        return Ok(see_other("/staff/desk"));
    }
    ctx.render(
        "desk_name",
        &ctx.t("assisted.name_title"),
        NamePage {
            display_name: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

#[post("/staff/desk/name")]
pub async fn name_submit(
    form: web::Form<NameForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    let Some(identity) = ctx
        .session
        .get::<Identity>(SESSION_NEW_IDENTITY)
        .ok()
        .flatten()
    else {
        return Ok(see_other("/staff/desk"));
    };
    let created =
        users::create_from_identity(&ctx.state.db, &identity, &form.display_name, ctx.locale).await;
    match created {
        Ok(citizen) => {
            let assist =
                assisted::begin_for_account(&ctx.state.db, &me, &citizen, How::Mitid).await?;
            begin(&ctx, &assist)?;
            ctx.tell_about_personal_data(&[&form.display_name], &[]);
            Ok(see_other("/staff/desk/session"))
        }
        Err(AppError::Validation(errors)) => {
            let error = messages(&ctx, &errors).into_iter().next();
            let mut page = ctx.render(
                "desk_name",
                &ctx.t("assisted.name_title"),
                NamePage {
                    display_name: form.display_name.clone(),
                    error,
                },
            )?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The citizen types the password of their existing account on the desk
/// device; the account is checked (with the login's limits) but not logged in.
#[post("/staff/desk/account")]
pub async fn start_account(
    req: HttpRequest,
    form: web::Form<AccountForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if active(&ctx, &me).await?.is_some() {
        return Ok(see_other("/staff/desk/session"));
    }
    let client = crate::routes::client::client_of(&req)?;
    match users::authenticate(&ctx.state.db, &client, &form.email, &form.password).await? {
        Login::Ok(citizen) => {
            let assist =
                assisted::begin_for_account(&ctx.state.db, &me, &citizen, How::Account).await?;
            begin(&ctx, &assist)?;
            Ok(see_other("/staff/desk/session"))
        }
        Login::Failed => desk_page(&ctx, &form.email, true).await,
        Login::Throttled { wait, .. } => Err(AppError::TooManyRequests { retry_after: wait }),
    }
}

#[derive(Deserialize)]
pub struct AnonymousForm {
    #[serde(default)]
    consultation: String,
}

#[post("/staff/desk/anonymous")]
pub async fn start_anonymous(
    form: web::Form<AnonymousForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if active(&ctx, &me).await?.is_some() {
        return Ok(see_other("/staff/desk/session"));
    }
    let assist = assisted::begin_anonymous(&ctx.state.db, &me, &form.consultation).await?;
    begin(&ctx, &assist)?;
    Ok(see_other("/staff/desk/session"))
}

#[derive(Serialize)]
struct LineView {
    kind: String,
    consultation: String,
    text: String,
    choice: Option<String>,
    pending: bool,
}

fn lines(ctx: &Ctx, list: &[assisted::Line]) -> Vec<LineView> {
    list.iter()
        .map(|l| LineView {
            kind: ctx.t(&format!("assisted.kind_{}", l.kind)),
            consultation: l.consultation.clone(),
            text: l.text.clone(),
            choice: l
                .choice
                .as_ref()
                .map(|c| ctx.t(&format!("assisted.choice_{c}"))),
            pending: l.pending,
        })
        .collect()
}

fn who(ctx: &Ctx, assist: &Assist) -> String {
    match assist.citizen {
        Citizen::Anonymous { .. } => ctx.t("assisted.anonymous_citizen"),
        Citizen::Account { .. } => assist.name.clone(),
    }
}

#[derive(Serialize)]
struct SessionPage {
    who: String,
    how: String,
    minutes_left: i64,
    consultations: Vec<Choice>,
    lines: Vec<LineView>,
}

/// Consultations the session may act in: open ones (an anonymous desk
/// participant: only theirs).
async fn choices(ctx: &Ctx, assist: &Assist) -> Result<Vec<consultation::Model>, AppError> {
    let open =
        consultations::list_public(&ctx.state.db, &[crate::domain::ConsultationStatus::Open])
            .await?;
    Ok(open
        .into_iter()
        .filter(|c| assisted::may_act_in(assist, c).is_ok())
        .collect())
}

#[get("/staff/desk/session")]
pub async fn session_page(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    let Some(assist) = active(&ctx, &me).await? else {
        return Ok(see_other("/staff/desk"));
    };
    let now = chrono::Utc::now().timestamp();
    let page = SessionPage {
        who: who(&ctx, &assist),
        how: ctx.t(&format!("assisted.how_{}", assist.how.as_str())),
        minutes_left: assist.minutes_left(now),
        consultations: choices(&ctx, &assist)
            .await?
            .into_iter()
            .map(|c| Choice {
                slug: c.slug,
                title: c.title,
            })
            .collect(),
        lines: lines(&ctx, &assist.lines),
    };
    ctx.render("desk_session", &ctx.t("assisted.session_title"), page)
}

/// The running session, the citizen as the services see them, and the
/// consultation `slug` the session may act in; `None`: back to the desk.
async fn working(
    ctx: &Ctx,
    me: &CurrentUser,
    slug: &str,
) -> Result<Option<(Assist, Visitor, consultation::Model)>, AppError> {
    refused(me)?;
    let Some(assist) = active(ctx, me).await? else {
        return Ok(None);
    };
    let Some(visitor) = assisted::citizen_visitor(&ctx.state.db, &assist).await? else {
        finish(ctx, assist, false).await?;
        return Ok(None);
    };
    let c = consultations::get_visible(&ctx.state.db, Some(me), slug).await?;
    assisted::may_act_in(&assist, &c)?;
    Ok(Some((assist, visitor, c)))
}

#[derive(Serialize)]
struct StatementView {
    id: i64,
    body: String,
    answer: String,
}

#[derive(Serialize)]
struct IdeaChoice {
    id: i64,
    title: String,
}

#[derive(Serialize)]
struct ConsultationPage {
    slug: String,
    title: String,
    who: String,
    vote_refusal: Option<String>,
    statements: Vec<StatementView>,
    idea_refusal: Option<String>,
    categories: Vec<String>,
    comment_ideas: Vec<IdeaChoice>,
    errors: Vec<String>,
    statement_body: String,
    idea_title: String,
    idea_body: String,
    comment_body: String,
}

#[derive(Default)]
struct Typed {
    statement: String,
    idea_title: String,
    idea_body: String,
    comment: String,
    errors: Vec<String>,
}

async fn consultation_view(
    ctx: &Ctx,
    assist: &Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    typed: Typed,
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let citizen = visitor.user.as_ref();
    let vote_refusal = if c.has_conversation {
        votes::may_vote(citizen, c).err().map(|r| ctx.t(r.key()))
    } else {
        Some(ctx.t("assisted.no_conversation"))
    };
    let mut statements_view = Vec::new();
    if vote_refusal.is_none() {
        let voted = match crate::services::participants::find(db, c.id, visitor).await? {
            Some(p) => votes::of_participant(db, p.id).await?,
            None => Default::default(),
        };
        for s in statements::list_accepted(db, c.id).await? {
            statements_view.push(StatementView {
                answer: voted
                    .get(&s.id)
                    .map(|v| votes::choice_name(*v).to_owned())
                    .unwrap_or_default(),
                id: s.id,
                body: s.body,
            });
        }
    }
    let idea_refusal = match citizen {
        _ if !c.accepts_ideas => Some(ctx.t("errors.ideas_not_accepted")),
        None => Some(ctx.t("assisted.ideas_need_account")),
        Some(u) => ideas::may_propose(Some(u), c).err().map(|r| ctx.t(r.key())),
    };
    let comment_ideas = if idea_refusal.is_none() {
        let query = ideas::ListQuery {
            limit: 100,
            ..Default::default()
        };
        ideas::list(db, c, &query)
            .await?
            .0
            .into_iter()
            .map(|i| IdeaChoice {
                id: i.id,
                title: i.title,
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = ConsultationPage {
        slug: c.slug.clone(),
        title: c.title.clone(),
        who: who(ctx, assist),
        vote_refusal,
        statements: statements_view,
        idea_refusal,
        categories: consultations::categories(c),
        comment_ideas,
        errors: typed.errors.clone(),
        statement_body: typed.statement,
        idea_title: typed.idea_title,
        idea_body: typed.idea_body,
        comment_body: typed.comment,
    };
    let status = if page.errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    ctx.render_status(status, "desk_consultation", &c.title, page)
}

#[get("/staff/desk/c/{slug}")]
pub async fn consultation_page(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let Some((assist, visitor, c)) = working(&ctx, &me, &slug).await? else {
        return Ok(see_other("/staff/desk"));
    };
    consultation_view(&ctx, &assist, &visitor, &c, Typed::default()).await
}

/// After one of the citizen's texts: stored, back to the consultation with
/// "saved" (and the notice about personal data in `texts`); refused, the page
/// again with what was typed and the reasons.
#[allow(clippy::too_many_arguments)]
async fn answer<T>(
    ctx: &Ctx,
    assist: &Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    slug: &str,
    result: Result<T, AppError>,
    texts: &[&str],
    typed: Typed,
) -> Result<HttpResponse, AppError> {
    store(ctx, assist)?;
    match result {
        Ok(_) => {
            ctx.flash("success", "assisted.saved");
            ctx.tell_about_personal_data(texts, texts);
            Ok(back(slug))
        }
        Err(AppError::Validation(errors)) => {
            let typed = Typed {
                errors: messages(ctx, &errors),
                ..typed
            };
            consultation_view(ctx, assist, visitor, c, typed).await
        }
        Err(e) => Err(e),
    }
}

fn back(slug: &str) -> HttpResponse {
    see_other(&format!("/staff/desk/c/{slug}"))
}

/// Field errors of a service, translated for the desk page.
fn messages(ctx: &Ctx, errors: &[crate::errors::FieldError]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in errors {
        let one = ctx.field_errors(std::slice::from_ref(e));
        if let Some(m) = one.first().filter(|m| !out.iter().any(|o| o == m)) {
            out.push(m.to_owned());
        }
    }
    out
}

#[post("/staff/desk/c/{slug}/votes")]
pub async fn vote(
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let Some((mut assist, visitor, c)) = working(&ctx, &me, &slug).await? else {
        return Ok(see_other("/staff/desk"));
    };
    let current = match crate::services::participants::find(&ctx.state.db, c.id, &visitor).await? {
        Some(p) => votes::of_participant(&ctx.state.db, p.id).await?,
        None => Default::default(),
    };
    let mut result = Ok(());
    for (key, value) in form.iter() {
        let Some(id) = key.strip_prefix('s').and_then(|i| i.parse::<i64>().ok()) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let choice =
            votes::parse_choice(value).ok_or(AppError::BadRequest("errors.invalid_input"))?;
        if current.get(&id) == Some(&choice) {
            continue;
        }
        result = assisted::vote(&ctx.state.db, &me, &mut assist, &visitor, &c, id, choice).await;
        if result.is_err() {
            break;
        }
    }
    store(&ctx, &assist)?;
    result?;
    ctx.flash("success", "assisted.saved");
    Ok(back(&slug))
}

#[derive(Deserialize)]
pub struct BodyForm {
    #[serde(default)]
    body: String,
}

#[post("/staff/desk/c/{slug}/statements")]
pub async fn statement(
    slug: web::Path<String>,
    form: web::Form<BodyForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let Some((mut assist, visitor, c)) = working(&ctx, &me, &slug).await? else {
        return Ok(see_other("/staff/desk"));
    };
    let result =
        assisted::statement(&ctx.state.db, &me, &mut assist, &visitor, &c, &form.body).await;
    let typed = Typed {
        statement: form.body.clone(),
        ..Default::default()
    };
    answer(
        &ctx,
        &assist,
        &visitor,
        &c,
        &slug,
        result,
        &[&form.body],
        typed,
    )
    .await
}

#[post("/staff/desk/c/{slug}/ideas")]
pub async fn idea(
    slug: web::Path<String>,
    form: web::Form<ideas::IdeaForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let Some((mut assist, visitor, c)) = working(&ctx, &me, &slug).await? else {
        return Ok(see_other("/staff/desk"));
    };
    let result = assisted::idea(&ctx.state.db, &me, &mut assist, &visitor, &c, &form).await;
    let typed = Typed {
        idea_title: form.title.clone(),
        idea_body: form.body.clone(),
        ..Default::default()
    };
    let texts = [form.title.as_str(), form.body.as_str(), form.place.as_str()];
    answer(&ctx, &assist, &visitor, &c, &slug, result, &texts, typed).await
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    idea: i64,
    #[serde(default)]
    body: String,
}

#[post("/staff/desk/c/{slug}/comments")]
pub async fn comment(
    slug: web::Path<String>,
    form: web::Form<CommentForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let Some((mut assist, visitor, c)) = working(&ctx, &me, &slug).await? else {
        return Ok(see_other("/staff/desk"));
    };
    let result = assisted::comment(
        &ctx.state.db,
        &me,
        &mut assist,
        &visitor,
        &c,
        form.idea,
        &form.body,
    )
    .await;
    let typed = Typed {
        comment: form.body.clone(),
        ..Default::default()
    };
    answer(
        &ctx,
        &assist,
        &visitor,
        &c,
        &slug,
        result,
        &[&form.body],
        typed,
    )
    .await
}

#[post("/staff/desk/end")]
pub async fn end(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if let Some(assist) = active(&ctx, &me).await? {
        finish(&ctx, assist, false).await?;
    }
    Ok(see_other("/staff/desk/receipt"))
}

#[derive(Serialize)]
struct ReceiptPage {
    who: String,
    how: String,
    started: String,
    ended: String,
    timed_out: bool,
    lines: Vec<LineView>,
}

#[get("/staff/desk/receipt")]
pub async fn receipt(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    refused(&me)?;
    if active(&ctx, &me).await?.is_some() {
        return Ok(see_other("/staff/desk/session"));
    }
    let Some(r) = ctx.session.get::<Receipt>(SESSION_RECEIPT).ok().flatten() else {
        return Ok(see_other("/staff/desk"));
    };
    let at = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| format_datetime(t, ctx.locale))
            .unwrap_or_default()
    };
    let page = ReceiptPage {
        who: if r.how == How::Anonymous {
            ctx.t("assisted.anonymous_citizen")
        } else {
            r.name.clone()
        },
        how: ctx.t(&format!("assisted.how_{}", r.how.as_str())),
        started: at(r.started_at),
        ended: at(r.ended_at),
        timed_out: r.timed_out,
        lines: lines(&ctx, &r.lines),
    };
    ctx.render("desk_receipt", &ctx.t("assisted.receipt_title"), page)
}
