//! Citizens' ideas: propose, edit while nobody supports it yet, withdraw,
//! support (one per person), and the status workflow that staff run, each
//! step with an official response that everyone can read.
//!
//! Visibility: an idea is public once it has been published (`published_at`
//! is set). Under pre-moderation a new idea starts as `submitted` and only its
//! author and staff see it until a moderator publishes it.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TryInsertResult,
};
use serde::{Deserialize, Serialize};

use crate::auth::session::CurrentUser;
pub use crate::domain::IdeaStatus;
use crate::domain::Refusal;
use crate::entities::{consultation, idea, idea_status_change, idea_support, user};
use crate::errors::{AppError, FieldError};

use super::consultations::{self, ModerationMode};
use super::{audit, clean_text, eligibility, moderation, notifications, now};

pub const TITLE_MAX: usize = 120;
pub const TITLE_MIN: usize = 3;
pub const BODY_MAX: usize = 5_000;
pub const PLACE_MAX: usize = 200;
pub const RESPONSE_MAX: usize = 5_000;
pub const SEARCH_MAX: usize = 100;
pub const PAGE_SIZE: u64 = 20;

/// What a citizen types into the idea form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IdeaForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub place: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidIdea {
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub place: Option<String>,
}

impl ValidIdea {
    /// Title or text holds personal data a moderator must see first. The
    /// place is left out: naming where the idea belongs is what it is for.
    pub fn needs_review(&self) -> bool {
        crate::domain::personal_data::needs_review(&self.title)
            || crate::domain::personal_data::needs_review(&self.body)
    }
}

impl IdeaForm {
    pub fn validate(&self, categories: &[String]) -> Result<ValidIdea, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &'static str, key: &'static str| errors.push(FieldError { field, key });
        let title = clean_text(&self.title, TITLE_MAX).unwrap_or_else(|k| {
            err("title", k);
            String::new()
        });
        if self.title.trim().is_empty() {
            err("title", "required");
        } else if !title.is_empty() && title.chars().count() < TITLE_MIN {
            err("title", "title_short");
        }
        let body = clean_text(&self.body, BODY_MAX).unwrap_or_else(|k| {
            err("body", k);
            String::new()
        });
        if self.body.trim().is_empty() {
            err("body", "required");
        }
        let category = match self.category.trim() {
            "" => None,
            c => match categories.iter().find(|x| x.as_str() == c) {
                Some(found) => Some(found.clone()),
                None => {
                    err("category", "invalid_choice");
                    None
                }
            },
        };
        let place = match clean_text(&self.place, PLACE_MAX) {
            Ok(p) if p.is_empty() => None,
            Ok(p) => Some(p),
            Err(k) => {
                err("place", k);
                None
            }
        };
        if errors.is_empty() {
            Ok(ValidIdea {
                title,
                body,
                category,
                place,
            })
        } else {
            Err(errors)
        }
    }

    pub fn from_model(m: &idea::Model) -> Self {
        IdeaForm {
            title: m.title.clone(),
            body: m.body.clone(),
            category: m.category.clone().unwrap_or_default(),
            place: m.place.clone().unwrap_or_default(),
        }
    }
}

fn is_staff(viewer: Option<&CurrentUser>) -> bool {
    viewer.is_some_and(|u| u.role.is_staff())
}

/// May `viewer` see this idea at all?
pub fn can_view(viewer: Option<&CurrentUser>, idea: &idea::Model) -> bool {
    idea.published_at.is_some()
        || is_staff(viewer)
        || viewer.is_some_and(|u| Some(u.id) == idea.author_id)
}

/// Who is asking: `None` for an anonymous visitor, who may read but must log in
/// to take part.
fn logged_in(viewer: Option<&CurrentUser>) -> Result<&CurrentUser, Refusal> {
    viewer.ok_or(Refusal::LoginRequired)
}

/// May `viewer` propose an idea in `c`? The idea list shows the button exactly
/// when this is `Ok`, and `create` refuses with the same reason.
pub fn may_propose(viewer: Option<&CurrentUser>, c: &consultation::Model) -> Result<(), Refusal> {
    if !c.accepts_ideas {
        return Err(Refusal::IdeasNotAccepted);
    }
    if c.status != crate::domain::ConsultationStatus::Open {
        return Err(Refusal::ConsultationNotOpen);
    }
    eligibility::check(logged_in(viewer)?, c)
}

/// May `viewer` support `idea`? `supported`: whether they already do.
pub fn may_support(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    idea: &idea::Model,
    supported: bool,
) -> Result<(), Refusal> {
    if idea.published_at.is_none() {
        return Err(Refusal::IdeaNotPublic);
    }
    if !idea.status.accepts_support() {
        return Err(Refusal::IdeaNotSupportable);
    }
    let actor = logged_in(viewer)?;
    eligibility::check(actor, c)?;
    if idea.author_id == Some(actor.id) && !c.allow_self_support {
        return Err(Refusal::OwnIdea);
    }
    if supported {
        return Err(Refusal::AlreadySupported);
    }
    Ok(())
}

/// May `viewer` take their support back?
pub fn may_unsupport(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    supported: bool,
) -> Result<(), Refusal> {
    eligibility::check(logged_in(viewer)?, c)?;
    if !supported {
        return Err(Refusal::NotSupported);
    }
    Ok(())
}

/// Only the author changes an idea, while the consultation is open to them.
fn own(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    idea: &idea::Model,
) -> Result<(), Refusal> {
    let actor = logged_in(viewer)?;
    if idea.author_id != Some(actor.id) {
        return Err(Refusal::NotAuthor);
    }
    eligibility::check(actor, c)
}

/// May `viewer` change the text? Only the author, while nobody supports it.
pub fn may_edit(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    idea: &idea::Model,
) -> Result<(), Refusal> {
    own(viewer, c, idea)?;
    if !idea.status.editable() {
        return Err(Refusal::IdeaNotEditable);
    }
    if idea.support_count > 0 {
        return Err(Refusal::IdeaHasSupports);
    }
    Ok(())
}

/// May `viewer` withdraw the idea? Only the author, before the council has dealt with it.
pub fn may_withdraw(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    idea: &idea::Model,
) -> Result<(), Refusal> {
    own(viewer, c, idea)?;
    if !idea.status.can_be_withdrawn() {
        return Err(Refusal::IdeaNotWithdrawable);
    }
    Ok(())
}

/// May `viewer` follow the idea (notifications about its status)? Anyone logged in.
pub fn may_follow(viewer: Option<&CurrentUser>) -> Result<(), Refusal> {
    logged_in(viewer).map(|_| ())
}

pub async fn consultation_of<C: ConnectionTrait>(
    db: &C,
    idea: &idea::Model,
) -> Result<consultation::Model, AppError> {
    consultation::Entity::find_by_id(idea.consultation_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// An idea and its consultation as `viewer` may see them; anything hidden
/// from them does not exist.
pub async fn get_visible(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    id: i64,
) -> Result<(idea::Model, consultation::Model), AppError> {
    let found = idea::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = consultation_of(db, &found).await?;
    if !c.status.is_public() && !is_staff(viewer) {
        return Err(AppError::NotFound);
    }
    if !can_view(viewer, &found) {
        return Err(AppError::NotFound);
    }
    Ok((found, c))
}

pub(crate) async fn record_status<C: ConnectionTrait>(
    db: &C,
    idea_id: i64,
    from: Option<IdeaStatus>,
    to: IdeaStatus,
    actor_id: Option<i64>,
    response: &str,
) -> Result<(), sea_orm::DbErr> {
    record_status_signed(db, idea_id, from, to, actor_id, response, None).await
}

async fn record_status_signed<C: ConnectionTrait>(
    db: &C,
    idea_id: i64,
    from: Option<IdeaStatus>,
    to: IdeaStatus,
    actor_id: Option<i64>,
    response: &str,
    signature: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    idea_status_change::ActiveModel {
        signature: Set(signature),
        idea_id: Set(idea_id),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor_id),
        response: Set(response.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The consultation `slug`, if `actor` may propose an idea in it now.
pub async fn consultation_for_proposal(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    let c = consultations::get_visible(db, Some(actor), slug).await?;
    may_propose(Some(actor), &c)?;
    Ok(c)
}

/// Propose an idea in the consultation `slug`.
pub async fn create(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    form: &IdeaForm,
) -> Result<idea::Model, AppError> {
    let c = consultation_for_proposal(db, actor, slug).await?;
    let valid = form
        .validate(&consultations::categories(&c))
        .map_err(AppError::Validation)?;
    // Personal data other than a CPR number (masked already) waits for a
    // moderator, whatever the consultation's moderation mode.
    let pre = c.moderation_mode == ModerationMode::Pre || valid.needs_review();
    let initial = if pre {
        IdeaStatus::Submitted
    } else {
        IdeaStatus::Published
    };
    let at = now();
    let txn = super::begin_write(db).await?;
    let model = idea::ActiveModel {
        consultation_id: Set(c.id),
        author_id: Set(Some(actor.id)),
        title: Set(valid.title),
        body: Set(valid.body),
        category: Set(valid.category),
        place: Set(valid.place),
        status: Set(initial),
        support_count: Set(0),
        comment_count: Set(0),
        published_at: Set((!pre).then_some(at)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_status(&txn, model.id, None, initial, Some(actor.id), "").await?;
    notifications::follow(&txn, model.id, actor.id).await?;
    audit::record(
        &txn,
        Some(actor.id),
        "idea.created",
        "idea",
        Some(model.id),
        initial.as_str(),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The idea as its author may edit it (for showing the form).
pub async fn get_for_edit(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<(idea::Model, consultation::Model), AppError> {
    let (found, c) = get_visible(db, Some(actor), id).await?;
    may_edit(Some(actor), &c, &found)?;
    Ok((found, c))
}

/// Change the text of one's own idea while nobody supports it yet.
pub async fn update(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    form: &IdeaForm,
) -> Result<idea::Model, AppError> {
    let (found, c) = get_visible(db, Some(actor), id).await?;
    may_edit(Some(actor), &c, &found)?;
    let valid = form
        .validate(&consultations::categories(&c))
        .map_err(AppError::Validation)?;
    // An edit that adds personal data takes a published idea back to the
    // moderators.
    let back_to_review = valid.needs_review() && found.status == IdeaStatus::Published;
    let txn = super::begin_write(db).await?;
    // The support count is checked in the same statement, so a support that
    // arrives meanwhile wins and the edit is refused.
    let mut update = idea::Entity::update_many();
    if back_to_review {
        update = update.col_expr(idea::Column::Status, Expr::value(IdeaStatus::Submitted));
    }
    let res = update
        .col_expr(idea::Column::Title, Expr::value(valid.title))
        .col_expr(idea::Column::Body, Expr::value(valid.body))
        .col_expr(idea::Column::Category, Expr::value(valid.category))
        .col_expr(idea::Column::Place, Expr::value(valid.place))
        .col_expr(idea::Column::UpdatedAt, Expr::value(now()))
        .filter(idea::Column::Id.eq(id))
        .filter(idea::Column::SupportCount.eq(0))
        .filter(idea::Column::Status.is_in([IdeaStatus::Submitted, IdeaStatus::Published]))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::Forbidden(Refusal::IdeaHasSupports));
    }
    if back_to_review {
        record_status(
            &txn,
            id,
            Some(IdeaStatus::Published),
            IdeaStatus::Submitted,
            Some(actor.id),
            "",
        )
        .await?;
    }
    audit::record(&txn, Some(actor.id), "idea.updated", "idea", Some(id), "").await?;
    txn.commit().await?;
    idea::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The author takes the idea back. It stays readable, marked as withdrawn.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<idea::Model, AppError> {
    let (found, c) = get_visible(db, Some(actor), id).await?;
    may_withdraw(Some(actor), &c, &found)?;
    let from = found.status;
    move_status(
        db,
        Some(actor.id),
        found,
        from,
        IdeaStatus::Withdrawn,
        "",
        None,
    )
    .await
}

/// Set the status in one guarded statement, record the history, tell the
/// followers; all in one transaction.
async fn move_status(
    db: &DatabaseConnection,
    actor_id: Option<i64>,
    found: idea::Model,
    from: IdeaStatus,
    to: IdeaStatus,
    response: &str,
    signature: Option<String>,
) -> Result<idea::Model, AppError> {
    let at = now();
    let txn = super::begin_write(db).await?;
    let mut update = idea::Entity::update_many()
        .col_expr(idea::Column::Status, Expr::value(to))
        .col_expr(idea::Column::UpdatedAt, Expr::value(at));
    if to == IdeaStatus::Published && found.published_at.is_none() {
        update = update.col_expr(idea::Column::PublishedAt, Expr::value(Some(at)));
    }
    let res = update
        .filter(idea::Column::Id.eq(found.id))
        .filter(idea::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        // Someone else changed it first.
        return Err(AppError::Conflict("errors.idea_transition_not_allowed"));
    }
    record_status_signed(
        &txn,
        found.id,
        Some(from),
        to,
        actor_id,
        response,
        signature,
    )
    .await?;
    notifications::idea_status_changed(&txn, &found, to.as_str(), actor_id).await?;
    audit::record(
        &txn,
        actor_id,
        "idea.status_changed",
        "idea",
        Some(found.id),
        &format!("{} -> {}", from.as_str(), to.as_str()),
    )
    .await?;
    if from == IdeaStatus::Submitted {
        // Publishing or rejecting in pre-moderation is a moderation decision.
        let action = if to == IdeaStatus::Published {
            "publish"
        } else {
            "reject"
        };
        moderation::record(&txn, actor_id, "idea", found.id, action, response).await?;
    }
    txn.commit().await?;
    idea::Entity::find_by_id(found.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Staff move an idea along its workflow with an official response.
pub async fn change_status(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    to: IdeaStatus,
    response: &str,
) -> Result<idea::Model, AppError> {
    change_status_signed(db, actor, id, to, response, "").await
}

pub const SIGNATURE_MAX: usize = 200;

/// Staff move an idea along its workflow. An official response is required,
/// except when a moderator approves a submitted idea for publication (that is
/// not the council's answer). The response is signed with `signature` (a role
/// and department, or a name if staff choose so).
pub async fn change_status_signed(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    to: IdeaStatus,
    response: &str,
    signature: &str,
) -> Result<idea::Model, AppError> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let (found, _) = get_visible(db, Some(actor), id).await?;
    let from = found.status;
    if !from.staff_next().contains(&to) {
        return Err(AppError::Conflict("errors.idea_transition_not_allowed"));
    }
    let response =
        clean_text(response, RESPONSE_MAX).map_err(|k| AppError::field("response", k))?;
    let approval = from == IdeaStatus::Submitted && to == IdeaStatus::Published;
    if response.is_empty() && !approval {
        return Err(AppError::field("response", "required"));
    }
    let signature = clean_text(signature, SIGNATURE_MAX)
        .ok()
        .filter(|s| !s.contains('\n'))
        .ok_or_else(|| AppError::field("signature", "invalid_characters"))?;
    let signature = (!response.is_empty() && !signature.is_empty()).then_some(signature);
    move_status(db, Some(actor.id), found, from, to, &response, signature).await
}

/// Whether a support was added or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportOutcome {
    pub reached_threshold: bool,
}

/// Support an idea: one per person, counted atomically, idempotent under a
/// double submit (the unique index decides, not a prior read).
pub async fn support(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<SupportOutcome, AppError> {
    let (found, c) = get_visible(db, Some(actor), id).await?;
    // Whether they already support it is decided by the unique index below,
    // not by a prior read, so a double submit cannot count twice.
    may_support(Some(actor), &c, &found, false)?;
    let txn = super::begin_write(db).await?;
    // Write first: on SQLite this takes the write lock at once, so parallel
    // supports queue up instead of failing on a stale read snapshot.
    let inserted = idea_support::Entity::insert(idea_support::ActiveModel {
        idea_id: Set(id),
        user_id: Set(actor.id),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([idea_support::Column::IdeaId, idea_support::Column::UserId])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Err(AppError::Forbidden(Refusal::AlreadySupported));
    }
    idea::Entity::update_many()
        .col_expr(
            idea::Column::SupportCount,
            Expr::col(idea::Column::SupportCount).add(1),
        )
        .filter(idea::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let reached = idea::Entity::update_many()
        .col_expr(
            idea::Column::Status,
            Expr::value(IdeaStatus::AwaitingAnswer),
        )
        .col_expr(idea::Column::UpdatedAt, Expr::value(now()))
        .filter(idea::Column::Id.eq(id))
        .filter(idea::Column::Status.eq(IdeaStatus::Published))
        .filter(idea::Column::SupportCount.gte(c.support_threshold))
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    if reached {
        record_status(
            &txn,
            id,
            Some(IdeaStatus::Published),
            IdeaStatus::AwaitingAnswer,
            None,
            "",
        )
        .await?;
        notifications::idea_status_changed(&txn, &found, IdeaStatus::AwaitingAnswer.as_str(), None)
            .await?;
    }
    notifications::follow(&txn, id, actor.id).await?;
    txn.commit().await?;
    Ok(SupportOutcome {
        reached_threshold: reached,
    })
}

/// Take one's support back.
pub async fn withdraw_support(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<(), AppError> {
    let (_, c) = get_visible(db, Some(actor), id).await?;
    // As with supporting, the delete itself decides whether there was a support.
    may_unsupport(Some(actor), &c, true)?;
    let txn = super::begin_write(db).await?;
    let deleted = idea_support::Entity::delete_many()
        .filter(idea_support::Column::IdeaId.eq(id))
        .filter(idea_support::Column::UserId.eq(actor.id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::Forbidden(Refusal::NotSupported));
    }
    idea::Entity::update_many()
        .col_expr(
            idea::Column::SupportCount,
            Expr::col(idea::Column::SupportCount).sub(1),
        )
        .filter(idea::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn has_supported(
    db: &DatabaseConnection,
    idea_id: i64,
    user_id: i64,
) -> Result<bool, AppError> {
    Ok(idea_support::Entity::find()
        .filter(idea_support::Column::IdeaId.eq(idea_id))
        .filter(idea_support::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

pub async fn follow(db: &DatabaseConnection, actor: &CurrentUser, id: i64) -> Result<(), AppError> {
    get_visible(db, Some(actor), id).await?;
    may_follow(Some(actor))?;
    notifications::follow(db, id, actor.id).await?;
    Ok(())
}

pub async fn unfollow(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<(), AppError> {
    get_visible(db, Some(actor), id).await?;
    notifications::unfollow(db, id, actor.id).await
}

/// The whole status history, oldest first.
pub async fn history(
    db: &DatabaseConnection,
    idea_id: i64,
) -> Result<Vec<idea_status_change::Model>, AppError> {
    Ok(idea_status_change::Entity::find()
        .filter(idea_status_change::Column::IdeaId.eq(idea_id))
        .order_by_asc(idea_status_change::Column::CreatedAt)
        .order_by_asc(idea_status_change::Column::Id)
        .all(db)
        .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Newest,
    MostSupported,
    MostCommented,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Newest, Sort::MostSupported, Sort::MostCommented];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::MostSupported => "most_supported",
            Sort::MostCommented => "most_commented",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub sort: Sort,
    pub status: Option<IdeaStatus>,
    pub category: Option<String>,
    pub search: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// `%`, `_` and `\` in what people type are literal characters, not patterns.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Public ideas of a consultation; returns one page and whether more follow.
pub async fn list(
    db: &DatabaseConnection,
    c: &consultation::Model,
    query: &ListQuery,
) -> Result<(Vec<idea::Model>, bool), AppError> {
    let mut q = idea::Entity::find()
        .filter(idea::Column::ConsultationId.eq(c.id))
        .filter(idea::Column::PublishedAt.is_not_null())
        // A duplicate keeps its supports but is no longer listed.
        .filter(idea::Column::DuplicateOf.is_null());
    q = match query.status {
        Some(s) => q.filter(idea::Column::Status.eq(s)),
        None => q.filter(idea::Column::Status.ne(IdeaStatus::Withdrawn)),
    };
    if let Some(cat) = &query.category {
        q = q.filter(idea::Column::Category.eq(cat.as_str()));
    }
    if let Some(text) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = like_pattern(text);
        q = q.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(idea::Column::Title)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(idea::Column::Body)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    q = match query.sort {
        Sort::Newest => q.order_by_desc(idea::Column::CreatedAt),
        Sort::MostSupported => q.order_by_desc(idea::Column::SupportCount),
        Sort::MostCommented => q.order_by_desc(idea::Column::CommentCount),
    }
    .order_by_desc(idea::Column::Id);
    let limit = query.limit.clamp(1, 100);
    let mut items = q.offset(query.offset).limit(limit + 1).all(db).await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok((items, more))
}

/// Display names for the given user ids (deleted accounts are left out).
pub async fn display_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, AppError> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::DeletedAt.is_null())
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::DisplayName)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// What needs staff attention: ideas awaiting moderation and ideas awaiting
/// the council's answer, oldest first.
pub async fn staff_queue(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    status: IdeaStatus,
) -> Result<Vec<idea::Model>, AppError> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden());
    }
    Ok(idea::Entity::find()
        .filter(idea::Column::Status.eq(status))
        .order_by_asc(idea::Column::UpdatedAt)
        .order_by_asc(idea::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_only_allows_listed_steps() {
        use IdeaStatus::*;
        assert_eq!(Submitted.staff_next(), &[Published, Rejected]);
        assert!(UnderReview.staff_next().contains(&Answered));
        assert!(!Published.staff_next().contains(&Implemented));
        assert!(Implemented.staff_next().is_empty());
        assert!(Withdrawn.staff_next().is_empty());
        for s in IdeaStatus::ALL {
            assert_eq!(IdeaStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn form_checks_lengths_and_category() {
        let cats = vec!["Kryds".to_string()];
        let ok = IdeaForm {
            title: "  Lys på stien  ".into(),
            body: "Tekst".into(),
            category: "Kryds".into(),
            place: "".into(),
        }
        .validate(&cats)
        .unwrap();
        assert_eq!(ok.title, "Lys på stien");
        assert_eq!(ok.place, None);
        let errors = IdeaForm {
            title: "x".repeat(TITLE_MAX + 1),
            body: String::new(),
            category: "Andet".into(),
            place: "p".repeat(PLACE_MAX + 1),
        }
        .validate(&cats)
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field, e.key)).collect();
        assert!(fields.contains(&("title", "too_long")));
        assert!(fields.contains(&("body", "required")));
        assert!(fields.contains(&("category", "invalid_choice")));
        assert!(fields.contains(&("place", "too_long")));
    }

    #[test]
    fn search_text_is_literal() {
        assert_eq!(like_pattern("50%_A\\"), "%50\\%\\_a\\\\%");
    }
}
