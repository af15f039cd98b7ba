//! Agree / disagree / pass on statements. The current vote per participant
//! and statement is unique; every vote that changes something is also
//! appended to the history. Repeating the same vote changes nothing.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::session::CurrentUser;
use crate::domain::Refusal;
use crate::entities::{consultation, statement, vote, vote_history};
use crate::errors::AppError;
use crate::opinion::VoteValue;

use super::participants::{self, Visitor};
use super::statements::StatementStatus;
use super::{eligibility, now};

/// The form's `vote` field.
pub fn parse_choice(raw: &str) -> Option<VoteValue> {
    match raw {
        "agree" => Some(VoteValue::Agree),
        "disagree" => Some(VoteValue::Disagree),
        "pass" => Some(VoteValue::Pass),
        _ => None,
    }
}

pub fn choice_name(v: VoteValue) -> &'static str {
    match v {
        VoteValue::Agree => "agree",
        VoteValue::Disagree => "disagree",
        VoteValue::Pass => "pass",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteOutcome {
    pub participant_id: i64,
    /// False when the same vote was already counted (a repeated POST).
    pub changed: bool,
}

/// May `viewer` vote in `c`'s conversation? The voting page shows the buttons
/// exactly when this is `Ok`.
pub fn may_vote(viewer: Option<&CurrentUser>, c: &consultation::Model) -> Result<(), Refusal> {
    eligibility::may_join_conversation(c, viewer)
}

/// Cast (or change) a vote on statement `statement_id` of consultation `c`.
pub async fn cast(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
    statement_id: i64,
    value: VoteValue,
) -> Result<VoteOutcome, AppError> {
    may_vote(visitor.user.as_ref(), c)?;
    let s = statement::Entity::find_by_id(statement_id)
        .filter(statement::Column::ConsultationId.eq(c.id))
        .one(db)
        .await?
        .ok_or(AppError::Conflict("errors.statement_not_in_consultation"))?;
    match s.status {
        StatementStatus::Accepted => {}
        StatementStatus::Rejected => {
            return Err(AppError::Conflict("errors.statement_rejected"));
        }
        StatementStatus::Pending => return Err(AppError::Conflict("errors.statement_pending")),
    }
    let participant = participants::find_or_create(db, c, visitor).await?;
    let changed = record(db, c.id, s.id, participant.id, value, now()).await?;
    crate::metrics::vote_cast(changed);
    Ok(VoteOutcome {
        participant_id: participant.id,
        changed,
    })
}

/// Upsert the current vote and, if it changed, append it to the history, in
/// one transaction. The conditional upsert makes concurrent double submits
/// count once on both databases.
pub(crate) async fn record(
    db: &DatabaseConnection,
    consultation_id: i64,
    statement_id: i64,
    participant_id: i64,
    value: VoteValue,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AppError> {
    let v = value as i16;
    let txn = super::begin_write(db).await?;
    let upsert = Query::insert()
        .into_table(vote::Entity)
        .columns([
            vote::Column::ConsultationId,
            vote::Column::StatementId,
            vote::Column::ParticipantId,
            vote::Column::Value,
            vote::Column::UpdatedAt,
        ])
        .values([
            consultation_id.into(),
            statement_id.into(),
            participant_id.into(),
            v.into(),
            at.into(),
        ])
        .map_err(|e| anyhow::anyhow!("building the vote insert: {e}"))?
        .on_conflict(
            OnConflict::columns([vote::Column::StatementId, vote::Column::ParticipantId])
                .update_columns([vote::Column::Value, vote::Column::UpdatedAt])
                .action_and_where(ExprTrait::ne(
                    Expr::col((vote::Entity, vote::Column::Value)),
                    v,
                ))
                .to_owned(),
        )
        .to_owned();
    let changed = txn.execute(&upsert).await?.rows_affected() > 0;
    if changed {
        vote_history::Entity::insert(vote_history::ActiveModel {
            consultation_id: Set(consultation_id),
            statement_id: Set(statement_id),
            participant_id: Set(participant_id),
            value: Set(v),
            cast_at: Set(at),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// The participant's current votes in a consultation: statement id → value.
pub async fn of_participant(
    db: &impl ConnectionTrait,
    participant_id: i64,
) -> Result<std::collections::HashMap<i64, VoteValue>, AppError> {
    Ok(vote::Entity::find()
        .filter(vote::Column::ParticipantId.eq(participant_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|v| VoteValue::from_i64(i64::from(v.value)).map(|x| (v.statement_id, x)))
        .collect())
}
