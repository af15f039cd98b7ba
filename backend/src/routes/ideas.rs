//! Citizens' ideas: the list of a consultation, the idea page with supports,
//! status history and comments, the proposal and edit forms, and the staff's
//! status changes. Comments are in `routes::comments`, the staff dashboard in
//! `routes::staff::ideas`.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::entities::{comment, consultation, idea};
use crate::errors::{AppError, Refusal};
use crate::routes::context::{Ctx, LoggedIn, Staff};
use crate::routes::see_other;
use crate::routes::views::{Choice, ConsultationRef, FieldErrors, Transition, ValueChoice, date};
use crate::services::comments::{self, CommentStatus};
use crate::services::consultations::{self, Status};
use crate::services::ideas::{self, IdeaForm, IdeaStatus, ListQuery, Sort};
use crate::services::notifications;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(idea_list)
        .service(new_form)
        .service(create)
        .service(show)
        .service(edit_form)
        .service(update)
        .service(withdraw)
        .service(support_idea)
        .service(unsupport)
        .service(follow)
        .service(unfollow)
        .service(change_status);
}

pub fn status_label(ctx: &Ctx, s: IdeaStatus) -> String {
    ctx.t(&format!("idea_status.{}", s.as_str()))
}

/// An idea in a list.
#[derive(Serialize)]
pub struct IdeaCard {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_label: String,
    pub category: Option<String>,
    pub place: Option<String>,
    pub author: String,
    pub created_at: String,
    pub support_count: i32,
    pub comment_count: i32,
}

pub(crate) fn idea_card(ctx: &Ctx, i: &idea::Model, author: Option<&String>) -> IdeaCard {
    let s = i.status;
    IdeaCard {
        id: i.id,
        title: i.title.clone(),
        status: s.as_str(),
        status_label: status_label(ctx, s),
        category: i.category.clone(),
        place: i.place.clone(),
        author: author
            .cloned()
            .unwrap_or_else(|| ctx.t("ideas.unknown_author")),
        created_at: date(ctx.locale, &i.created_at),
        support_count: i.support_count,
        comment_count: i.comment_count,
    }
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
    let sorts = Sort::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: ctx.t(&format!("ideas.sort_{}", s.as_str())),
            selected: *s == query.sort,
        })
        .collect();
    let statuses = IdeaStatus::ALL
        .iter()
        .filter(|s| **s != IdeaStatus::Submitted)
        .map(|s| Choice {
            value: s.as_str(),
            label: status_label(&ctx, *s),
            selected: Some(*s) == query.status,
        })
        .collect();
    let categories = consultations::categories(&c)
        .into_iter()
        .map(|cat| ValueChoice {
            selected: query.category.as_deref() == Some(cat.as_str()),
            value: cat,
        })
        .collect();
    let page = IdeaListPage {
        consultation: ConsultationRef::with_deadline(&c, ctx.locale),
        items: cards,
        sorts,
        statuses,
        categories,
        q: non_empty(&params.q).unwrap_or("").to_owned(),
        search_max: ideas::SEARCH_MAX,
        can_propose: ideas::may_propose(ctx.user.as_ref(), &c).is_ok(),
        accepts_ideas: c.accepts_ideas,
        prev: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
        page,
    };
    ctx.render(
        "ideas",
        &format!("{} · {}", ctx.t("ideas.title"), c.title),
        page,
    )
}

#[derive(Serialize)]
struct IdeaListPage {
    consultation: ConsultationRef,
    items: Vec<IdeaCard>,
    sorts: Vec<Choice>,
    statuses: Vec<Choice>,
    categories: Vec<ValueChoice>,
    q: String,
    search_max: usize,
    can_propose: bool,
    accepts_ideas: bool,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct IdeaFormPage<'a> {
    consultation: ConsultationRef,
    form: &'a IdeaForm,
    has_errors: bool,
    errors: FieldErrors,
    categories: Vec<ValueChoice>,
    action: String,
    is_edit: bool,
    pre_moderation: bool,
    title_max: usize,
    body_max: usize,
    place_max: usize,
}

fn form_page(
    ctx: &Ctx,
    c: &consultation::Model,
    form: &IdeaForm,
    errors: FieldErrors,
    edit: Option<&idea::Model>,
) -> Result<HttpResponse, AppError> {
    let title = if edit.is_some() {
        ctx.t("idea_form.edit_title")
    } else {
        ctx.t("idea_form.new_title")
    };
    let categories = consultations::categories(c)
        .into_iter()
        .map(|cat| ValueChoice {
            selected: form.category == cat,
            value: cat,
        })
        .collect();
    let action = match edit {
        Some(i) => format!("/ideas/{}/edit", i.id),
        None => format!("/consultations/{}/ideas", c.slug),
    };
    let page = IdeaFormPage {
        consultation: ConsultationRef::of(c),
        form,
        has_errors: !errors.is_empty(),
        errors,
        categories,
        action,
        is_edit: edit.is_some(),
        pre_moderation: c.moderation_mode == crate::domain::ModerationMode::Pre,
        title_max: ideas::TITLE_MAX,
        body_max: ideas::BODY_MAX,
        place_max: ideas::PLACE_MAX,
    };
    ctx.render("idea_form", &title, page)
}

#[get("/consultations/{slug}/ideas/new")]
pub async fn new_form(
    slug: web::Path<String>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let c = ideas::consultation_for_proposal(&ctx.state.db, &me, &slug).await?;
    form_page(&ctx, &c, &IdeaForm::default(), FieldErrors::default(), None)
}

/// The idea form, and `confirm=1` when sent again from the "is it the same
/// as …?" page.
#[derive(Deserialize)]
pub struct ProposeForm {
    #[serde(flatten)]
    idea: IdeaForm,
    #[serde(default)]
    confirm: String,
}

#[post("/consultations/{slug}/ideas")]
pub async fn create(
    slug: web::Path<String>,
    sent: web::Form<ProposeForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let ProposeForm {
        idea: form,
        confirm,
    } = sent.into_inner();
    if confirm != "1"
        && let Ok(c) = ideas::consultation_for_proposal(&ctx.state.db, &me, &slug).await
    {
        let similar =
            crate::services::duplicates::similar_ideas(&ctx.state.db, &c, &form.title, &form.body)
                .await?;
        if !similar.is_empty() {
            let page = crate::routes::views::SimilarPage {
                action: format!("/consultations/{slug}/ideas"),
                back: format!("/consultations/{slug}/ideas/new"),
                items: similar
                    .into_iter()
                    .map(|i| crate::routes::views::SimilarItem {
                        href: format!("/ideas/{}", i.id),
                        text: i.title,
                    })
                    .collect(),
                body: String::new(),
                hidden: vec![
                    ("title", form.title.clone()),
                    ("body", form.body.clone()),
                    ("category", form.category.clone()),
                    ("place", form.place.clone()),
                ],
            };
            return ctx.render("similar_confirm", &ctx.t("similar.title"), page);
        }
    }
    let created = ideas::create(&ctx.state.db, &me, &slug, &form).await;
    ctx.form_result(
        created,
        |i| {
            let key = if i.published_at.is_some() {
                "idea.created"
            } else {
                "idea.created_pending"
            };
            ctx.flash("success", key);
            ctx.tell_about_personal_data(
                &[&form.title, &form.body, &form.place],
                &[&form.title, &form.body],
            );
            Ok(see_other(&format!("/ideas/{}", i.id)))
        },
        async |errors| {
            let c = ideas::consultation_for_proposal(&ctx.state.db, &me, &slug).await?;
            form_page(&ctx, &c, &form, errors, None)
        },
    )
    .await
}

#[get("/ideas/{id}/edit")]
pub async fn edit_form(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let (i, c) = ideas::get_for_edit(&ctx.state.db, &me, *id).await?;
    let form = IdeaForm::from_model(&i);
    form_page(&ctx, &c, &form, FieldErrors::default(), Some(&i))
}

#[post("/ideas/{id}/edit")]
pub async fn update(
    id: web::Path<i64>,
    form: web::Form<IdeaForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let saved = ideas::update(&ctx.state.db, &me, *id, &form).await;
    ctx.form_result(
        saved,
        |i| {
            ctx.flash("success", "idea.saved");
            ctx.tell_about_personal_data(
                &[&form.title, &form.body, &form.place],
                &[&form.title, &form.body],
            );
            Ok(see_other(&format!("/ideas/{}", i.id)))
        },
        async |errors| {
            let (i, c) = ideas::get_for_edit(&ctx.state.db, &me, *id).await?;
            form_page(&ctx, &c, &form, errors, Some(&i))
        },
    )
    .await
}

/// What the idea page re-shows after a rejected comment or status form.
#[derive(Default)]
pub(crate) struct DetailForms {
    pub(crate) errors: FieldErrors,
    pub(crate) comment_body: String,
    pub(crate) reply_to: Option<i64>,
    pub(crate) response: String,
}

/// One step of an idea's status history.
#[derive(Serialize, Clone)]
struct HistoryStep {
    status: &'static str,
    status_label: String,
    date: String,
    response_html: Option<String>,
    by_council: bool,
    /// Who gives an official answer (role and department).
    signature: Option<String>,
}

#[derive(Serialize)]
struct IdeaDetailCard {
    #[serde(flatten)]
    card: IdeaCard,
    body_html: String,
    threshold: i32,
}

#[derive(Serialize)]
struct IdeaPage {
    idea: IdeaDetailCard,
    consultation: ConsultationRef,
    history: Vec<HistoryStep>,
    answer: Option<HistoryStep>,
    comments: Vec<CommentView>,
    logged_in: bool,
    login_href: String,
    can_support: bool,
    can_unsupport: bool,
    support_refusal: Option<String>,
    comment_refusal: Option<String>,
    supported: bool,
    following: bool,
    can_follow: bool,
    can_edit: bool,
    can_withdraw: bool,
    can_comment: bool,
    participation_notice: Option<String>,
    transitions: Vec<Transition>,
    errors: FieldErrors,
    comment_body: String,
    reply_body: String,
    reply_to: Option<i64>,
    response: String,
    comment_max: usize,
    response_max: usize,
    /// The configured signature of official answers, prefilled for staff.
    answer_signature: String,
}

/// A comment in an idea's thread, with what the reader may do with it.
#[derive(Serialize)]
struct CommentView {
    id: i64,
    depth: i32,
    author: String,
    created_at: String,
    body: String,
    show_text: bool,
    is_hidden: bool,
    is_deleted: bool,
    edited: bool,
    can_edit: bool,
    can_delete: bool,
    can_flag: bool,
    can_reply: bool,
    can_moderate: bool,
}

fn comment_view(
    ctx: &Ctx,
    cm: &comment::Model,
    names: &std::collections::HashMap<i64, String>,
    c: &consultation::Model,
    i: &idea::Model,
) -> CommentView {
    let me = ctx.user.as_ref();
    let staff = me.is_some_and(|u| u.role.is_staff());
    let st = cm.status;
    let show_text = st == CommentStatus::Visible || (st == CommentStatus::Hidden && staff);
    CommentView {
        id: cm.id,
        depth: cm.depth,
        author: cm
            .author_id
            .and_then(|a| names.get(&a))
            .cloned()
            .unwrap_or_else(|| ctx.t("ideas.unknown_author")),
        created_at: date(ctx.locale, &cm.created_at),
        body: if show_text {
            cm.body.clone()
        } else {
            String::new()
        },
        show_text,
        is_hidden: st == CommentStatus::Hidden,
        is_deleted: st == CommentStatus::Deleted,
        edited: cm.edited_at.is_some(),
        // Each link exactly when the action would be allowed (one rule, in the service).
        can_edit: comments::may_edit(me, c, cm).is_ok(),
        can_delete: comments::may_delete(me, cm).is_ok(),
        can_flag: comments::may_flag(me, cm).is_ok(),
        can_reply: comments::may_comment(me, c, i, Some(cm)).is_ok(),
        can_moderate: comments::may_moderate(me, cm).is_ok(),
    }
}

/// The idea page; after a rejected form the caller answers 422.
pub(crate) async fn detail_page(
    ctx: &Ctx,
    id: i64,
    forms: DetailForms,
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let me = ctx.user.as_ref();
    let (i, c) = ideas::get_visible(db, me, id).await?;
    let st = i.status;
    let open = c.status == Status::Open;
    let staff = me.is_some_and(|u| u.role.is_staff());
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
    let history: Vec<_> = history
        .iter()
        .map(|h| {
            let to = h.to_status;
            HistoryStep {
                status: to.as_str(),
                status_label: status_label(ctx, to),
                date: date(ctx.locale, &h.created_at),
                response_html: (!h.response.is_empty())
                    .then(|| crate::markdown::to_safe_html(&h.response)),
                by_council: h.actor_id.is_some()
                    && to != IdeaStatus::Withdrawn
                    && h.from_status.is_some(),
                signature: h.signature.clone().filter(|_| !h.response.is_empty()),
            }
        })
        .collect();
    let answer = history
        .iter()
        .rev()
        .find(|h| h.response_html.is_some())
        .cloned();
    let comments = thread
        .iter()
        .map(|cm| comment_view(ctx, cm, &names, &c, &i))
        .collect();
    let transitions = if staff {
        st.staff_next()
            .iter()
            .map(|s| Transition {
                value: s.as_str(),
                label: status_label(ctx, *s),
            })
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
    // Every action the page offers is shown exactly when its service rule
    // allows it; otherwise the rule's reason is shown (unless the notice
    // above already says why nobody can take part now).
    let may_support = ideas::may_support(me, &c, &i, supported);
    let may_unsupport = ideas::may_unsupport(me, &c, supported);
    let comment = comments::may_comment(me, &c, &i, None);
    let reason = |r: Result<(), Refusal>| match r {
        Err(refusal) if participation_notice.is_none() && refusal != Refusal::LoginRequired => {
            Some(ctx.t(refusal.key()))
        }
        _ => None,
    };
    let support_refusal = if may_unsupport.is_ok() {
        None
    } else {
        reason(may_support)
    };
    let comment_refusal = reason(comment);
    let page = IdeaPage {
        idea: IdeaDetailCard {
            card: idea_card(ctx, &i, i.author_id.and_then(|a| names.get(&a))),
            body_html: crate::markdown::to_safe_html(&i.body),
            threshold: c.support_threshold,
        },
        consultation: ConsultationRef::of(&c),
        history,
        answer,
        comments,
        logged_in: me.is_some(),
        login_href: crate::errors::login_url(&format!("/ideas/{}", i.id)),
        can_support: may_support.is_ok(),
        can_unsupport: may_unsupport.is_ok(),
        support_refusal,
        comment_refusal,
        supported,
        following,
        can_follow: ideas::may_follow(me).is_ok(),
        can_edit: ideas::may_edit(me, &c, &i).is_ok(),
        can_withdraw: ideas::may_withdraw(me, &c, &i).is_ok(),
        can_comment: comment.is_ok(),
        participation_notice,
        transitions,
        errors: forms.errors,
        comment_body: if forms.reply_to.is_none() {
            forms.comment_body.clone()
        } else {
            String::new()
        },
        reply_body: forms.comment_body,
        reply_to: forms.reply_to,
        response: forms.response,
        comment_max: comments::BODY_MAX,
        response_max: ideas::RESPONSE_MAX,
        answer_signature: ctx.state.settings.consultations.answer_signature.clone(),
    };
    ctx.render("idea", &i.title, page)
}

#[get("/ideas/{id}")]
pub async fn show(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    detail_page(&ctx, *id, DetailForms::default()).await
}

#[post("/ideas/{id}/withdraw")]
pub async fn withdraw(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    ideas::withdraw(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.withdrawn");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/support")]
pub async fn support_idea(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let outcome = ideas::support(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.supported");
    if outcome.reached_threshold {
        ctx.flash("success", "idea.threshold_reached");
    }
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/unsupport")]
pub async fn unsupport(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    ideas::withdraw_support(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.support_withdrawn");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/follow")]
pub async fn follow(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    ideas::follow(&ctx.state.db, &me, *id).await?;
    ctx.flash("success", "idea.followed");
    Ok(see_other(&format!("/ideas/{id}")))
}

#[post("/ideas/{id}/unfollow")]
pub async fn unfollow(
    id: web::Path<i64>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
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
    /// Who signs the answer; empty = the configured role and department.
    #[serde(default)]
    signature: Option<String>,
}

#[post("/ideas/{id}/status")]
pub async fn change_status(
    id: web::Path<i64>,
    form: web::Form<StatusForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let to = IdeaStatus::parse(&form.to).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let signature = form
        .signature
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&ctx.state.settings.consultations.answer_signature);
    let changed =
        ideas::change_status_signed(&ctx.state.db, &me, *id, to, &form.response, signature).await;
    ctx.form_result(
        changed,
        |_| {
            ctx.flash("success", "idea.status_changed");
            Ok(see_other(&format!("/ideas/{id}")))
        },
        async |errors| {
            let forms = DetailForms {
                errors,
                response: form.response.clone(),
                ..Default::default()
            };
            detail_page(&ctx, *id, forms).await
        },
    )
    .await
}
