//! Consultation-scoped pseudonyms: a person gets one `participants` row per
//! consultation, so the exports of two consultations cannot be linked.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::auth::session::CurrentUser;
use crate::entities::participant;
use crate::errors::AppError;

use super::now;

/// The person behind a request: a logged-in user, or an anonymous visitor
/// identified by the random token in their (signed, encrypted) session cookie.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    pub user: Option<CurrentUser>,
    pub anon_token: Option<String>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(format!("samskab-participant-v1:{token}")))
}

fn filter(consultation_id: i64, visitor: &Visitor) -> Option<sea_orm::Select<participant::Entity>> {
    let q =
        participant::Entity::find().filter(participant::Column::ConsultationId.eq(consultation_id));
    match (&visitor.user, &visitor.anon_token) {
        (Some(u), _) => Some(q.filter(participant::Column::UserId.eq(u.id))),
        (None, Some(t)) => Some(q.filter(participant::Column::AnonTokenHash.eq(hash_token(t)))),
        (None, None) => None,
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    visitor: &Visitor,
) -> Result<Option<participant::Model>, AppError> {
    match filter(consultation_id, visitor) {
        Some(q) => Ok(q.one(db).await?),
        None => Ok(None),
    }
}

/// The visitor's participant row, created on first use. Safe under concurrent
/// first requests: the insert ignores the unique-index conflict.
pub async fn find_or_create(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    visitor: &Visitor,
) -> Result<participant::Model, AppError> {
    if let Some(p) = find(db, consultation_id, visitor).await? {
        return Ok(p);
    }
    let (user_id, token_hash, conflict) = match (&visitor.user, &visitor.anon_token) {
        (Some(u), _) => (Some(u.id), None, participant::Column::UserId),
        (None, Some(t)) => (
            None,
            Some(hash_token(t)),
            participant::Column::AnonTokenHash,
        ),
        (None, None) => return Err(AppError::forbidden()),
    };
    let row = participant::ActiveModel {
        consultation_id: Set(consultation_id),
        user_id: Set(user_id),
        anon_token_hash: Set(token_hash),
        external_id: Set(None),
        created_at: Set(now()),
        ..Default::default()
    };
    participant::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([participant::Column::ConsultationId, conflict])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find(db, consultation_id, visitor)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("participant row missing")))
}
