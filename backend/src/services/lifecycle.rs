//! Moving a consultation through its life cycle (draft → open → closed →
//! published → archived) with everything a step sets off: the audit entry,
//! mails to followers, and the final opinion snapshot on closing. Kept apart
//! from `consultations` (which only stores and finds them) so that the
//! services a step calls on never need to call back.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::AppError;

use super::consultations::{Status, require_staff};
use super::{audit, now};

/// Move a consultation to its next state, if the life cycle allows it.
pub async fn transition(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    to: Status,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    let txn = super::begin_write(db).await?;
    let existing = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(slug))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = existing.status;
    if !from.next().contains(&to) {
        return Err(AppError::Conflict("errors.transition_not_allowed"));
    }
    let at = now();
    let id = existing.id;
    let mut active = existing.into_active_model();
    active.status = Set(to);
    active.updated_at = Set(at);
    match to {
        Status::Open => active.opens_at = Set(Some(at)),
        Status::Closed => active.closes_at = Set(Some(at)),
        Status::Published => active.published_at = Set(Some(at)),
        Status::Draft | Status::Archived => {}
    }
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor.id),
        "consultation.status_changed",
        "consultation",
        Some(id),
        &format!("{} -> {}", from.as_str(), to.as_str()),
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
    Ok(updated)
}
