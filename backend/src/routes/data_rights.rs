//! A citizen's own data: the export (HTML view, JSON download, JSON API),
//! deleting the account, the staff page for requests made in person or by
//! letter, and the record of processing on the privacy page.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::{Admin, Ctx, CurrentUser, LoggedIn};
use crate::routes::see_other;
use crate::routes::views::date;
use crate::services::data_inventory::CATEGORIES;
use crate::services::data_rights::{self, Confirmation, Requester};
use crate::services::rate_limits::Client;

/// Session key: when this session last logged in with MitID (Unix seconds),
/// so an account without a password can confirm a deletion with a fresh login.
pub const SESSION_IDENTITY_LOGIN_AT: &str = "identity_login_at";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(my_data)
        .service(my_data_json)
        .service(api_export)
        .service(delete_form)
        .service(delete_account)
        .service(deleted)
        .service(staff_requests)
        .service(staff_export)
        .service(staff_delete);
}

fn json_download(export: &data_rights::Export, name: &str) -> Result<HttpResponse, AppError> {
    let body = serde_json::to_string_pretty(export).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Serialize)]
struct Line {
    text: String,
    href: Option<String>,
    state: String,
}

#[derive(Serialize)]
struct MyDataPage {
    export: data_rights::Export,
    created_at: String,
    json_href: &'static str,
    ideas: Vec<Line>,
    comments: Vec<Line>,
    statements: Vec<Line>,
    mails: Vec<Line>,
    counts: Vec<String>,
    decisions: Vec<DecisionLine>,
    complaints: Vec<ComplaintLine>,
    places: Vec<PlaceView>,
}

/// One conversation's map with my place marked.
#[derive(Serialize)]
struct PlaceView {
    href: String,
    title: String,
    text: String,
    map_title: String,
    width: f64,
    height: f64,
    points: Vec<serde_json::Value>,
    me_x: f64,
    me_y: f64,
    label_y: f64,
}

const MAP_W: f64 = 300.0;
const MAP_H: f64 = 200.0;
const MAP_PAD: f64 = 14.0;

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Scale everyone's positions into the map's box and mark mine.
fn place_view(ctx: &Ctx, p: &data_rights::MyPlace) -> PlaceView {
    let (min_x, max_x) = p
        .points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), (xy, _)| {
            (a.min(xy[0]), b.max(xy[0]))
        });
    let (min_y, max_y) = p
        .points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), (xy, _)| {
            (a.min(xy[1]), b.max(xy[1]))
        });
    let span_x = if max_x > min_x { max_x - min_x } else { 1.0 };
    let span_y = if max_y > min_y { max_y - min_y } else { 1.0 };
    let sx = |x: f64| round1(MAP_PAD + (x - min_x) / span_x * (MAP_W - 2.0 * MAP_PAD));
    let sy = |y: f64| round1(MAP_H - MAP_PAD - (y - min_y) / span_y * (MAP_H - 2.0 * MAP_PAD));
    let group_name = p.group.map(crate::services::snapshots::group_name);
    let text = match &group_name {
        Some(name) => ctx
            .t("data_rights.place_in_group")
            .replace("{title}", &p.title)
            .replace("{group}", name)
            .replace("{groups}", &p.groups.to_string()),
        None => ctx
            .t("data_rights.place_no_group")
            .replace("{title}", &p.title),
    };
    let me_y = sy(p.me[1]);
    PlaceView {
        href: format!("/consultations/{}", p.consultation),
        title: p.title.clone(),
        map_title: ctx.t("data_rights.map_title").replace("{title}", &p.title),
        text,
        width: MAP_W,
        height: MAP_H,
        points: p
            .points
            .iter()
            .map(|(xy, g)| {
                serde_json::json!({
                    "cx": sx(xy[0]),
                    "cy": sy(xy[1]),
                    "group": g.map_or(0, |g| g % 5),
                })
            })
            .collect(),
        me_x: sx(p.me[0]),
        me_y,
        // The label above the mark, or below it near the top edge.
        label_y: if me_y < 30.0 {
            me_y + 20.0
        } else {
            me_y - 12.0
        },
    }
}

/// A moderation decision about one of my contributions, with the way to
/// complain about it.
#[derive(Serialize)]
struct DecisionLine {
    what: String,
    action: String,
    reason: String,
    at: String,
    complain_href: String,
}

#[derive(Serialize)]
struct ComplaintLine {
    body: String,
    status: String,
    answer: Option<String>,
    at: String,
}

/// A moderation decision in words ("afvist").
fn decision_label(ctx: &Ctx, action: &str) -> String {
    const KNOWN: &[&str] = &[
        "statement.accepted",
        "statement.rejected",
        "statement.meta",
        "statement.not_meta",
        "auto_hide",
        "hide",
        "restore",
        "publish",
        "reject",
    ];
    let key = if KNOWN.contains(&action) {
        action.replace('.', "_")
    } else {
        "other".to_owned()
    };
    ctx.t(&format!("complaints.action.{key}"))
}

/// "1 stemme" / "3 stemmer": the Fluent message `data_rights.count_{key}`.
fn count_text(ctx: &Ctx, key: &str, n: usize) -> String {
    ctx.tf(&format!("data_rights.count_{key}"), &[("count", n.into())])
}

/// The readable (and printable) view of everything stored about me.
#[get("/account/data")]
pub async fn my_data(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    let export = data_rights::export(&ctx.state.db, &me, me.id).await?;
    let ideas = export
        .ideas
        .iter()
        .map(|i| Line {
            text: i.title.clone(),
            href: Some(format!("/ideas/{}", i.id)),
            state: ctx.t(&format!("idea_status.{}", i.status)),
        })
        .collect();
    let comments = export
        .comments
        .iter()
        .map(|c| Line {
            text: c.body.clone(),
            href: Some(format!("/ideas/{}#comment-{}", c.idea_id, c.id)),
            state: ctx.t(&format!("data_rights.comment_status.{}", c.status)),
        })
        .collect();
    let statements = export
        .statements
        .iter()
        .map(|s| {
            let mut state = ctx.t(&format!("data_rights.statement_status.{}", s.status));
            if let Some(reason) = s.moderation_reason.as_deref().filter(|r| !r.is_empty()) {
                state = format!("{state}: {reason}");
            }
            Line {
                text: s.body.clone(),
                href: Some(format!("/consultations/{}", s.consultation)),
                state,
            }
        })
        .collect();
    let counts = vec![
        count_text(&ctx, "votes", export.votes.len()),
        count_text(&ctx, "supports", export.supports.len()),
        count_text(
            &ctx,
            "follows",
            export.followed_consultations.len() + export.followed_ideas.len(),
        ),
        count_text(&ctx, "notifications", export.notifications.len()),
        count_text(&ctx, "mails", export.mails.len()),
        count_text(&ctx, "audit", export.audit.len()),
    ];
    let decisions = export
        .decisions
        .iter()
        .map(|d| DecisionLine {
            what: ctx.t(&format!("complaints.subject.{}", d.subject_type)),
            action: decision_label(&ctx, &d.action),
            // The automatic hiding's reason is a note for staff, not for the author.
            reason: if d.action == "auto_hide" {
                String::new()
            } else {
                d.reason.clone()
            },
            at: date(ctx.locale, &d.created_at),
            complain_href: format!("/complaints/new?decision={}", d.id),
        })
        .collect();
    let complaints = export
        .complaints
        .iter()
        .map(|c| ComplaintLine {
            body: c.body.clone(),
            status: ctx.t(&format!("complaints.status.{}", c.status)),
            answer: c.answer.clone(),
            at: date(ctx.locale, &c.created_at),
        })
        .collect();
    let places = data_rights::my_places(&ctx.state.db, &me)
        .await?
        .iter()
        .map(|p| place_view(&ctx, p))
        .collect();
    let mails = export
        .mails
        .iter()
        .map(|m| Line {
            text: m
                .subject
                .clone()
                .unwrap_or_else(|| ctx.t("data_rights.mail_no_subject")),
            href: None,
            state: match m.sent_at {
                Some(at) => ctx
                    .t("data_rights.mail_sent_at")
                    .replace("{date}", &date(ctx.locale, &at)),
                None => ctx.t(&format!("data_rights.mail_status.{}", m.status)),
            },
        })
        .collect();
    let page = MyDataPage {
        places,
        mails,
        created_at: date(ctx.locale, &export.account.created_at),
        decisions,
        complaints,
        export,
        json_href: "/account/data.json",
        ideas,
        comments,
        statements,
        counts,
    };
    ctx.render("my_data", &ctx.t("data_rights.my_data_title"), page)
}

/// The same as a file to download.
#[get("/account/data.json")]
pub async fn my_data_json(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    let export = data_rights::export(&ctx.state.db, &me, me.id).await?;
    json_download(&export, "samskab-mine-data.json")
}

/// The JSON API of the logged-in person's own export; there is no way to
/// name another person.
#[utoipa::path(
    get,
    path = "/api/v1/me/export",
    responses(
        (status = 200, description = "Everything stored about the logged-in person (GDPR art. 15 and 20); never anything about anyone else", body = data_rights::Export),
        (status = 401, description = "Not logged in")
    )
)]
#[get("/api/v1/me/export")]
pub async fn api_export(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let Some(me) = ctx.user.clone() else {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "error": ctx.t("errors.login_required") })));
    };
    let export = data_rights::export(&ctx.state.db, &me, me.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(export))
}

#[derive(Serialize, Default)]
struct DeletePage {
    has_password: bool,
    /// The MitID login button (accounts without a password), when it is needed.
    fresh_login: Vec<crate::routes::account::ProviderLink>,
    mitid_fresh: bool,
    error: Option<String>,
    delete_texts: bool,
}

fn identity_login_at(ctx: &Ctx) -> Option<chrono::DateTime<chrono::Utc>> {
    ctx.session
        .get::<i64>(SESSION_IDENTITY_LOGIN_AT)
        .ok()
        .flatten()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
}

async fn delete_page(
    ctx: &Ctx,
    me: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    delete_texts: bool,
) -> Result<HttpResponse, AppError> {
    let has_password = data_rights::has_password(&ctx.state.db, me).await?;
    let fresh = data_rights::fresh_identity_login(identity_login_at(ctx), chrono::Utc::now());
    let page = DeletePage {
        has_password,
        fresh_login: if has_password || fresh {
            Vec::new()
        } else {
            crate::routes::account::providers(ctx, "next=%2Faccount%2Fdelete")
        },
        mitid_fresh: fresh,
        error,
        delete_texts,
    };
    ctx.render_status(
        status,
        "account_delete",
        &ctx.t("data_rights.delete_title"),
        page,
    )
}

/// The confirmation step: what happens, then the password (or a fresh
/// MitID login) and the click.
#[get("/account/delete")]
pub async fn delete_form(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    delete_page(&ctx, &me, StatusCode::OK, None, false).await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    delete_texts: Option<String>,
}

#[post("/account/delete")]
pub async fn delete_account(
    form: web::Form<DeleteForm>,
    client: Client,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let delete_texts = form.delete_texts.is_some();
    if form.confirm.is_none() {
        let error = Some(ctx.t("data_rights.confirm_missing"));
        return delete_page(
            &ctx,
            &me,
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
            delete_texts,
        )
        .await;
    }
    let answer = data_rights::confirm_identity(
        &ctx.state.db,
        &client,
        &me,
        &form.password,
        identity_login_at(&ctx),
        chrono::Utc::now(),
    )
    .await?;
    let error = match answer {
        Confirmation::Confirmed => None,
        Confirmation::WrongPassword => Some(ctx.t("data_rights.password_wrong")),
        Confirmation::NeedsFreshLogin => Some(ctx.t("data_rights.needs_fresh_login")),
        Confirmation::Throttled(wait) => {
            return Err(AppError::TooManyRequests { retry_after: wait });
        }
    };
    if error.is_some() {
        return delete_page(
            &ctx,
            &me,
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
            delete_texts,
        )
        .await;
    }
    data_rights::delete_account(
        &ctx.state.db,
        &me,
        me.id,
        Requester::Themselves,
        delete_texts,
    )
    .await?;
    // Every session ended in the deletion; this browser goes on without one.
    crate::auth::session::log_out(&ctx.session);
    Ok(see_other("/account/deleted"))
}

#[get("/account/deleted")]
pub async fn deleted(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.render(
        "account_deleted",
        &ctx.t("data_rights.deleted_title"),
        serde_json::json!({}),
    )
}

#[derive(Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    email: String,
}

#[derive(Serialize)]
struct FoundUser {
    id: i64,
    display_name: String,
    email: Option<String>,
    created_at: String,
}

#[derive(Serialize)]
struct StaffPage {
    email: String,
    searched: bool,
    found: Option<FoundUser>,
    errors: crate::routes::views::FieldErrors,
    reason: String,
}

async fn staff_page(
    ctx: &Ctx,
    me: &CurrentUser,
    email: &str,
    status: StatusCode,
    errors: crate::routes::views::FieldErrors,
    reason: &str,
) -> Result<HttpResponse, AppError> {
    let searched = !email.trim().is_empty();
    let found = if searched {
        data_rights::find_by_email(&ctx.state.db, me, email)
            .await?
            .map(|u| FoundUser {
                created_at: date(ctx.locale, &u.created_at),
                id: u.id,
                display_name: u.display_name,
                email: u.email,
            })
    } else {
        None
    };
    let page = StaffPage {
        email: email.trim().to_owned(),
        searched,
        found,
        errors,
        reason: reason.to_owned(),
    };
    ctx.render_status(
        status,
        "admin_data_requests",
        &ctx.t("data_rights.staff_title"),
        page,
    )
}

/// Requests made in person or by letter: find the person by email, then
/// export or delete.
#[get("/admin/data-requests")]
pub async fn staff_requests(
    query: web::Query<FindQuery>,
    Admin(ctx, me): Admin,
) -> Result<HttpResponse, AppError> {
    staff_page(
        &ctx,
        &me,
        &query.email,
        StatusCode::OK,
        Default::default(),
        "",
    )
    .await
}

#[get("/admin/data-requests/{id}/export.json")]
pub async fn staff_export(
    id: web::Path<i64>,
    Admin(ctx, me): Admin,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let export = data_rights::export(&ctx.state.db, &me, id).await?;
    crate::services::audit::record(
        &ctx.state.db,
        Some(me.id),
        "user.exported",
        "user",
        Some(id),
        "",
    )
    .await?;
    json_download(&export, &format!("samskab-data-{id}.json"))
}

#[derive(Deserialize)]
pub struct StaffDeleteForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    delete_texts: Option<String>,
}

#[post("/admin/data-requests/{id}/delete")]
pub async fn staff_delete(
    id: web::Path<i64>,
    form: web::Form<StaffDeleteForm>,
    Admin(ctx, me): Admin,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if id == me.id {
        // One's own account is deleted through the confirmation step.
        return Err(AppError::Conflict("data_rights.staff_not_self"));
    }
    let done = data_rights::delete_account(
        &ctx.state.db,
        &me,
        id,
        Requester::Staff {
            reason: &form.reason,
        },
        form.delete_texts.is_some(),
    )
    .await;
    ctx.form_result(
        done,
        |_| {
            ctx.flash("success", "data_rights.staff_deleted");
            Ok(see_other("/admin/data-requests"))
        },
        async |errors| {
            staff_page(
                &ctx,
                &me,
                &form.email,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                &form.reason,
            )
            .await
        },
    )
    .await
}

/// One kind of personal data on the privacy page.
#[derive(Serialize)]
struct InventoryRow {
    key: &'static str,
    name: String,
    what: String,
    purpose: String,
    basis: String,
    stored: Vec<String>,
    access: String,
    retention: String,
    recipients: String,
}

#[derive(Serialize)]
struct PrivacyPage {
    inventory: Vec<InventoryRow>,
    controller: Option<String>,
    controller_contact: Option<String>,
    dpo_name: Option<String>,
    dpo_email: Option<String>,
}

/// The privacy page with the record of processing, generated from
/// [`CATEGORIES`].
pub fn privacy_page(ctx: &Ctx) -> Result<HttpResponse, AppError> {
    let inventory = CATEGORIES
        .iter()
        .map(|c| {
            let t = |field: &str| ctx.t(&format!("data_rights.inventory.{}.{field}", c.key));
            InventoryRow {
                key: c.key,
                name: t("name"),
                what: t("what"),
                purpose: t("purpose"),
                basis: ctx.t(&format!("data_rights.basis.{}", c.basis.key())),
                stored: c
                    .columns
                    .iter()
                    .map(|(table, columns)| format!("{table}: {}", columns.join(", ")))
                    .collect(),
                access: t("access"),
                retention: t("retention"),
                recipients: t("recipients"),
            }
        })
        .collect();
    let privacy = &ctx.state.settings.privacy;
    let set = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let page = PrivacyPage {
        inventory,
        controller: set(&privacy.controller),
        controller_contact: set(&privacy.controller_contact),
        dpo_name: set(&privacy.dpo_name),
        dpo_email: set(&privacy.dpo_email),
    };
    ctx.render("privacy", &ctx.t("privacy.title"), page)
}
