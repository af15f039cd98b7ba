//! The report's vote figures of a consultation: current votes, voters and
//! votes cast per day. Counting them means a pass over every vote (millions
//! in a big conversation), so each process counts them once per consultation
//! and afterwards only adds the rows that are new since: votes are never
//! deleted and the history is append-only, so a count over the ids up to a
//! mark stays right for good, and a report costs what is new, not what is
//! old.
//!
//! The mark is only moved over rows that can no longer appear below it. On
//! SQLite writers take turns, so ids become visible in order and every id up
//! to the largest one seen is settled. On PostgreSQL an id is drawn before
//! its transaction commits, so a vote with a smaller id may still appear
//! after a larger one: the newest [`super::snapshots::PG_UNSETTLED`] ids are counted afresh on
//! every report instead of being added to the mark.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

use crate::errors::AppError;

/// The vote figures of one consultation, as the report shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoteTally {
    /// Current votes (a changed vote counts once).
    pub votes: u64,
    /// Participants with at least one current vote.
    pub voters: u64,
    /// Votes cast per day (UTC, YYYY-MM-DD), every vote including later-changed ones.
    pub per_day: BTreeMap<String, u64>,
}

/// What was counted up to the marks (ids of `vote_history` and `votes`).
#[derive(Debug, Clone, Default)]
struct Settled {
    history_upto: i64,
    votes_upto: i64,
    tally: VoteTally,
}

type Key = (String, i64);

static SETTLED: LazyLock<Mutex<HashMap<Key, Settled>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn kept(key: &Key) -> Option<Settled> {
    SETTLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(key)
        .cloned()
}

fn keep(key: Key, s: Settled) {
    SETTLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key, s);
}

/// `sql` with `?` placeholders numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn max_id(db: &DatabaseConnection, table: &str) -> Result<i64, AppError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(statement(
            backend,
            &format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"),
            Vec::new(),
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "m")?,
        None => 0,
    })
}

/// The condition for the consultation's rows with ids in `(after, upto]`.
/// The first count (`after` 0) walks the consultation's index; later ones only
/// the new ids: the history by its (consultation, id) index, the votes by
/// their primary key (`consultation_id + 0` keeps the database off the
/// consultation's other indexes, which would walk every vote).
fn range(after: i64, upto: i64, by_primary_key: bool) -> (String, Vec<Value>) {
    let (consultation, id) = match (after, by_primary_key) {
        (0, _) => ("consultation_id = ?", "id + 0"),
        (_, true) => ("consultation_id + 0 = ?", "id"),
        (_, false) => ("consultation_id = ?", "id"),
    };
    let mut cond = format!("{consultation} AND {id} > ?");
    let mut values: Vec<Value> = vec![after.into()];
    if upto < i64::MAX {
        cond.push_str(&format!(" AND {id} <= ?"));
        values.push(upto.into());
    }
    (cond, values)
}

/// Votes cast per day in `(after, upto]` of the history.
async fn days(
    db: &DatabaseConnection,
    consultation_id: i64,
    after: i64,
    upto: i64,
) -> Result<BTreeMap<String, u64>, AppError> {
    let backend = db.get_database_backend();
    let day = match backend {
        // Timestamps are stored in UTC, as text starting with the date.
        DbBackend::Sqlite => "substr(cast_at, 1, 10)",
        _ => "to_char(cast_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    };
    let (cond, rest) = range(after, upto, false);
    let mut values: Vec<Value> = vec![consultation_id.into()];
    values.extend(rest);
    let rows = db
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT {day} AS day, COUNT(*) AS n FROM vote_history WHERE {cond} GROUP BY {day}"
            ),
            values,
        ))
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let day: String = row.try_get("", "day")?;
        let n: i64 = row.try_get("", "n")?;
        *out.entry(day).or_default() += u64::try_from(n).unwrap_or(0);
    }
    Ok(out)
}

/// Current votes with ids in `(after, upto]`, and how many participants
/// among them have no current vote with an id up to `after` (new voters).
async fn votes_in(
    db: &DatabaseConnection,
    consultation_id: i64,
    after: i64,
    upto: i64,
) -> Result<(u64, u64), AppError> {
    let backend = db.get_database_backend();
    let (cond, rest) = range(after, upto, true);
    // Placeholders are bound in the order they appear: the select list's first.
    let mut values: Vec<Value> = Vec::new();
    let new_voter = if after == 0 {
        "participant_id".to_owned()
    } else {
        // A participant's votes are found by the (participant, statement) index.
        values.push(after.into());
        "CASE WHEN NOT EXISTS (SELECT 1 FROM votes w WHERE w.participant_id = votes.participant_id \
         AND w.id <= ?) THEN participant_id END"
            .to_owned()
    };
    values.push(consultation_id.into());
    values.extend(rest);
    let row = db
        .query_one_raw(statement(
            backend,
            &format!(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT {new_voter}) AS voters FROM votes WHERE {cond}"
            ),
            values,
        ))
        .await?;
    let Some(row) = row else {
        return Ok((0, 0));
    };
    let n: i64 = row.try_get("", "n")?;
    let voters: i64 = row.try_get("", "voters")?;
    Ok((
        u64::try_from(n).unwrap_or(0),
        u64::try_from(voters).unwrap_or(0),
    ))
}

fn add_days(to: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (day, n) in from {
        *to.entry(day).or_default() += n;
    }
}

/// The vote figures of `consultation_id` now. `keep_count`: whether what was
/// counted may be kept for the next report; pass `false` for a consultation
/// without statements, because the Pol.is import fills exactly such a
/// consultation in one long transaction whose ids appear late.
pub async fn tally(
    db: &DatabaseConnection,
    consultation_id: i64,
    keep_count: bool,
) -> Result<VoteTally, AppError> {
    let backend = db.get_database_backend();
    let unsettled = if backend == DbBackend::Postgres {
        super::snapshots::PG_UNSETTLED
    } else {
        0
    };
    let history_settled = (max_id(db, "vote_history").await? - unsettled).max(0);
    let votes_settled = (max_id(db, "votes").await? - unsettled).max(0);
    let key = (super::snapshots::database_key(db), consultation_id);
    let mut s = kept(&key)
        .filter(|s| {
            keep_count && s.history_upto <= history_settled && s.votes_upto <= votes_settled
        })
        .unwrap_or_default();
    if history_settled > s.history_upto {
        let more = days(db, consultation_id, s.history_upto, history_settled).await?;
        add_days(&mut s.tally.per_day, more);
        s.history_upto = history_settled;
    }
    if votes_settled > s.votes_upto {
        let (n, voters) = votes_in(db, consultation_id, s.votes_upto, votes_settled).await?;
        s.tally.votes += n;
        s.tally.voters += voters;
        s.votes_upto = votes_settled;
    }
    if keep_count {
        keep(key, s.clone());
    }
    let mut tally = s.tally;
    if unsettled > 0 {
        add_days(
            &mut tally.per_day,
            days(db, consultation_id, history_settled, i64::MAX).await?,
        );
        let (n, voters) = votes_in(db, consultation_id, votes_settled, i64::MAX).await?;
        tally.votes += n;
        tally.voters += voters;
    }
    Ok(tally)
}
