//! Group commit of votes on SQLite. SQLite has one writer at a time: when
//! every vote request took the write lock for its own short transaction,
//! concurrent votes queued in SQLite's busy handler (which sleeps, 1 ms to
//! 100 ms at a time, rather than waking when the lock is free) and each
//! transaction held the lock across four round trips between the request's
//! worker thread and the connection's thread. Here one writer per database,
//! on a thread of its own, takes the votes that arrived meanwhile and writes
//! them in one IMMEDIATE transaction of three statements however many they
//! are (see [`write_batch`]); each request is answered once the transaction
//! holding its vote has committed, so an acknowledged vote is as durable as
//! before. PostgreSQL does not need this (one statement per vote, row locks).
//!
//! The writer stops after a short idle time, so a process that stops taking
//! votes (or a test's database) is not held open by it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set};

use crate::entities::{vote, vote_history};
use tokio::sync::{mpsc, oneshot};

/// A known participant's vote, as the fast path writes it. `source` selects
/// (consultation id, statement id, participant id, value, time) when the vote
/// may be written: the consultation's and the statement's rules hold and the
/// visitor has a participant there; no row otherwise.
pub(crate) struct KnownVote {
    pub source: SelectStatement,
    pub statement_id: i64,
    pub value: i16,
    pub at: chrono::DateTime<chrono::Utc>,
}

type Reply = oneshot::Sender<Result<Option<i64>, DbErr>>;

struct Job {
    vote: KnownVote,
    reply: Reply,
}

/// At most this many votes share one transaction (a bound on how long the
/// write lock is held at once).
const BATCH_MAX: usize = 128;

/// The writer stops after this long without a vote.
const IDLE: Duration = Duration::from_secs(2);

/// The running writer of each database (by `snapshots::database_key`).
static WRITERS: LazyLock<Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Write `vote` with the votes of other requests that arrive meanwhile.
/// `Ok(Some(participant_id))` when it was written (with its history row),
/// `Ok(None)` when the upsert wrote nothing.
pub(crate) async fn write(db: &DatabaseConnection, vote: KnownVote) -> Result<Option<i64>, DbErr> {
    let (reply, answer) = oneshot::channel();
    let key = super::snapshots::database_key(db);
    {
        let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
        let job = Job { vote, reply };
        // A writer only stops after removing itself under this lock, so a
        // send that succeeds here is always taken.
        let unsent = match writers.get(&key) {
            Some(sender) => sender
                .send(job)
                .err()
                .map(|mpsc::error::SendError(back)| back),
            None => Some(job),
        };
        if let Some(job) = unsent {
            let (sender, receiver) = mpsc::unbounded_channel();
            // The channel was just made and its receiver is alive.
            let _ = sender.send(job);
            writers.insert(key.clone(), sender);
            spawn_writer(db.clone(), key, receiver);
        }
    }
    match answer.await {
        Ok(result) => result,
        // The writer's thread ended without answering (it panicked): the
        // vote may or may not be written, which the caller's slow path
        // finds out (a repeated vote writes nothing).
        Err(_) => Ok(None),
    }
}

fn spawn_writer(db: DatabaseConnection, key: String, receiver: mpsc::UnboundedReceiver<Job>) {
    let started = std::thread::Builder::new()
        .name("samskab-votes".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "starting the vote writer failed");
                    stop_taking(&key);
                    return;
                }
            };
            runtime.block_on(run(db, key, receiver));
        });
    if let Err(e) = started {
        // The receiver went with the closure: the waiting request is told
        // through its closed reply channel and takes the slow path.
        tracing::error!(error = %e, "starting the vote writer's thread failed");
    }
}

fn stop_taking(key: &str) {
    WRITERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(key);
}

async fn run(shared: DatabaseConnection, key: String, mut receiver: mpsc::UnboundedReceiver<Job>) {
    // Always the same connection: it keeps its page cache between batches
    // (see `db::own_sqlite_connection`).
    let own = crate::db::own_sqlite_connection(&shared);
    let db = own.as_ref().unwrap_or(&shared);
    loop {
        let first = match tokio::time::timeout(IDLE, receiver.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => break,
            Err(_) => {
                // Idle: stop, unless a vote arrived just now. Senders send
                // under the registry lock, so none can slip in after this.
                let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
                if receiver.is_empty() {
                    writers.remove(&key);
                    break;
                }
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let votes: Vec<&KnownVote> = batch.iter().map(|j| &j.vote).collect();
        let result = write_batch(db, &votes).await;
        match result {
            Ok(written) => {
                for (job, result) in batch.into_iter().zip(written) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: each vote again on its
                // own, so one vote's error is not every vote's.
                tracing::warn!(error = %e, votes = batch.len(), "a batch of votes failed; writing them one by one");
                for job in batch {
                    let result = write_batch(db, &[&job.vote]).await;
                    let _ = job.reply.send(result.map(|mut w| w.pop().flatten()));
                }
            }
        }
    }
    // Let connections handed back to the pool get there before the runtime
    // goes (the pool returns them in tasks of the runtime that used them),
    // and close the writer's own connection on the runtime that opened it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    if let Some(own) = own {
        let _ = own.close().await;
    }
}

/// The columns a vote upsert writes, in order.
pub(crate) const VOTE_COLUMNS: [vote::Column; 5] = [
    vote::Column::ConsultationId,
    vote::Column::StatementId,
    vote::Column::ParticipantId,
    vote::Column::Value,
    vote::Column::UpdatedAt,
];

/// A vote's history row.
pub(crate) fn history_row(
    consultation_id: i64,
    statement_id: i64,
    participant_id: i64,
    v: i16,
    at: chrono::DateTime<chrono::Utc>,
) -> vote_history::ActiveModel {
    vote_history::ActiveModel {
        consultation_id: Set(consultation_id),
        statement_id: Set(statement_id),
        participant_id: Set(participant_id),
        value: Set(v),
        cast_at: Set(at),
        ..Default::default()
    }
}

/// A repeated vote writes nothing (and so adds no history): the current
/// vote changes only when its value does.
pub(crate) fn changes_only() -> OnConflict {
    OnConflict::columns([vote::Column::StatementId, vote::Column::ParticipantId])
        .update_columns([vote::Column::Value, vote::Column::UpdatedAt])
        .action_and_where(
            Expr::col((vote::Entity, vote::Column::Value))
                .ne(Expr::col((Alias::new("excluded"), vote::Column::Value))),
        )
        .to_owned()
}

/// A batch of one vote (a quiet moment): the upsert selects from the vote's
/// source itself and returns who voted, so it takes two statements, not three.
async fn write_one(txn: &impl ConnectionTrait, v: &KnownVote) -> Result<Option<i64>, DbErr> {
    let mut upsert = Query::insert();
    upsert
        .into_table(vote::Entity)
        .columns(VOTE_COLUMNS)
        .select_from(v.source.clone())
        .map_err(|e| DbErr::Custom(format!("building the vote insert: {e}")))?
        .on_conflict(changes_only())
        .returning(
            Query::returning().columns([vote::Column::ParticipantId, vote::Column::ConsultationId]),
        );
    let Some(row) = txn.query_one(&upsert).await? else {
        return Ok(None);
    };
    let participant_id: i64 = row.try_get_by_index(0)?;
    let consultation_id: i64 = row.try_get_by_index(1)?;
    vote_history::Entity::insert(history_row(
        consultation_id,
        v.statement_id,
        participant_id,
        v.value,
        v.at,
    ))
    .exec_without_returning(txn)
    .await?;
    Ok(Some(participant_id))
}

/// The votes in one IMMEDIATE transaction of three statements, whatever
/// their number (each a round trip to the connection's thread, which is
/// what a batch waits for; two for a single vote, see [`write_one`]): one
/// `SELECT` of all the votes' sources finds which may be written and by
/// which participant, one multi-row upsert writes those and returns the rows
/// it changed, and one insert adds their history rows. `Some(participant_id)`
/// for each vote that changed the current vote, in the order of `votes`.
async fn write_batch(
    db: &DatabaseConnection,
    votes: &[&KnownVote],
) -> Result<Vec<Option<i64>>, DbErr> {
    let txn = super::begin_write(db).await?;
    match write_in(&txn, votes).await {
        Ok(written) => {
            txn.commit().await?;
            Ok(written)
        }
        Err(e) => {
            let _ = txn.rollback().await;
            Err(e)
        }
    }
}

async fn write_in(
    txn: &impl ConnectionTrait,
    votes: &[&KnownVote],
) -> Result<Vec<Option<i64>>, DbErr> {
    if let [vote] = votes {
        return Ok(vec![write_one(txn, vote).await?]);
    }
    let mut written = vec![None; votes.len()];
    // Which votes may be written, each source tagged with its position.
    let mut sources = votes.iter().enumerate().map(|(i, v)| {
        let mut s = v.source.clone();
        s.expr(Expr::val(i as i64));
        s
    });
    let Some(mut select) = sources.next() else {
        return Ok(written);
    };
    select.unions(sources.map(|s| (UnionType::All, s)));
    // (consultation id, participant id) of each vote that may be written.
    let mut eligible: Vec<Option<(i64, i64)>> = vec![None; votes.len()];
    for row in txn.query_all(&select).await? {
        let consultation_id: i64 = row.try_get_by_index(0)?;
        let participant_id: i64 = row.try_get_by_index(2)?;
        let i: i64 = row.try_get_by_index(5)?;
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| eligible.get_mut(i)) {
            *slot = Some((consultation_id, participant_id));
        }
    }
    if eligible.iter().all(Option::is_none) {
        return Ok(written);
    }
    let mut upsert = Query::insert();
    upsert.into_table(vote::Entity).columns(VOTE_COLUMNS);
    for (v, e) in votes.iter().zip(&eligible) {
        if let Some((consultation_id, participant_id)) = *e {
            upsert
                .values([
                    consultation_id.into(),
                    v.statement_id.into(),
                    participant_id.into(),
                    v.value.into(),
                    v.at.into(),
                ])
                .map_err(|e| DbErr::Custom(format!("building the vote insert: {e}")))?;
        }
    }
    // Two votes of one batch on the same statement by the same participant
    // apply in order.
    upsert
        .on_conflict(changes_only())
        .returning(Query::returning().columns([
            vote::Column::ParticipantId,
            vote::Column::StatementId,
            vote::Column::Value,
        ]));
    let changed = txn.query_all(&upsert).await?;
    // SQLite returns the changed rows in no particular order: each goes to
    // the first vote of the batch it fits that has none yet.
    let mut history = Vec::with_capacity(changed.len());
    for row in changed {
        let participant_id: i64 = row.try_get_by_index(0)?;
        let statement_id: i64 = row.try_get_by_index(1)?;
        let value: i16 = row.try_get_by_index(2)?;
        let found = votes
            .iter()
            .zip(&eligible)
            .zip(&written)
            .position(|((v, e), w)| {
                w.is_none()
                    && v.statement_id == statement_id
                    && v.value == value
                    && e.is_some_and(|(_, p)| p == participant_id)
            });
        let Some(i) = found else {
            return Err(DbErr::Custom(format!(
                "the vote upsert changed a row no vote of the batch asked for (statement {statement_id})"
            )));
        };
        let (consultation_id, _) = eligible[i].unwrap_or_default();
        written[i] = Some(participant_id);
        let v = votes[i];
        history.push(history_row(
            consultation_id,
            v.statement_id,
            participant_id,
            v.value,
            v.at,
        ));
    }
    if !history.is_empty() {
        vote_history::Entity::insert_many(history)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(written)
}
