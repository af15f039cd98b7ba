//! Complaints ("Klag / få hjælp"), the IT-ombudsman function: a citizen
//! complains about a moderation decision on their own contribution, or asks
//! for help in general; staff take a complaint (received → being handled)
//! and answer it (→ answered). The answer is shown on the citizen's data page
//! and mailed. A complaint about a decision is handled by someone other than
//! the staff member who made the decision ([`may_handle`]).
//!
//! Taking and answering are claimed with conditional updates, so two staff
//! members (or two replicas) cannot both take or both answer one complaint.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::auth::session::CurrentUser;
use crate::domain::MailKind;
use crate::entities::{comment, complaint, idea, moderation_action, statement};
use crate::errors::AppError;
use crate::services::{audit, clean_text, mail, now};

pub const RECEIVED: &str = "received";
pub const HANDLING: &str = "handling";
pub const ANSWERED: &str = "answered";

/// The longest complaint or answer.
pub const MAX_CHARS: usize = 4000;

/// Why a staff member may not handle a complaint (a key under `complaints.`).
pub fn may_handle(staff: &CurrentUser, c: &complaint::Model) -> Result<(), &'static str> {
    if !staff.role.is_staff() {
        return Err("complaints.not_staff");
    }
    if c.decided_by == Some(staff.id) {
        return Err("complaints.own_decision");
    }
    Ok(())
}

/// Whether staff member `staff` may take complaint `c` now.
pub fn may_take(staff: &CurrentUser, c: &complaint::Model) -> Result<(), &'static str> {
    may_handle(staff, c)?;
    if c.status != RECEIVED {
        return Err("complaints.already_taken");
    }
    Ok(())
}

/// Whether staff member `staff` may answer complaint `c` now: the one who
/// took it.
pub fn may_answer(staff: &CurrentUser, c: &complaint::Model) -> Result<(), &'static str> {
    may_handle(staff, c)?;
    if c.status != HANDLING || c.handler_id != Some(staff.id) {
        return Err("complaints.not_yours");
    }
    Ok(())
}

/// The decision `decision_id` if it concerns a contribution of `me`.
pub async fn own_decision(
    db: &DatabaseConnection,
    me: &CurrentUser,
    decision_id: i64,
) -> Result<moderation_action::Model, AppError> {
    let decision = moderation_action::Entity::find_by_id(decision_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let author = match decision.subject_type.as_str() {
        "statement" => statement::Entity::find_by_id(decision.subject_id)
            .one(db)
            .await?
            .and_then(|s| s.created_by),
        "comment" => comment::Entity::find_by_id(decision.subject_id)
            .one(db)
            .await?
            .and_then(|c| c.author_id),
        "idea" => idea::Entity::find_by_id(decision.subject_id)
            .one(db)
            .await?
            .and_then(|i| i.author_id),
        _ => None,
    };
    // Somebody else's decision is as unknown as a missing one.
    if author != Some(me.id) {
        return Err(AppError::NotFound);
    }
    Ok(decision)
}

/// File a complaint (about `decision_id`, or general when `None`).
pub async fn submit(
    db: &DatabaseConnection,
    me: &CurrentUser,
    decision_id: Option<i64>,
    body: &str,
) -> Result<complaint::Model, AppError> {
    let decision = match decision_id {
        Some(id) => Some(own_decision(db, me, id).await?),
        None => None,
    };
    let body = clean_text(body, MAX_CHARS).map_err(|k| AppError::field("body", k))?;
    if body.chars().count() < 10 {
        return Err(AppError::field("body", "required"));
    }
    let at = now();
    let txn = super::begin_write(db).await?;
    let saved = complaint::ActiveModel {
        user_id: Set(me.id),
        decision_id: Set(decision.as_ref().map(|d| d.id)),
        decided_by: Set(decision.as_ref().and_then(|d| d.actor_id)),
        body: Set(body),
        status: Set(RECEIVED.to_owned()),
        handler_id: Set(None),
        answer: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        answered_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(me.id),
        "complaint.received",
        "complaint",
        Some(saved.id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

async fn find(db: &DatabaseConnection, id: i64) -> Result<complaint::Model, AppError> {
    complaint::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Take complaint `id` (received → being handled).
pub async fn take(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    id: i64,
) -> Result<complaint::Model, AppError> {
    let found = find(db, id).await?;
    if !staff.role.is_staff() {
        return Err(AppError::forbidden());
    }
    may_take(staff, &found).map_err(AppError::Conflict)?;
    let txn = super::begin_write(db).await?;
    let claimed = complaint::Entity::update_many()
        .col_expr(complaint::Column::Status, Expr::value(HANDLING))
        .col_expr(complaint::Column::HandlerId, Expr::value(staff.id))
        .col_expr(complaint::Column::UpdatedAt, Expr::value(now()))
        .filter(complaint::Column::Id.eq(id))
        .filter(complaint::Column::Status.eq(RECEIVED))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict("complaints.already_taken"));
    }
    audit::record(
        &txn,
        Some(staff.id),
        "complaint.taken",
        "complaint",
        Some(id),
        "",
    )
    .await?;
    txn.commit().await?;
    find(db, id).await
}

/// Answer complaint `id` (being handled → answered); the citizen is mailed.
pub async fn answer(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    id: i64,
    text: &str,
) -> Result<complaint::Model, AppError> {
    let found = find(db, id).await?;
    if !staff.role.is_staff() {
        return Err(AppError::forbidden());
    }
    may_answer(staff, &found).map_err(AppError::Conflict)?;
    let text = clean_text(text, MAX_CHARS).map_err(|k| AppError::field("answer", k))?;
    if text.is_empty() {
        return Err(AppError::field("answer", "required"));
    }
    let at = now();
    let txn = super::begin_write(db).await?;
    let claimed = complaint::Entity::update_many()
        .col_expr(complaint::Column::Status, Expr::value(ANSWERED))
        .col_expr(complaint::Column::Answer, Expr::value(text.clone()))
        .col_expr(complaint::Column::AnsweredAt, Expr::value(at))
        .col_expr(complaint::Column::UpdatedAt, Expr::value(at))
        .filter(complaint::Column::Id.eq(id))
        .filter(complaint::Column::Status.eq(HANDLING))
        .filter(complaint::Column::HandlerId.eq(staff.id))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict("complaints.not_yours"));
    }
    mail::enqueue(
        &txn,
        found.user_id,
        MailKind::ComplaintAnswered,
        &serde_json::json!({ "complaint_id": id, "answer": text }),
    )
    .await?;
    audit::record(
        &txn,
        Some(staff.id),
        "complaint.answered",
        "complaint",
        Some(id),
        "",
    )
    .await?;
    txn.commit().await?;
    find(db, id).await
}

/// The complaints of `me`, newest first.
pub async fn of_user(
    db: &DatabaseConnection,
    me: &CurrentUser,
) -> Result<Vec<complaint::Model>, AppError> {
    Ok(complaint::Entity::find()
        .filter(complaint::Column::UserId.eq(me.id))
        .order_by_desc(complaint::Column::Id)
        .all(db)
        .await?)
}

/// The staff queue: open complaints first (oldest first), then answered.
pub async fn queue(
    db: &DatabaseConnection,
    staff: &CurrentUser,
) -> Result<Vec<complaint::Model>, AppError> {
    if !staff.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let mut all = complaint::Entity::find()
        .order_by_asc(complaint::Column::Id)
        .all(db)
        .await?;
    all.sort_by_key(|c| c.status == ANSWERED);
    Ok(all)
}
