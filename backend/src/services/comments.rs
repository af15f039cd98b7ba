//! Comments on ideas: threaded replies up to three levels, editable by the
//! author for 15 minutes, deletable by the author (the text goes, the place
//! in the thread stays), flagged by citizens and hidden automatically once
//! enough different people flag it, until a moderator decides.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TryInsertResult,
};

use crate::auth::session::CurrentUser;
pub use crate::domain::CommentStatus;
use crate::domain::Refusal;
use crate::entities::{comment, comment_flag, consultation, idea};
use crate::errors::AppError;

use super::ideas::{self, IdeaStatus};
use super::{audit, clean_text, eligibility, moderation, now};

pub const BODY_MAX: usize = 2_000;
pub const REASON_MAX: usize = 500;
pub const MAX_DEPTH: i32 = 3;
pub const EDIT_MINUTES: i64 = 15;

fn valid_body(body: &str) -> Result<String, AppError> {
    let body = clean_text(body, BODY_MAX).map_err(|k| AppError::field("body", k))?;
    if body.is_empty() {
        return Err(AppError::field("body", "required"));
    }
    Ok(body)
}

fn valid_reason(reason: &str) -> Result<String, AppError> {
    let reason = clean_text(reason, REASON_MAX).map_err(|k| AppError::field("reason", k))?;
    if reason.is_empty() {
        return Err(AppError::field("reason", "required"));
    }
    Ok(reason)
}

/// A comment and its idea and consultation, if `viewer` may see the idea.
pub async fn get_visible(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    id: i64,
) -> Result<(comment::Model, idea::Model, consultation::Model), AppError> {
    let found = comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (idea, c) = ideas::get_visible(db, viewer, found.idea_id).await?;
    Ok((found, idea, c))
}

/// May `viewer` comment on `idea` (a reply to `parent` when given)? The idea
/// page offers the comment form and each reply link exactly when this is `Ok`.
pub fn may_comment(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    idea: &idea::Model,
    parent: Option<&comment::Model>,
) -> Result<(), Refusal> {
    if idea.published_at.is_none() {
        return Err(Refusal::IdeaNotPublic);
    }
    if idea.status == IdeaStatus::Withdrawn {
        return Err(Refusal::IdeaWithdrawn);
    }
    if let Some(parent) = parent {
        if parent.status != CommentStatus::Visible {
            return Err(Refusal::ReplyToRemoved);
        }
        if parent.depth >= MAX_DEPTH {
            return Err(Refusal::ReplyTooDeep);
        }
    }
    eligibility::check(viewer.ok_or(Refusal::LoginRequired)?, c)
}

/// May `viewer` edit the comment? The author, for `EDIT_MINUTES` after writing it.
pub fn may_edit(
    viewer: Option<&CurrentUser>,
    c: &consultation::Model,
    found: &comment::Model,
) -> Result<(), Refusal> {
    let actor = viewer.ok_or(Refusal::LoginRequired)?;
    if found.author_id != Some(actor.id) {
        return Err(Refusal::NotAuthor);
    }
    eligibility::check(actor, c)?;
    if found.status != CommentStatus::Visible
        || now() - found.created_at > chrono::Duration::minutes(EDIT_MINUTES)
    {
        return Err(Refusal::CommentNotEditable);
    }
    Ok(())
}

/// May `viewer` delete the comment? The author, whatever the consultation's state:
/// taking one's own words back is always possible.
pub fn may_delete(viewer: Option<&CurrentUser>, found: &comment::Model) -> Result<(), Refusal> {
    let actor = viewer.ok_or(Refusal::LoginRequired)?;
    if found.author_id != Some(actor.id) {
        return Err(Refusal::NotAuthor);
    }
    if found.status == CommentStatus::Deleted {
        return Err(Refusal::CommentAlreadyDeleted);
    }
    Ok(())
}

/// May `viewer` flag the comment for moderation? Anyone logged in but its author.
pub fn may_flag(viewer: Option<&CurrentUser>, found: &comment::Model) -> Result<(), Refusal> {
    let actor = viewer.ok_or(Refusal::LoginRequired)?;
    if found.author_id == Some(actor.id) {
        return Err(Refusal::CannotFlagOwn);
    }
    if found.status != CommentStatus::Visible {
        return Err(Refusal::CommentNotFlaggable);
    }
    Ok(())
}

/// May `viewer` hide or restore the comment? Staff, unless the author deleted it.
pub fn may_moderate(viewer: Option<&CurrentUser>, found: &comment::Model) -> Result<(), Refusal> {
    let actor = viewer.ok_or(Refusal::LoginRequired)?;
    if !actor.role.is_staff() {
        return Err(Refusal::NotAllowed);
    }
    if found.status == CommentStatus::Deleted {
        return Err(Refusal::CommentAlreadyDeleted);
    }
    Ok(())
}

/// Write a comment on an idea, or a reply to `parent_id`.
pub async fn create(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    idea_id: i64,
    parent_id: Option<i64>,
    body: &str,
) -> Result<comment::Model, AppError> {
    let (found, c) = ideas::get_visible(db, Some(actor), idea_id).await?;
    let parent = match parent_id {
        None => None,
        Some(pid) => Some(
            comment::Entity::find_by_id(pid)
                .one(db)
                .await?
                .filter(|p| p.idea_id == idea_id)
                .ok_or(AppError::NotFound)?,
        ),
    };
    may_comment(Some(actor), &c, &found, parent.as_ref())?;
    let parent_author = parent.as_ref().and_then(|p| p.author_id);
    let depth = parent.map_or(1, |p| p.depth + 1);
    let body = valid_body(body)?;
    // Personal data other than a CPR number (masked already) keeps the
    // comment hidden until a moderator has looked at it.
    let held = crate::domain::personal_data::needs_review(&body);
    let txn = super::begin_write(db).await?;
    let model = comment::ActiveModel {
        idea_id: Set(idea_id),
        parent_id: Set(parent_id),
        author_id: Set(Some(actor.id)),
        depth: Set(depth),
        body: Set(body),
        status: Set(if held {
            CommentStatus::Hidden
        } else {
            CommentStatus::Visible
        }),
        flag_count: Set(0),
        moderated: Set(false),
        created_at: Set(now()),
        edited_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idea::Entity::update_many()
        .col_expr(
            idea::Column::CommentCount,
            Expr::col(idea::Column::CommentCount).add(1),
        )
        .filter(idea::Column::Id.eq(idea_id))
        .exec(&txn)
        .await?;
    if let Some(parent_author) = parent_author {
        super::notifications::comment_replied(&txn, parent_author, &model, &found.title).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// The comment as its author may edit it (for the edit form).
pub async fn get_for_edit(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<(comment::Model, idea::Model), AppError> {
    let (found, idea, c) = get_visible(db, Some(actor), id).await?;
    may_edit(Some(actor), &c, &found)?;
    Ok((found, idea))
}

pub async fn edit(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    body: &str,
) -> Result<comment::Model, AppError> {
    let (found, _) = get_for_edit(db, actor, id).await?;
    let body = valid_body(body)?;
    let held = crate::domain::personal_data::needs_review(&body);
    let mut active: comment::ActiveModel = found.into();
    if held {
        // Back to the moderators, as a new comment with personal data would be.
        active.status = Set(CommentStatus::Hidden);
        active.moderated = Set(false);
    }
    active.body = Set(body);
    active.edited_at = Set(Some(now()));
    Ok(active.update(db).await?)
}

/// The author removes their text; the comment keeps its place in the thread.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
) -> Result<comment::Model, AppError> {
    let (found, _, _) = get_visible(db, Some(actor), id).await?;
    may_delete(Some(actor), &found)?;
    let txn = super::begin_write(db).await?;
    let mut active: comment::ActiveModel = found.into();
    active.body = Set(String::new());
    active.status = Set(CommentStatus::Deleted);
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor.id),
        "comment.deleted",
        "comment",
        Some(id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Flag a comment. Once `comment_flag_threshold` different people have
/// flagged it, it is hidden until a moderator decides.
pub async fn flag(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    reason: &str,
) -> Result<bool, AppError> {
    let (found, _, c) = get_visible(db, Some(actor), id).await?;
    may_flag(Some(actor), &found)?;
    let reason = valid_reason(reason)?;
    let txn = super::begin_write(db).await?;
    let inserted = comment_flag::Entity::insert(comment_flag::ActiveModel {
        comment_id: Set(id),
        user_id: Set(actor.id),
        reason: Set(reason),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        comment_flag::Column::CommentId,
        comment_flag::Column::UserId,
    ])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Err(AppError::Forbidden(Refusal::AlreadyFlagged));
    }
    comment::Entity::update_many()
        .col_expr(
            comment::Column::FlagCount,
            Expr::col(comment::Column::FlagCount).add(1),
        )
        .filter(comment::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let hidden = comment::Entity::update_many()
        .col_expr(
            comment::Column::Status,
            Expr::value(CommentStatus::Hidden.as_str()),
        )
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::Status.eq(CommentStatus::Visible))
        .filter(comment::Column::Moderated.eq(false))
        .filter(comment::Column::FlagCount.gte(c.comment_flag_threshold))
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    if hidden {
        moderation::record(
            &txn,
            None,
            "comment",
            id,
            "auto_hide",
            &format!("flagged by {} people", c.comment_flag_threshold),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(hidden)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Hide,
    Restore,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hide" => Some(Decision::Hide),
            "restore" => Some(Decision::Restore),
            _ => None,
        }
    }
}

/// A moderator hides or restores a comment, with a reason that is recorded.
pub async fn moderate(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<comment::Model, AppError> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let (found, _, _) = get_visible(db, Some(actor), id).await?;
    may_moderate(Some(actor), &found)?;
    let (from, to, action) = match decision {
        Decision::Hide => (CommentStatus::Visible, CommentStatus::Hidden, "hide"),
        Decision::Restore => (CommentStatus::Hidden, CommentStatus::Visible, "restore"),
    };
    if found.status != from {
        return Err(AppError::Conflict("errors.moderation_not_possible"));
    }
    let reason = valid_reason(reason)?;
    let txn = super::begin_write(db).await?;
    let res = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(to.as_str()))
        .col_expr(comment::Column::Moderated, Expr::value(true))
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::Conflict("errors.moderation_not_possible"));
    }
    moderation::record(&txn, Some(actor.id), "comment", id, action, &reason).await?;
    txn.commit().await?;
    comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// All comments of an idea in thread order (each reply right after its
/// parent). Text of hidden and deleted comments is the caller's to withhold.
pub async fn thread(
    db: &DatabaseConnection,
    idea_id: i64,
) -> Result<Vec<comment::Model>, AppError> {
    let all = comment::Entity::find()
        .filter(comment::Column::IdeaId.eq(idea_id))
        .order_by_asc(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?;
    Ok(thread_order(all))
}

fn thread_order(all: Vec<comment::Model>) -> Vec<comment::Model> {
    fn push(
        parent: Option<i64>,
        all: &[comment::Model],
        out: &mut Vec<comment::Model>,
        guard: usize,
    ) {
        if guard > MAX_DEPTH as usize + 1 {
            return;
        }
        for c in all.iter().filter(|c| c.parent_id == parent) {
            out.push(c.clone());
            push(Some(c.id), all, out, guard + 1);
        }
    }
    let mut out = Vec::with_capacity(all.len());
    push(None, &all, &mut out, 0);
    out
}

/// Comments hidden by flags that wait for a moderator's decision.
pub async fn awaiting_moderation(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<Vec<comment::Model>, AppError> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden());
    }
    Ok(comment::Entity::find()
        .filter(comment::Column::Status.eq(CommentStatus::Hidden))
        .filter(comment::Column::Moderated.eq(false))
        .order_by_asc(comment::Column::CreatedAt)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, parent: Option<i64>) -> comment::Model {
        comment::Model {
            id,
            idea_id: 1,
            parent_id: parent,
            author_id: None,
            depth: 1,
            body: String::new(),
            status: CommentStatus::Visible,
            flag_count: 0,
            moderated: false,
            created_at: now(),
            edited_at: None,
        }
    }

    #[test]
    fn replies_follow_their_parent() {
        let ordered = thread_order(vec![c(1, None), c(2, None), c(3, Some(1)), c(4, Some(3))]);
        let ids: Vec<_> = ordered.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![1, 3, 4, 2]);
    }
}
