//! The opinion snapshot store, the bridge between the database and the pure opinion engine: build the
//! engine's input from the votes, run it off the async threads, store the
//! snapshot with its receipt, and read it back for routing and results.
//!
//! Engine ids: a participant is its `participants.id`; a statement is its
//! per-consultation `number` (so an imported Pol.is conversation keeps its
//! comment ids and gives the same groups as `samskab opinion analyze`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, StreamTrait, TransactionTrait,
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
/// The votes are streamed from the database straight into the engine's input,
/// so a conversation of millions of votes is never held twice in memory.
pub async fn engine_input<C>(db: &C, consultation_id: i64) -> Result<Input, AppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let hwm = vote_high_water_mark(db, consultation_id).await?;
    let (statements, number_of) = statement_flags(db, consultation_id).await?;
    let mut votes = Vec::with_capacity(current_vote_count(db, consultation_id).await?);
    each_current_vote(db, consultation_id, &number_of, |v| votes.push(v)).await?;
    Ok(Input {
        votes,
        statements,
        vote_high_water_mark: u64::try_from(hwm).unwrap_or(0),
    })
}

/// The parsed snapshot of each consultation that was last read, by row id. A
/// page asks the database only which row is the current one (an index
/// lookup) and parses the multi-megabyte JSON once per new snapshot instead
/// of on every request; another replica's new snapshot is seen at once,
/// because the row id is always asked.
#[derive(Clone)]
struct CachedSnapshot {
    row: opinion_snapshot::Model,
    snapshot: Arc<Snapshot>,
}

/// Which database a connection is to (its file or server and database name):
/// a process may hold several (the tests do), whose consultation and
/// snapshot ids coincide.
pub(crate) fn database_key(db: &DatabaseConnection) -> String {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let o = db.get_postgres_connection_pool().connect_options();
            format!(
                "postgres://{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or("")
            )
        }
        DbBackend::Sqlite => format!(
            "sqlite://{}",
            db.get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .display()
        ),
        other => format!("{other:?}"),
    }
}

type CacheKey = (String, i64);

static PARSED: LazyLock<Mutex<HashMap<CacheKey, CachedSnapshot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn cached(key: &CacheKey, row_id: i64) -> Option<CachedSnapshot> {
    let map = PARSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.get(key).filter(|c| c.row.id == row_id).cloned()
}

/// Whether a parsed snapshot `new` replaces the kept one `old`: a final
/// snapshot only by a newer final one (the public sees the final snapshot for
/// good), a warm one by a final one or a newer one. A request that read the
/// public id just before a new snapshot was committed parses the older row;
/// it must not push the newer one out, or the next requests would all parse
/// the newer one again.
fn replaces(old: Option<(Kind, i64)>, new: (Kind, i64)) -> bool {
    match old {
        None => true,
        Some((Kind::Final, old_id)) => new.0 == Kind::Final && new.1 > old_id,
        Some((_, old_id)) => new.0 == Kind::Final || new.1 > old_id,
    }
}

/// Keep `entry` as the parsed snapshot of its consultation (see [`replaces`]).
fn keep(key: CacheKey, entry: &CachedSnapshot) {
    let mut map = PARSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let old = map.get(&key).map(|old| (old.row.kind, old.row.id));
    if replaces(old, (entry.row.kind, entry.row.id)) {
        map.insert(key, entry.clone());
    }
}

/// One parse at a time per consultation: when a new snapshot appears, every
/// request that sees it at once would otherwise read and parse the same
/// multi-megabyte row (a big conversation's is 4 MB, tens of milliseconds
/// each), and 16 of them together held a 2-core server up for a quarter of
/// a second. The others wait and take the one parsed copy.
static PARSING: LazyLock<Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn parsing_lock(key: &CacheKey) -> Arc<tokio::sync::Mutex<()>> {
    let mut map = PARSING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key.clone()).or_default().clone()
}

/// Parse a stored row (off the async threads: a big snapshot takes a while)
/// and keep it as the consultation's parsed snapshot.
async fn parse_and_keep(
    key: CacheKey,
    mut row: opinion_snapshot::Model,
) -> Result<CachedSnapshot, AppError> {
    let json = std::mem::take(&mut row.snapshot);
    let id = row.id;
    let snapshot: Snapshot = tokio::task::spawn_blocking(move || serde_json::from_str(&json))
        .await
        .map_err(|e| anyhow::anyhow!("parsing snapshot {id} stopped: {e}"))?
        .map_err(|e| anyhow::anyhow!("stored snapshot {id} is unreadable: {e}"))?;
    let entry = CachedSnapshot {
        row,
        snapshot: Arc::new(snapshot),
    };
    keep(key, &entry);
    Ok(entry)
}

/// The id of the snapshot the public sees: the newest final one once it
/// exists, else the newest. One query (pages ask it on every view): a
/// consultation keeps only a few snapshot rows, so ordering them final
/// first is cheap.
async fn public_row_id(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Option<i64>, AppError> {
    use sea_orm::sea_query::{Expr, ExprTrait, Order};
    let final_first = Expr::case(
        Expr::col(opinion_snapshot::Column::Kind).eq(Kind::Final.as_str()),
        0,
    )
    .finally(1);
    let final_first: sea_orm::sea_query::SimpleExpr = final_first.into();
    Ok(opinion_snapshot::Entity::find()
        .select_only()
        .column(opinion_snapshot::Column::Id)
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
        .order_by(final_first, Order::Asc)
        .order_by_desc(opinion_snapshot::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// The snapshot the public sees: the final one once it exists, else the newest.
/// The row comes without its JSON (`snapshot` is empty): the parsed snapshot,
/// shared with other requests, is beside it.
pub async fn latest(
    db: &DatabaseConnection,
    consultation_id: i64,
) -> Result<Option<(opinion_snapshot::Model, Arc<Snapshot>)>, AppError> {
    let Some(id) = public_row_id(db, consultation_id).await? else {
        return Ok(None);
    };
    let key = (database_key(db), consultation_id);
    if let Some(hit) = cached(&key, id) {
        return Ok(Some((hit.row, hit.snapshot)));
    }
    let lock = parsing_lock(&key);
    let _parsing = lock.lock().await;
    if let Some(hit) = cached(&key, id) {
        return Ok(Some((hit.row, hit.snapshot)));
    }
    let Some(row) = opinion_snapshot::Entity::find_by_id(id).one(db).await? else {
        // Pruned between the two queries: the next request finds the newer one.
        return Ok(None);
    };
    let entry = parse_and_keep(key, row).await?;
    Ok(Some((entry.row, entry.snapshot)))
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
    let key = (database_key(db), consultation_id);
    let local = local_lock(consultation_id);
    let _guard = match mode {
        LockMode::Wait => local.lock().await,
        LockMode::Skip => match local.try_lock() {
            Ok(g) => g,
            Err(_) => return Ok(None),
        },
    };
    if db.get_database_backend() == DbBackend::Postgres {
        // The advisory lock is transaction-scoped: read, compute and write in
        // one transaction (PostgreSQL's readers and writers do not block each
        // other, so votes go on meanwhile).
        let txn = db.begin().await?;
        let lock_key = i32::try_from(consultation_id % i64::from(i32::MAX)).unwrap_or(0);
        let sql = match mode {
            LockMode::Wait => {
                format!(
                    "SELECT pg_advisory_xact_lock({ADVISORY_NAMESPACE}, {lock_key})::text AS got"
                )
            }
            LockMode::Skip => format!(
                "SELECT pg_try_advisory_xact_lock({ADVISORY_NAMESPACE}, {lock_key})::text AS got"
            ),
        };
        let got = txn
            .query_one_raw(sea_orm::Statement::from_string(DbBackend::Postgres, sql))
            .await?
            .and_then(|r| r.try_get::<String>("", "got").ok());
        if mode == LockMode::Skip && got.as_deref() != Some("true") {
            return Ok(None);
        }
        let Some(mut computed) = compute(&txn, &key, kind).await? else {
            return Ok(None);
        };
        let kept = computed.kept.take();
        let (row, parsed) = store(&txn, key.1, kind, computed).await?;
        txn.commit().await?;
        keep(key.clone(), &parsed);
        keep_engine(key, kept, row.id);
        return Ok(Some(row));
    }
    // SQLite has one process, serialised by the local lock above. Reading and
    // computing outside any transaction keeps the database free for votes
    // (a long read transaction that then writes fails when a vote committed
    // meanwhile); the write is one short IMMEDIATE transaction.
    let Some(mut computed) = compute(db, &key, kind).await? else {
        return Ok(None);
    };
    let kept = computed.kept.take();
    let txn = super::begin_write(db).await?;
    let (row, parsed) = store(&txn, key.1, kind, computed).await?;
    txn.commit().await?;
    keep(key.clone(), &parsed);
    keep_engine(key, kept, row.id);
    Ok(Some(row))
}

/// A computed snapshot, ready to store.
struct Computed {
    snapshot: Snapshot,
    json: String,
    hwm: i64,
    stability: Option<crate::opinion::stability::Stability>,
    /// The engine to continue from in the next round.
    kept: Option<Kept>,
}

/// Read what the engine needs and run it (warm-started from the previous
/// snapshot), or `None` when a warm run has nothing new to do.
///
/// A warm run continues the conversation's engine kept in memory since the
/// last round ([`Kept`]): only the vote-history rows since then are read and
/// applied to its vote matrix. Otherwise (the first round in this process,
/// another process stored the newest snapshot, a final run, or the kept engine
/// is older than [`REBUILD_AFTER`]) every current vote is streamed from the
/// database into a new matrix.
async fn compute<C>(db: &C, key: &CacheKey, kind: Kind) -> Result<Option<Computed>, AppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let consultation_id = key.1;
    let previous = latest_row_id(db, consultation_id).await?;
    let hwm = vote_high_water_mark(db, consultation_id).await?;
    if kind == Kind::Warm
        && let Some(p) = &previous
        && !is_stale(db, consultation_id, p, hwm).await?
    {
        return Ok(None);
    }
    let kept = take_kept(key).filter(|k| {
        kind == Kind::Warm
            && previous.as_ref().is_some_and(|p| p.id == k.row_id)
            && k.mark <= hwm
            && k.built.elapsed() < REBUILD_AFTER
    });
    // At most a few engine runs at once, whatever the number of
    // consultations: each holds a conversation's votes in memory and keeps a
    // core busy, and the web workers must keep theirs.
    let _slot = ENGINE_SLOTS
        .acquire()
        .await
        .map_err(|e| anyhow::anyhow!("the opinion engine is shut: {e}"))?;
    let started = std::time::Instant::now();
    let (statements, number_of) = statement_flags(db, consultation_id).await?;
    let source = match kept {
        Some(k) => {
            let window_from = (k.mark - unsettled_ids(db)).max(0);
            let rows = history_rows(db, consultation_id, window_from, hwm, &number_of).await?;
            Source::Kept(k, rows)
        }
        None => {
            let state = match (kind, &previous) {
                (Kind::Warm, Some(p)) => previous_state(db, key, p.id).await,
                _ => None,
            };
            // On PostgreSQL, the history ids of the re-read window that are
            // visible now are in the votes read next; any other one in the
            // window is applied as late next round.
            let recent = match unsettled_ids(db) {
                0 => BTreeSet::new(),
                margin => history_ids(db, consultation_id, (hwm - margin).max(0), hwm).await?,
            };
            let builder = current_votes(db, consultation_id, &number_of).await?;
            Source::Fresh(builder, state, recent)
        }
    };
    let read = started.elapsed();
    let (kept, snapshot, json, stability, phases) = tokio::task::spawn_blocking(move || {
        super::engine_pool::run(move || {
            let params = Params::default();
            let t = std::time::Instant::now();
            let mut kept = match source {
                Source::Kept(mut k, rows) => {
                    k.apply(rows, hwm, &statements);
                    k
                }
                Source::Fresh(builder, state, recent) => Kept {
                    engine: opinion::Incremental::from_builder(builder, statements, state),
                    mark: hwm,
                    recent,
                    row_id: 0,
                    built: std::time::Instant::now(),
                },
            };
            let snapshot = kept.engine.update(u64::try_from(hwm).unwrap_or(0), &params);
            let engine = t.elapsed();
            let t = std::time::Instant::now();
            let json = serde_json::to_string(&snapshot);
            let serialize = t.elapsed();
            // Computed once here, kept with the snapshot's summary: reports only read it.
            let t = std::time::Instant::now();
            let stability = super::opinion_history::stability_of(&snapshot);
            (
                kept,
                snapshot,
                json,
                stability,
                [engine, serialize, t.elapsed()],
            )
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("the opinion engine stopped: {e}"))?;
    let json = json.map_err(anyhow::Error::from)?;
    // Where a big conversation's recompute spends its time, for operators.
    tracing::info!(
        consultation = consultation_id,
        read_ms = read.as_millis() as u64,
        engine_ms = phases[0].as_millis() as u64,
        serialize_ms = phases[1].as_millis() as u64,
        stability_ms = phases[2].as_millis() as u64,
        "opinion snapshot computed"
    );
    Ok(Some(Computed {
        snapshot,
        json,
        hwm,
        stability,
        // A closed conversation gets no more votes: nothing to keep.
        kept: (kind == Kind::Warm).then_some(kept),
    }))
}

/// Where a round's votes come from: the kept engine and the history rows
/// since it last ran, or every current vote.
enum Source {
    Kept(Kept, Vec<(i64, Vote)>),
    Fresh(
        opinion::MatrixBuilder,
        Option<opinion::State>,
        BTreeSet<i64>,
    ),
}

/// A conversation's engine kept in memory between the worker's rounds: its
/// vote matrix, updated in place, and the state of the snapshot it made last.
/// A round then reads only the votes cast since, instead of every vote.
///
/// Exact because votes are never deleted and every change of a current vote
/// appends a history row: applying the history in id order over the matrix
/// gives the current votes. On PostgreSQL an id is drawn before its
/// transaction commits, so a vote may appear below ids already applied: the
/// newest [`PG_UNSETTLED`] ids are read again every round,
/// and a row not seen before is applied together with the later rows of its
/// cell, in id order.
struct Kept {
    engine: opinion::Incremental,
    /// The newest vote-history id applied.
    mark: i64,
    /// Ids applied that can still be followed by late rows below the mark
    /// (PostgreSQL only).
    recent: BTreeSet<i64>,
    /// The snapshot the engine's state is of.
    row_id: i64,
    built: std::time::Instant,
}

impl Kept {
    /// Applies the history rows `rows` (ids in the re-read window, in id
    /// order) up to `hwm`.
    fn apply(
        &mut self,
        rows: Vec<(i64, Vote)>,
        hwm: i64,
        statements: &BTreeMap<opinion::StatementId, StatementFlags>,
    ) {
        let late: BTreeSet<(i64, i64)> = rows
            .iter()
            .filter(|(id, _)| *id <= self.mark && !self.recent.contains(id))
            .map(|(_, v)| (v.participant, v.statement))
            .collect();
        if !late.is_empty() {
            tracing::info!(
                late = late.len(),
                "opinion recompute: votes committed after later ones were applied"
            );
        }
        let votes: Vec<Vote> = rows
            .iter()
            .filter(|(id, v)| *id > self.mark || late.contains(&(v.participant, v.statement)))
            .map(|&(_, v)| v)
            .collect();
        self.engine.add_votes(&votes, statements);
        self.mark = hwm;
        self.recent = rows.iter().map(|&(id, _)| id).collect();
    }
}

/// On PostgreSQL, vote-history ids this close to the newest are read again:
/// an id is drawn before its transaction commits, and a vote is one short
/// statement, so a transaction still open after this many later votes were
/// drawn is not expected. The report's vote tally uses the same margin.
pub(crate) const PG_UNSETTLED: i64 = 10_000;

/// Rebuild a kept engine from the current votes this often, whatever
/// happened: a safety net for any change the history does not show.
const REBUILD_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

static KEPT: LazyLock<Mutex<HashMap<CacheKey, Kept>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The kept engine of a consultation, taken out while a round uses it (the
/// consultation's lock is held meanwhile).
fn take_kept(key: &CacheKey) -> Option<Kept> {
    KEPT.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(key)
}

/// Keep `kept` for the next round; engines of conversations that have had
/// no round for a while are let go.
fn put_kept(key: CacheKey, kept: Kept) {
    let mut map = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.retain(|_, k| k.built.elapsed() < REBUILD_AFTER);
    map.insert(key, kept);
}

/// Keep the engine that made snapshot `row_id` (stored and committed) for the
/// next round.
fn keep_engine(key: CacheKey, kept: Option<Kept>, row_id: i64) {
    if let Some(mut k) = kept {
        k.row_id = row_id;
        put_kept(key, k);
    }
}

/// History ids below the newest that are read again every round.
fn unsettled_ids(db: &impl ConnectionTrait) -> i64 {
    match db.get_database_backend() {
        DbBackend::Postgres => PG_UNSETTLED,
        _ => 0,
    }
}

/// The statements in the conversation with their moderation flags (pending
/// ones are not in it yet), and every statement's engine id (its number).
async fn statement_flags(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<(BTreeMap<i64, StatementFlags>, HashMap<i64, i64>), AppError> {
    let all: Vec<(i64, i64, StatementStatus, bool)> = statement::Entity::find()
        .select_only()
        .column(statement::Column::Id)
        .column(statement::Column::Number)
        .column(statement::Column::Status)
        .column(statement::Column::IsMeta)
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut number_of = HashMap::new();
    let mut statements = BTreeMap::new();
    for &(id, number, status, is_meta) in &all {
        number_of.insert(id, number);
        if status == StatementStatus::Pending {
            continue;
        }
        statements.insert(
            number,
            StatementFlags {
                moderated_out: status == StatementStatus::Rejected,
                meta: is_meta,
            },
        );
    }
    Ok((statements, number_of))
}

/// The engine's vote, or `None` for a row the engine cannot read.
fn engine_vote(number_of: &HashMap<i64, i64>, p: i64, s: i64, v: i16) -> Option<Vote> {
    Some(Vote {
        participant: p,
        statement: *number_of.get(&s)?,
        value: VoteValue::from_i64(i64::from(v))?,
    })
}

/// How many current votes the consultation has (to size what they are read into).
async fn current_vote_count(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<usize, AppError> {
    let n = vote::Entity::find()
        .filter(vote::Column::ConsultationId.eq(consultation_id))
        .count(db)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Every current vote of the consultation, in vote-id order, handed to `push`
/// as it is streamed from the database (never a second copy in memory).
async fn each_current_vote<C>(
    db: &C,
    consultation_id: i64,
    number_of: &HashMap<i64, i64>,
    mut push: impl FnMut(Vote),
) -> Result<(), AppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut rows = vote::Entity::find()
        .select_only()
        .column(vote::Column::ParticipantId)
        .column(vote::Column::StatementId)
        .column(vote::Column::Value)
        .filter(vote::Column::ConsultationId.eq(consultation_id))
        .order_by_asc(vote::Column::Id)
        .into_tuple::<(i64, i64, i16)>()
        .stream(db)
        .await?;
    while let Some((p, s, v)) = rows.try_next().await? {
        if let Some(vote) = engine_vote(number_of, p, s, v) {
            push(vote);
        }
    }
    Ok(())
}

/// Every current vote of the consultation, streamed into a matrix builder
/// (8 bytes a vote; no list of votes in memory).
async fn current_votes<C>(
    db: &C,
    consultation_id: i64,
    number_of: &HashMap<i64, i64>,
) -> Result<opinion::MatrixBuilder, AppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut builder =
        opinion::MatrixBuilder::with_capacity(current_vote_count(db, consultation_id).await?);
    each_current_vote(db, consultation_id, number_of, |v| builder.push(v)).await?;
    Ok(builder)
}

/// The ids of the consultation's vote-history rows in `(after, upto]`.
async fn history_ids(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    after: i64,
    upto: i64,
) -> Result<BTreeSet<i64>, AppError> {
    let ids: Vec<i64> = vote_history::Entity::find()
        .select_only()
        .column(vote_history::Column::Id)
        .filter(vote_history::Column::ConsultationId.eq(consultation_id))
        .filter(vote_history::Column::Id.gt(after))
        .filter(vote_history::Column::Id.lte(upto))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The consultation's vote-history rows with ids in `(after, upto]`, in id
/// order.
async fn history_rows(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    after: i64,
    upto: i64,
    number_of: &HashMap<i64, i64>,
) -> Result<Vec<(i64, Vote)>, AppError> {
    let rows: Vec<(i64, i64, i64, i16)> = vote_history::Entity::find()
        .select_only()
        .column(vote_history::Column::Id)
        .column(vote_history::Column::ParticipantId)
        .column(vote_history::Column::StatementId)
        .column(vote_history::Column::Value)
        .filter(vote_history::Column::ConsultationId.eq(consultation_id))
        .filter(vote_history::Column::Id.gt(after))
        .filter(vote_history::Column::Id.lte(upto))
        .order_by_asc(vote_history::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, p, s, v)| engine_vote(number_of, p, s, v).map(|vote| (id, vote)))
        .collect())
}

/// Engine runs at once in this process: half the cores, at least one.
static ENGINE_SLOTS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    tokio::sync::Semaphore::new((cores / 2).max(1))
});

/// The engine state of snapshot `row_id`, for a warm start: from the parsed
/// snapshot kept for the pages when it is that one, else read and parsed.
/// `None` (a cold run) when it cannot be read.
async fn previous_state(
    db: &impl ConnectionTrait,
    key: &CacheKey,
    row_id: i64,
) -> Option<opinion::State> {
    if let Some(hit) = cached(key, row_id) {
        return Some(hit.snapshot.state.clone());
    }
    let row = opinion_snapshot::Entity::find_by_id(row_id)
        .one(db)
        .await
        .ok()
        .flatten()?;
    parse_and_keep(key.clone(), row)
        .await
        .ok()
        .map(|e| e.snapshot.state.clone())
}

/// Warm snapshots kept besides the newest: the one before it, so a page
/// that has just looked up the newest id still finds its row.
const WARM_KEPT: u64 = 2;

/// Store the snapshot, and prune the consultation's older warm snapshots:
/// the report, the receipts and the exports only ever use the newest final
/// one or else the newest one. Final snapshots are never pruned.
async fn store(
    txn: &impl ConnectionTrait,
    consultation_id: i64,
    kind: Kind,
    computed: Computed,
) -> Result<(opinion_snapshot::Model, CachedSnapshot), AppError> {
    let started = std::time::Instant::now();
    let Computed {
        snapshot,
        json,
        hwm,
        stability,
        kept: _,
    } = computed;
    let computed_at = now();
    // Inserted without reading the row back: `insert` would return the whole
    // row, so the database sent the snapshot (megabytes on a big
    // conversation) straight back on every round.
    let id = opinion_snapshot::Entity::insert(opinion_snapshot::ActiveModel {
        consultation_id: Set(consultation_id),
        kind: Set(kind),
        vote_high_water_mark: Set(hwm),
        snapshot: Set(json.clone()),
        computed_at: Set(computed_at),
        ..Default::default()
    })
    .exec(txn)
    .await?
    .last_insert_id;
    let row = opinion_snapshot::Model {
        id,
        consultation_id,
        kind,
        vote_high_water_mark: hwm,
        snapshot: json,
        computed_at,
    };
    // The summary outlives the snapshot: the report's history reads it.
    super::opinion_history::record(
        txn,
        consultation_id,
        row.id,
        kind.as_str(),
        row.computed_at,
        &snapshot,
        stability.as_ref(),
    )
    .await?;
    let kept_ids: Vec<i64> = opinion_snapshot::Entity::find()
        .select_only()
        .column(opinion_snapshot::Column::Id)
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
        .filter(opinion_snapshot::Column::Kind.eq(Kind::Warm))
        .order_by_desc(opinion_snapshot::Column::Id)
        .limit(WARM_KEPT)
        .into_tuple()
        .all(txn)
        .await?;
    if let Some(&oldest_kept) = kept_ids.last() {
        opinion_snapshot::Entity::delete_many()
            .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
            .filter(opinion_snapshot::Column::Kind.eq(Kind::Warm))
            .filter(opinion_snapshot::Column::Id.lt(oldest_kept))
            .exec(txn)
            .await?;
    }
    tracing::info!(
        consultation = consultation_id,
        kind = kind.as_str(),
        k = snapshot.k,
        votes = snapshot.receipt.counts.votes,
        store_ms = started.elapsed().as_millis() as u64,
        "opinion snapshot stored"
    );
    // The pages' parsed copy: this process need not parse what it just made.
    // The caller keeps it once the row is committed: kept earlier, a request
    // would find it newer than the newest row it can see.
    let mut kept = row.clone();
    kept.snapshot = String::new();
    let entry = CachedSnapshot {
        row: kept,
        snapshot: Arc::new(snapshot),
    };
    Ok((row, entry))
}

/// A snapshot is stale when votes arrived after it or a moderator changed a
/// statement (rejected or meta statements count differently in the math).
async fn is_stale(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    last: &RowInfo,
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

/// The newest snapshot row's bookkeeping (without its JSON).
#[derive(Debug, Clone)]
struct RowInfo {
    id: i64,
    vote_high_water_mark: i64,
    computed_at: chrono::DateTime<chrono::Utc>,
}

async fn latest_row_id(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Option<RowInfo>, AppError> {
    Ok(opinion_snapshot::Entity::find()
        .select_only()
        .column(opinion_snapshot::Column::Id)
        .column(opinion_snapshot::Column::VoteHighWaterMark)
        .column(opinion_snapshot::Column::ComputedAt)
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
        .order_by_desc(opinion_snapshot::Column::Id)
        .into_tuple::<(i64, i64, chrono::DateTime<chrono::Utc>)>()
        .one(db)
        .await?
        .map(|(id, vote_high_water_mark, computed_at)| RowInfo {
            id,
            vote_high_water_mark,
            computed_at,
        }))
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
        let last = latest_row_id(db, c.id).await?;
        if c.status == crate::domain::ConsultationStatus::Closed {
            let has_final = opinion_snapshot::Entity::find()
                .select_only()
                .column(opinion_snapshot::Column::Id)
                .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
                .filter(opinion_snapshot::Column::Kind.eq(Kind::Final))
                .into_tuple::<i64>()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_snapshot_gives_way_only_to_a_newer_or_a_final_one() {
        use Kind::{Final, Warm};
        assert!(replaces(None, (Warm, 1)));
        assert!(replaces(Some((Warm, 5)), (Warm, 6)));
        // A request that looked up the public id just before a new snapshot
        // was committed parses the older row: it must not push the new one out.
        assert!(!replaces(Some((Warm, 6)), (Warm, 5)));
        assert!(!replaces(Some((Warm, 6)), (Warm, 6)));
        assert!(replaces(Some((Warm, 6)), (Final, 3)));
        assert!(!replaces(Some((Final, 7)), (Warm, 9)));
        assert!(!replaces(Some((Final, 7)), (Final, 7)));
        assert!(replaces(Some((Final, 7)), (Final, 8)));
    }

    fn vote(participant: i64, statement: i64, value: VoteValue) -> Vote {
        Vote {
            participant,
            statement,
            value,
        }
    }

    fn cell(k: &Kept, participant: i64, statement: i64) -> Option<i8> {
        let m = k.engine.matrix();
        let (cols, values) = m.row(m.row_index(participant)?);
        cols.iter()
            .position(|&c| m.statements[c as usize] == statement)
            .map(|i| values[i])
    }

    /// The PostgreSQL case: a row that commits after later ids were applied is
    /// applied when the window is read again, and does not undo a later vote
    /// on its cell.
    #[test]
    fn a_late_history_row_is_applied_before_the_later_rows_of_its_cell() {
        let flags: BTreeMap<i64, StatementFlags> =
            (1..=3).map(|s| (s, StatementFlags::default())).collect();
        // The full read saw history rows 9 and 10.
        let mut builder = opinion::MatrixBuilder::new();
        builder.push(vote(1, 1, VoteValue::Agree));
        builder.push(vote(2, 2, VoteValue::Agree));
        let mut k = Kept {
            engine: opinion::Incremental::from_builder(builder, flags.clone(), None),
            mark: 10,
            recent: [9, 10].into(),
            row_id: 1,
            built: std::time::Instant::now(),
        };
        let seen = [
            (9, vote(1, 1, VoteValue::Agree)),
            (10, vote(2, 2, VoteValue::Agree)),
        ];
        let mut window = seen.to_vec();
        window.push((12, vote(3, 3, VoteValue::Agree)));
        k.apply(window, 12, &flags);
        assert_eq!(cell(&k, 3, 3), Some(1));
        let rows_before = k.engine.vote_rows();
        let window = vec![
            (7, vote(1, 1, VoteValue::Disagree)), // late; its cell changed again at 9 and 13
            (8, vote(4, 1, VoteValue::Disagree)), // late; the only vote of its cell
            seen[0],
            seen[1],
            (12, vote(3, 3, VoteValue::Agree)), // applied last round
            (13, vote(1, 1, VoteValue::Pass)),  // new
        ];
        k.apply(window, 13, &flags);
        assert_eq!(cell(&k, 1, 1), Some(0), "the later votes of the cell win");
        assert_eq!(cell(&k, 4, 1), Some(-1), "the late vote is applied");
        assert_eq!(cell(&k, 2, 2), Some(1));
        // Rows 7, 9 and 13 of the late cell (1, 1) and row 8.
        assert_eq!(k.engine.vote_rows(), rows_before + 4);
        assert_eq!(k.mark, 13);
        assert!(k.recent.contains(&7) && k.recent.contains(&13));
    }
}
