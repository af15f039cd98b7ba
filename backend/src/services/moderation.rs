//! The moderation record: every decision about content (who, what, why,
//! when), in the same transaction as the decision itself. `actor_id` is None
//! when the system acted (a comment hidden after enough flags).

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entities::moderation_action;

pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor_id: Option<i64>,
    subject_type: &str,
    subject_id: i64,
    action: &str,
    reason: &str,
) -> Result<(), sea_orm::DbErr> {
    moderation_action::ActiveModel {
        actor_id: Set(actor_id),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(subject_id),
        action: Set(action.to_owned()),
        reason: Set(reason.to_owned()),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
