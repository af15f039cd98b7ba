//! Group commit of votes on SQLite. SQLite has one writer at a time: when
//! every vote request took the write lock for its own short transaction,
//! concurrent votes queued in SQLite's busy handler (which sleeps, 1 ms to
//! 100 ms at a time, rather than waking when the lock is free) and each
//! transaction held the lock across four round trips between the request's
//! worker thread and the connection's thread. Here one writer per database,
//! on a thread of its own, takes the votes that arrived meanwhile and writes
//! them in one IMMEDIATE transaction (an upsert per vote, then one insert of
//! the history rows of those that changed); each request is answered once the
//! transaction holding its vote has committed, so an acknowledged vote is
//! as durable as before. PostgreSQL does not need this (one statement per
//! vote, row locks).
//!
//! The writer stops after a short idle time, so a process that stops taking
//! votes (or a test's database) is not held open by it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sea_query::InsertStatement;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};

use crate::entities::vote_history;
use tokio::sync::{mpsc, oneshot};

/// A known participant's vote, as the fast path writes it: `upsert` returns
/// the participant id and the consultation id when it wrote, and then
/// `history(participant_id, consultation_id)` is written in the same
/// transaction (the history rows of a batch in one statement).
pub(crate) struct KnownVote {
    pub upsert: InsertStatement,
    pub history: Box<dyn Fn(i64, i64) -> vote_history::ActiveModel + Send>,
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

async fn run(db: DatabaseConnection, key: String, mut receiver: mpsc::UnboundedReceiver<Job>) {
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
        match write_batch(&db, batch.iter().map(|j| &j.vote)).await {
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
                    let result = write_batch(&db, std::iter::once(&job.vote)).await;
                    let _ = job.reply.send(result.map(|mut w| w.pop().flatten()));
                }
            }
        }
    }
    // Let connections handed back to the pool get there before the runtime
    // goes (the pool returns them in tasks of the runtime that used them).
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The votes in one IMMEDIATE transaction: per vote its upsert, then the
/// history rows of those that wrote in one insert.
async fn write_batch<'a>(
    db: &DatabaseConnection,
    votes: impl Iterator<Item = &'a KnownVote>,
) -> Result<Vec<Option<i64>>, DbErr> {
    let txn = super::begin_write(db).await?;
    let result = upsert_all(&txn, votes).await;
    let (written, history) = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = txn.rollback().await;
            return Err(e);
        }
    };
    if !history.is_empty()
        && let Err(e) = vote_history::Entity::insert_many(history)
            .exec_without_returning(&txn)
            .await
    {
        let _ = txn.rollback().await;
        return Err(e);
    }
    txn.commit().await?;
    Ok(written)
}

type Upserted = (Vec<Option<i64>>, Vec<vote_history::ActiveModel>);

async fn upsert_all<'a>(
    txn: &impl ConnectionTrait,
    votes: impl Iterator<Item = &'a KnownVote>,
) -> Result<Upserted, DbErr> {
    let mut written = Vec::new();
    let mut history = Vec::new();
    for vote in votes {
        match txn.query_one(&vote.upsert).await? {
            Some(row) => {
                let participant_id: i64 = row.try_get_by_index(0)?;
                let consultation_id: i64 = row.try_get_by_index(1)?;
                history.push((vote.history)(participant_id, consultation_id));
                written.push(Some(participant_id));
            }
            None => written.push(None),
        }
    }
    Ok((written, history))
}
