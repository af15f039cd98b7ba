//! The audit log: who did what to which record, and when. Written in the same
//! transaction as the change it describes.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entities::audit_log;

pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor_id: Option<i64>,
    action: &str,
    subject_type: &str,
    subject_id: Option<i64>,
    detail: &str,
) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel {
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(subject_id),
        detail: Set(detail.to_owned()),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
