//! Consultation-scoped pseudonyms: a person gets one `participants` row per
//! consultation, so the exports of two consultations cannot be linked.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::auth::session::CurrentUser;
use crate::entities::{consultation, participant};
use crate::errors::AppError;

use super::now;
use super::rate_limits::{self, Client};

/// The person behind a request: a logged-in user, or an anonymous visitor
/// identified by the random token in their (signed, encrypted) session cookie.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    pub user: Option<CurrentUser>,
    pub anon_token: Option<String>,
    /// Where a web request came from: new anonymous participants from one
    /// client are limited. `None` for work that is no request (imports).
    pub client: Option<Client>,
}

/// Statistics bucket: attempts to become a new participant that the limit
/// turned away, per consultation, kept a day for the staff page.
const REFUSED: &str = "participants.refused";

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
///
/// A cookie is free, so anonymous participants are limited per client and
/// consultation (`new_participants_per_hour`, else the server default); a
/// refusal is a 429, counted for the staff page, and leaves every existing
/// participant and vote as it was. Logged-in people are limited where their
/// accounts are made.
pub async fn find_or_create(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
) -> Result<participant::Model, AppError> {
    let consultation_id = c.id;
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
    let insert = participant::Entity::insert(row).on_conflict(
        OnConflict::columns([participant::Column::ConsultationId, conflict])
            .do_nothing()
            .to_owned(),
    );
    match (&visitor.user, &visitor.client) {
        (None, Some(client)) => {
            let limit = client.limits.new_participants(c.new_participants_per_hour);
            let key = client.key("participants.new", &consultation_id.to_string());
            // The slot and the row in one transaction, the slot first: new
            // participants of one client and consultation are made one at a
            // time, so a double click (two first requests of one visitor)
            // never counts twice and concurrent newcomers never overshoot.
            let attempt = rate_limits::prepare(db, limit, &key).await?;
            let txn = super::begin_write(db).await?;
            match rate_limits::try_take(&txn, &attempt).await? {
                Ok(slot) => {
                    if insert.exec_without_returning(&txn).await? == 0 {
                        // The same visitor's other request made it first.
                        rate_limits::give_back(&txn, &slot).await?;
                    }
                    txn.commit().await?;
                }
                Err(refused) => {
                    txn.rollback().await?;
                    // The same visitor's other request took the last slot.
                    if let Some(p) = find(db, consultation_id, visitor).await? {
                        return Ok(p);
                    }
                    rate_limits::record(db, REFUSED, &consultation_id.to_string(), 24).await?;
                    return Err(rate_limits::too_many(refused));
                }
            }
        }
        _ => {
            insert.exec_without_returning(db).await?;
        }
    }
    find(db, consultation_id, visitor)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("participant row missing")))
}

/// How a consultation's participation looks lately, for staff: new
/// participants in the last hour, and attempts the limit turned away in the
/// last 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RecentParticipation {
    pub new_last_hour: u64,
    pub refused_last_day: i64,
}

pub async fn recent(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<RecentParticipation, AppError> {
    use sea_orm::PaginatorTrait;
    let new_last_hour = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(consultation_id))
        .filter(participant::Column::CreatedAt.gt(now() - chrono::Duration::hours(1)))
        .count(db)
        .await?;
    let refused_last_day =
        rate_limits::recorded(db, REFUSED, &consultation_id.to_string(), 24).await?;
    Ok(RecentParticipation {
        new_last_hour,
        refused_last_day,
    })
}
