//! Agree / disagree / pass on statements. The current vote per participant
//! and statement is unique; every vote that changes something is also
//! appended to the history. Repeating the same vote changes nothing.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::session::CurrentUser;
use crate::domain::Refusal;
use crate::entities::{consultation, participant, statement, vote, vote_history};
use crate::errors::AppError;
use crate::opinion::VoteValue;

use super::eligibility::VotingEligibility;
use super::participants::{self, Visitor};
use super::statements::StatementStatus;
use super::vote_batches::{KnownVote, VOTE_COLUMNS, Where, Who, changes_only, history_row};
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

/// Cast (or change) a vote on statement `statement_id` of the conversation
/// behind `slug`, as the vote POST does.
///
/// The common case, a known participant changing or adding a vote on an
/// accepted statement of an open conversation that anyone (or, for a
/// logged-in voter, any logged-in person) may vote in, is written together
/// with the votes of concurrent requests (`vote_batches`): one statement on
/// PostgreSQL, one IMMEDIATE transaction on SQLite, however many votes
/// arrived together. The batch checks the consultation (by its slug: open,
/// with a conversation, its voting rule), the statement's consultation and
/// status and finds the participant; a vote that repeats the current one is
/// answered from there too. When the rules do not let it write (another
/// voting rule, a new participant, a statement that is not open for votes),
/// or a repeated vote came alone, the consultation is read and [`cast`]
/// finds out why and answers as before.
pub async fn cast_in(
    db: &DatabaseConnection,
    slug: &str,
    visitor: &Visitor,
    statement_id: i64,
    value: VoteValue,
) -> Result<VoteOutcome, AppError> {
    let at = now();
    // A MitID login mostly votes where a verified identity is required, which
    // depends on rules the upsert does not check: it goes the long way.
    let open_scope = match &visitor.user {
        None => Some(Where::OpenBySlug {
            slug: slug.to_owned(),
            logged_in_rule_met: false,
        }),
        Some(u) if !u.has_identity => Some(Where::OpenBySlug {
            slug: slug.to_owned(),
            logged_in_rule_met: !u.email_unverified,
        }),
        Some(_) => None,
    };
    let fast = open_scope.is_some();
    if let Some(scope) = open_scope
        && let Some(outcome) = record_known(db, scope, visitor, statement_id, value, at).await?
    {
        return Ok(outcome);
    }
    let c = super::statements::conversation(db, visitor.user.as_ref(), slug).await?;
    // The same upsert with the consultation's id would find what the one
    // above found, unless the voting rule is one the upsert leaves to `may_vote`.
    let tried = fast
        && match c.voting_eligibility {
            VotingEligibility::Anyone => true,
            VotingEligibility::LoggedIn => visitor.user.is_some(),
            VotingEligibility::Verified => false,
        };
    cast_at(db, &c, visitor, statement_id, value, at, !tried).await
}

/// Cast (or change) a vote on statement `statement_id` of consultation `c`
/// (see [`cast_in`]).
pub async fn cast(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
    statement_id: i64,
    value: VoteValue,
) -> Result<VoteOutcome, AppError> {
    cast_at(db, c, visitor, statement_id, value, now(), true).await
}

async fn cast_at(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
    statement_id: i64,
    value: VoteValue,
    at: chrono::DateTime<chrono::Utc>,
    try_known: bool,
) -> Result<VoteOutcome, AppError> {
    may_vote(visitor.user.as_ref(), c)?;
    if try_known
        && let Some(outcome) = record_known(
            db,
            Where::Consultation(c.id),
            visitor,
            statement_id,
            value,
            at,
        )
        .await?
    {
        return Ok(outcome);
    }
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
    let changed = record(db, c.id, s.id, participant.id, value, at).await?;
    crate::metrics::vote_cast(changed);
    Ok(VoteOutcome {
        participant_id: participant.id,
        changed,
    })
}

/// The fast path of [`cast_in`] and [`cast`]: the upsert takes the
/// participant from the visitor's row and only an accepted statement of the
/// consultation. The outcome when the rules let the vote be written (a
/// changed vote has its history row, written in the same statement or
/// transaction); `None` when they do not, for whatever reason, and for a
/// repeated vote written alone (see `vote_batches::write`). Written together
/// with the votes of concurrent requests.
async fn record_known(
    db: &DatabaseConnection,
    scope: Where,
    visitor: &Visitor,
    statement_id: i64,
    value: VoteValue,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<VoteOutcome>, AppError> {
    let who = match (&visitor.user, &visitor.anon_token) {
        (Some(u), _) => Who::User(u.id),
        (None, Some(t)) => Who::Token(participants::hash_token(t)),
        (None, None) => return Ok(None),
    };
    let vote = KnownVote {
        scope,
        who,
        statement_id,
        value: value as i16,
        at,
    };
    let Some(written) = super::vote_batches::write(db, vote).await? else {
        return Ok(None);
    };
    crate::metrics::vote_cast(written.changed);
    Ok(Some(VoteOutcome {
        participant_id: written.participant_id,
        changed: written.changed,
    }))
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
        .columns(VOTE_COLUMNS)
        .values([
            consultation_id.into(),
            statement_id.into(),
            participant_id.into(),
            v.into(),
            at.into(),
        ])
        .map_err(|e| anyhow::anyhow!("building the vote insert: {e}"))?
        .on_conflict(changes_only())
        .to_owned();
    let changed = txn.execute(&upsert).await?.rows_affected() > 0;
    if changed {
        vote_history::Entity::insert(history_row(
            consultation_id,
            statement_id,
            participant_id,
            v,
            at,
        ))
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

/// The visitor's participant id in consultation `consultation_id` and their
/// current votes there (statement id → value), in one query; `None` when the
/// visitor has no participant there yet. The pages of a returning voter ask
/// this on every view.
pub async fn of_visitor(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    visitor: &Visitor,
) -> Result<Option<(i64, std::collections::HashMap<i64, VoteValue>)>, AppError> {
    let who = match (&visitor.user, &visitor.anon_token) {
        (Some(u), _) => Expr::col((participant::Entity, participant::Column::UserId)).eq(u.id),
        (None, Some(t)) => Expr::col((participant::Entity, participant::Column::AnonTokenHash))
            .eq(participants::hash_token(t)),
        (None, None) => return Ok(None),
    };
    let query = Query::select()
        .column((participant::Entity, participant::Column::Id))
        .column((vote::Entity, vote::Column::StatementId))
        .column((vote::Entity, vote::Column::Value))
        .from(participant::Entity)
        .left_join(
            vote::Entity,
            Expr::col((vote::Entity, vote::Column::ParticipantId))
                .equals((participant::Entity, participant::Column::Id)),
        )
        .and_where(
            Expr::col((participant::Entity, participant::Column::ConsultationId))
                .eq(consultation_id),
        )
        .and_where(who)
        .to_owned();
    let rows = db.query_all(&query).await?;
    let mut participant_id = None;
    let mut voted = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        participant_id = Some(row.try_get_by_index::<i64>(0)?);
        let statement: Option<i64> = row.try_get_by_index(1)?;
        let value: Option<i16> = row.try_get_by_index(2)?;
        if let (Some(statement), Some(value)) = (statement, value)
            && let Some(v) = VoteValue::from_i64(i64::from(value))
        {
            voted.insert(statement, v);
        }
    }
    Ok(participant_id.map(|id| (id, voted)))
}
