//! The opinion snapshot store, the bridge between the database and the pure opinion engine: build the
//! engine's input from the votes, run it off the async threads, store the
//! snapshot with its receipt, and read it back for routing and results.
//!
//! Engine ids: a participant is its `participants.id`; a statement is its
//! per-consultation `number` (so an imported Pol.is conversation keeps its
//! comment ids and gives the same groups as `samskab opinion analyze`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entities::{consultation, opinion_snapshot, statement, vote, vote_history};
use crate::errors::AppError;
use crate::opinion::{self, Input, Params, Snapshot, StatementFlags, Vote, VoteValue};

use super::now;
use super::statements::StatementStatus;

pub use crate::domain::SnapshotKind as Kind;

/// Whether to wait for another process's recompute of the same consultation
/// (a request that needs the result) or to skip (the background worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Wait,
    Skip,
}

/// Namespace of the PostgreSQL advisory locks (first key); the second key is
/// the consultation id.
const ADVISORY_NAMESPACE: i32 = 0x0053_4b42;

/// One recompute per consultation at a time inside this process.
static LOCAL_LOCKS: LazyLock<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn local_lock(consultation_id: i64) -> Arc<tokio::sync::Mutex<()>> {
    let mut map = LOCAL_LOCKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(consultation_id).or_default().clone()
}

/// The newest vote-history row of a consultation (0 without votes).
pub async fn vote_high_water_mark(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<i64, AppError> {
    Ok(vote_history::Entity::find()
        .select_only()
        .column_as(vote_history::Column::Id.max(), "max")
        .filter(vote_history::Column::ConsultationId.eq(consultation_id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The engine's input: current votes, and accepted or rejected statements
/// with their moderation flags (pending ones are not in the conversation yet).
pub async fn engine_input(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Input, AppError> {
    let hwm = vote_high_water_mark(db, consultation_id).await?;
    let all = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .all(db)
        .await?;
    let mut number_of = HashMap::new();
    let mut statements = BTreeMap::new();
    for s in &all {
        number_of.insert(s.id, s.number);
        let status = s.status;
        if status == StatementStatus::Pending {
            continue;
        }
        statements.insert(
            s.number,
            StatementFlags {
                moderated_out: status == StatementStatus::Rejected,
                meta: s.is_meta,
            },
        );
    }
    let rows: Vec<(i64, i64, i16)> = vote::Entity::find()
        .select_only()
        .column(vote::Column::ParticipantId)
        .column(vote::Column::StatementId)
        .column(vote::Column::Value)
        .filter(vote::Column::ConsultationId.eq(consultation_id))
        .order_by_asc(vote::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let votes = rows
        .into_iter()
        .filter_map(|(p, s, v)| {
            Some(Vote {
                participant: p,
                statement: *number_of.get(&s)?,
                value: VoteValue::from_i64(i64::from(v))?,
            })
        })
        .collect();
    Ok(Input {
        votes,
        statements,
        vote_high_water_mark: u64::try_from(hwm).unwrap_or(0),
    })
}

/// The snapshot the public sees: the final one once it exists, else the newest.
pub async fn latest(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Option<(opinion_snapshot::Model, Snapshot)>, AppError> {
    let base = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id));
    let row = match base
        .clone()
        .filter(opinion_snapshot::Column::Kind.eq(Kind::Final))
        .order_by_desc(opinion_snapshot::Column::Id)
        .one(db)
        .await?
    {
        Some(r) => Some(r),
        None => {
            base.order_by_desc(opinion_snapshot::Column::Id)
                .one(db)
                .await?
        }
    };
    match row {
        Some(r) => {
            let snapshot: Snapshot = serde_json::from_str(&r.snapshot)
                .map_err(|e| anyhow::anyhow!("stored snapshot {} is unreadable: {e}", r.id))?;
            Ok(Some((r, snapshot)))
        }
        None => Ok(None),
    }
}

/// Compute and store a snapshot of `consultation_id` now. `Kind::Warm` skips
/// (returns `None`) when no vote arrived since the last snapshot; with
/// `LockMode::Skip` it also returns `None` when another process holds the
/// consultation's lock. Exactly one process computes a consultation at a time:
/// a process-local mutex, plus on PostgreSQL a transaction-scoped advisory
/// lock shared by every replica.
pub async fn recompute(
    db: &DatabaseConnection,
    consultation_id: i64,
    kind: Kind,
    mode: LockMode,
) -> Result<Option<opinion_snapshot::Model>, AppError> {
    let local = local_lock(consultation_id);
    let _guard = match mode {
        LockMode::Wait => local.lock().await,
        LockMode::Skip => match local.try_lock() {
            Ok(g) => g,
            Err(_) => return Ok(None),
        },
    };
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        let key = i32::try_from(consultation_id % i64::from(i32::MAX)).unwrap_or(0);
        let sql = match mode {
            LockMode::Wait => {
                format!("SELECT pg_advisory_xact_lock({ADVISORY_NAMESPACE}, {key})::text AS got")
            }
            LockMode::Skip => format!(
                "SELECT pg_try_advisory_xact_lock({ADVISORY_NAMESPACE}, {key})::text AS got"
            ),
        };
        let got = txn
            .query_one_raw(sea_orm::Statement::from_string(DbBackend::Postgres, sql))
            .await?
            .and_then(|r| r.try_get::<String>("", "got").ok());
        if mode == LockMode::Skip && got.as_deref() != Some("true") {
            return Ok(None);
        }
    }
    let previous = latest_row(&txn, consultation_id).await?;
    let input = engine_input(&txn, consultation_id).await?;
    let hwm = i64::try_from(input.vote_high_water_mark).unwrap_or(i64::MAX);
    if kind == Kind::Warm
        && let Some(p) = &previous
        && !is_stale(&txn, consultation_id, p, hwm).await?
    {
        return Ok(None);
    }
    let state = match (kind, &previous) {
        (Kind::Warm, Some(p)) => serde_json::from_str::<Snapshot>(&p.snapshot)
            .ok()
            .map(|s| s.state),
        _ => None,
    };
    let snapshot = tokio::task::spawn_blocking(move || {
        let params = Params::default();
        match state {
            Some(s) => opinion::update(&input, &s, &params),
            None => opinion::cold_run(&input, &params),
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("the opinion engine stopped: {e}"))?;
    let json = serde_json::to_string(&snapshot).map_err(anyhow::Error::from)?;
    let row = opinion_snapshot::ActiveModel {
        consultation_id: Set(consultation_id),
        kind: Set(kind),
        vote_high_water_mark: Set(hwm),
        snapshot: Set(json),
        computed_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(
        consultation = consultation_id,
        kind = kind.as_str(),
        k = snapshot.k,
        votes = snapshot.receipt.counts.votes,
        "opinion snapshot stored"
    );
    Ok(Some(row))
}

/// A snapshot is stale when votes arrived after it or a moderator changed a
/// statement (rejected or meta statements count differently in the math).
async fn is_stale(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    last: &opinion_snapshot::Model,
    hwm: i64,
) -> Result<bool, AppError> {
    if hwm > last.vote_high_water_mark {
        return Ok(true);
    }
    let moderated_since = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .filter(statement::Column::ModeratedAt.gt(last.computed_at))
        .one(db)
        .await?;
    Ok(moderated_since.is_some())
}

async fn latest_row(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Option<opinion_snapshot::Model>, AppError> {
    Ok(opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
        .order_by_desc(opinion_snapshot::Column::Id)
        .one(db)
        .await?)
}

/// What the background worker should do now: open conversations with votes
/// newer than their last snapshot (warm), and closed ones without a final
/// snapshot (a final recompute that failed at closing is retried here).
pub async fn pending_work(db: &DatabaseConnection) -> Result<Vec<(i64, Kind)>, AppError> {
    let list = consultation::Entity::find()
        .filter(consultation::Column::HasConversation.eq(true))
        .filter(consultation::Column::Status.is_in([
            crate::domain::ConsultationStatus::Open,
            crate::domain::ConsultationStatus::Closed,
        ]))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for c in list {
        let last = latest_row(db, c.id).await?;
        if c.status == crate::domain::ConsultationStatus::Closed {
            let has_final = opinion_snapshot::Entity::find()
                .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
                .filter(opinion_snapshot::Column::Kind.eq(Kind::Final))
                .one(db)
                .await?
                .is_some();
            if !has_final {
                out.push((c.id, Kind::Final));
            }
        } else {
            let hwm = vote_high_water_mark(db, c.id).await?;
            let stale = match &last {
                Some(l) => is_stale(db, c.id, l, hwm).await?,
                None => hwm > 0,
            };
            if stale {
                out.push((c.id, Kind::Warm));
            }
        }
    }
    Ok(out)
}

/// Routing priority per accepted statement number: the snapshot's, or that of
/// a brand-new statement for statements added since (meta ones get theirs).
pub fn priorities(
    accepted: &[statement::Model],
    snapshot: Option<&Snapshot>,
) -> BTreeMap<i64, f64> {
    let params = Params::default();
    accepted
        .iter()
        .map(|s| {
            let p = snapshot
                .and_then(|snap| snap.priorities.get(&s.number).copied())
                .unwrap_or(if s.is_meta {
                    params.meta_priority
                } else {
                    opinion::priority::priority(0, 0, 0, 0.0)
                });
            (s.number, p)
        })
        .collect()
}

/// The statement to show next (docs/opinion.md §11), or `None` when the
/// participant has voted on every accepted statement.
pub fn next_statement<'a>(
    accepted: &'a [statement::Model],
    snapshot: Option<&Snapshot>,
    participant_id: i64,
    voted: &HashMap<i64, VoteValue>,
) -> Option<&'a statement::Model> {
    let prios = priorities(accepted, snapshot);
    let voted_numbers: std::collections::HashSet<i64> = accepted
        .iter()
        .filter(|s| voted.contains_key(&s.id))
        .map(|s| s.number)
        .collect();
    let number = opinion::next_statement(
        &prios,
        |n| voted_numbers.contains(&n),
        participant_id,
        voted.len() as u64,
    )?;
    accepted.iter().find(|s| s.number == number)
}

/// The letter a group is shown with: A, B, C… in the engine's group order.
pub fn group_name(index: usize) -> String {
    char::from(b'A' + u8::try_from(index % 26).unwrap_or(0)).to_string()
}
