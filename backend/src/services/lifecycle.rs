//! Moving a consultation through its life cycle (draft → open → closed →
//! published → archived) with everything a step sets off: the audit entry,
//! mails to followers, and the final opinion snapshot on closing. Kept apart
//! from `consultations` (which only stores and finds them) so that the
//! services a step calls on never need to call back.
//!
//! Staff buttons and the scheduler (`jobs::scheduler`) go through the same
//! [`apply`], so an automatic closing has exactly the effects of a manual one.
//! Each step is claimed with a conditional update (`… WHERE id = ? AND status
//! = from`) in the transaction of its effects: of several replicas trying the
//! same step at once, exactly one changes the row and sends the mails.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::AppError;

use super::consultations::{Status, require_staff};
use super::{audit, now};

/// Who asked for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A member of staff pressed the button: the step happens now, and the
    /// opening or closing time becomes the actual one.
    Staff(i64),
    /// The scheduler, at the time planned by staff (kept as planned).
    Scheduler,
}

/// Move a consultation to its next state, if the life cycle allows it.
pub async fn transition(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    to: Status,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    let existing = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    apply(db, Actor::Staff(actor.id), &existing, to, now())
        .await?
        // Someone (or the scheduler) moved it first.
        .ok_or(AppError::Conflict("errors.transition_not_allowed"))
}

/// One step from `existing.status` to `to` at `at`. `Ok(None)` when the row
/// was no longer in `existing.status` (another replica or person took the
/// step first): nothing was changed or sent.
pub async fn apply(
    db: &DatabaseConnection,
    actor: Actor,
    existing: &consultation::Model,
    to: Status,
    at: DateTime<Utc>,
) -> Result<Option<consultation::Model>, AppError> {
    let from = existing.status;
    if !from.next().contains(&to) {
        return Err(AppError::Conflict("errors.transition_not_allowed"));
    }
    let txn = super::begin_write(db).await?;
    let mut update = consultation::Entity::update_many()
        .col_expr(consultation::Column::Status, Expr::value(to))
        .col_expr(consultation::Column::UpdatedAt, Expr::value(at));
    let staff = matches!(actor, Actor::Staff(_));
    match to {
        Status::Open if staff || existing.opens_at.is_none() => {
            update = update.col_expr(consultation::Column::OpensAt, Expr::value(Some(at)));
        }
        Status::Closed if staff || existing.closes_at.is_none() => {
            update = update.col_expr(consultation::Column::ClosesAt, Expr::value(Some(at)));
        }
        Status::Published => {
            update = update.col_expr(consultation::Column::PublishedAt, Expr::value(Some(at)));
        }
        _ => {}
    }
    let claimed = update
        .filter(consultation::Column::Id.eq(existing.id))
        .filter(consultation::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let updated = consultation::Entity::find_by_id(existing.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let (actor_id, detail) = match actor {
        Actor::Staff(id) => (Some(id), format!("{} -> {}", from.as_str(), to.as_str())),
        Actor::Scheduler => (
            None,
            format!("{} -> {} (scheduled)", from.as_str(), to.as_str()),
        ),
    };
    audit::record(
        &txn,
        actor_id,
        "consultation.status_changed",
        "consultation",
        Some(existing.id),
        &detail,
    )
    .await?;
    if matches!(to, Status::Open | Status::Closed | Status::Published) {
        super::notifications::consultation_status_changed(&txn, &updated, to.as_str()).await?;
    }
    txn.commit().await?;
    // Deliberation: closing stores the final, cold opinion snapshot
    // that the report and exports use. A failure must not undo the closing:
    // it is logged and the recompute worker retries it.
    if to == Status::Closed && updated.has_conversation {
        let final_run = super::snapshots::recompute(
            db,
            updated.id,
            super::snapshots::Kind::Final,
            super::snapshots::LockMode::Wait,
        );
        if let Err(e) = final_run.await {
            tracing::error!(consultation = updated.id, error = %e, "final opinion recompute failed");
        }
    }
    Ok(Some(updated))
}

/// Mail the followers of an open consultation that its deadline is near,
/// once: the reminder is claimed with a conditional update in the
/// transaction that queues the mails. `Ok(false)` when it was already sent
/// (or the consultation is no longer open).
pub async fn send_reminder(
    db: &DatabaseConnection,
    c: &consultation::Model,
    at: DateTime<Utc>,
) -> Result<bool, AppError> {
    let txn = super::begin_write(db).await?;
    let claimed = consultation::Entity::update_many()
        .col_expr(consultation::Column::ReminderSentAt, Expr::value(Some(at)))
        .filter(consultation::Column::Id.eq(c.id))
        .filter(consultation::Column::Status.eq(Status::Open))
        .filter(consultation::Column::ReminderSentAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    super::notifications::consultation_status_changed(&txn, c, "reminder").await?;
    audit::record(
        &txn,
        None,
        "consultation.reminder_sent",
        "consultation",
        Some(c.id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}
