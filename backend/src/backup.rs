//! Backups and their checks.
//!
//! SQLite: `samskab backup PATH` writes a consistent copy while the server
//! runs (`VACUUM INTO` reads one snapshot of the database in a single
//! transaction; writers go on meanwhile in WAL mode).
//! PostgreSQL: `pg_dump --format=custom` / `pg_restore` (see
//! `deploy/README.md`), which are consistent by themselves.
//! `samskab verify` then checks a restored database: no migration pending,
//! every current vote backed by the vote history, every opinion snapshot
//! readable and not ahead of the votes, the newest final snapshot of every
//! consultation computed again from its votes with the same result; it
//! prints every table's row count and
//! a digest of the vote history to compare with the source.

use std::collections::BTreeMap;
use std::path::Path;

use samskab_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Statement,
};
use sha2::{Digest, Sha256};

use crate::domain::snapshot::SnapshotKind;
use crate::entities::{opinion_snapshot, vote, vote_history};
use crate::services::snapshots;

/// Write a consistent copy of a SQLite database to `path` (which must not exist).
pub async fn sqlite(db: &DatabaseConnection, path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == DbBackend::Sqlite,
        "this is a PostgreSQL database: back it up with \
         `pg_dump --format=custom --file=samskab.dump \"$SAMSKAB_DATABASE_URL\"` \
         (see deploy/README.md)"
    );
    anyhow::ensure!(
        !path.exists(),
        "{} exists already; choose a new file",
        path.display()
    );
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .map_err(|e| anyhow::anyhow!("writing the backup: {e}"))?;
    Ok(())
}

/// Every application table (migration bookkeeping included) and its rows.
pub async fn table_counts(db: &DatabaseConnection) -> anyhow::Result<BTreeMap<String, i64>> {
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, list))
        .await?;
    let mut counts = BTreeMap::new();
    for row in rows {
        let table: String = row.try_get("", "t")?;
        // The name comes from the catalogue, quoted as an identifier.
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{}\"",
            table.replace('"', "\"\"")
        );
        let n: i64 = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .map(|r| r.try_get("", "n"))
            .transpose()?
            .unwrap_or(0);
        counts.insert(table, n);
    }
    Ok(counts)
}

/// SHA-256 over the whole vote history in id order (who, what, when): equal
/// digests mean the same history, on either database.
pub async fn vote_history_digest(db: &DatabaseConnection) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut pages = vote_history::Entity::find()
        .order_by_asc(vote_history::Column::Id)
        .paginate(db, 5_000);
    while let Some(rows) = pages.fetch_and_next().await? {
        for r in rows {
            hasher.update(
                format!(
                    "{} {} {} {} {} {}\n",
                    r.id,
                    r.consultation_id,
                    r.statement_id,
                    r.participant_id,
                    r.value,
                    r.cast_at.timestamp_micros()
                )
                .as_bytes(),
            );
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// What `verify` found.
#[derive(Debug)]
pub struct Verification {
    pub tables: BTreeMap<String, i64>,
    pub vote_history_digest: String,
    /// Final snapshots computed again with the same result.
    pub final_snapshots_reproduced: usize,
    /// Final snapshots whose votes or statements changed since (a vote
    /// after a reopening, a later moderation): not compared.
    pub final_snapshots_not_comparable: usize,
    pub problems: Vec<String>,
}

/// Check a (restored) database; see the module documentation.
pub async fn verify(db: &DatabaseConnection) -> anyhow::Result<Verification> {
    let mut problems = Vec::new();
    let pending = Migrator::get_pending_migrations(db).await?;
    if !pending.is_empty() {
        problems.push(format!(
            "{} migrations are pending (run `samskab migrate`)",
            pending.len()
        ));
    }
    // Every current vote is the last entry of its history.
    let mut latest: BTreeMap<(i64, i64), (i64, i16)> = BTreeMap::new();
    let mut pages = vote_history::Entity::find()
        .order_by_asc(vote_history::Column::Id)
        .paginate(db, 5_000);
    while let Some(rows) = pages.fetch_and_next().await? {
        for r in rows {
            latest.insert((r.statement_id, r.participant_id), (r.id, r.value));
        }
    }
    let mut max_history_id = 0;
    for (id, _) in latest.values() {
        max_history_id = max_history_id.max(*id);
    }
    let mut missing = 0usize;
    let mut votes = vote::Entity::find()
        .order_by_asc(vote::Column::StatementId)
        .paginate(db, 5_000);
    let mut current = 0usize;
    while let Some(rows) = votes.fetch_and_next().await? {
        for v in rows {
            current += 1;
            match latest.get(&(v.statement_id, v.participant_id)) {
                Some((_, value)) if *value == v.value => {}
                _ => missing += 1,
            }
        }
    }
    if missing > 0 {
        problems.push(format!(
            "{missing} current votes do not match the vote history"
        ));
    }
    if current != latest.len() {
        problems.push(format!(
            "{} current votes but {} voted pairs in the history",
            current,
            latest.len()
        ));
    }
    // Snapshots are readable and were computed from votes that are here.
    for s in opinion_snapshot::Entity::find().all(db).await? {
        if serde_json::from_str::<serde_json::Value>(&s.snapshot).is_err() {
            problems.push(format!("opinion snapshot {} is not readable", s.id));
        }
        if s.vote_high_water_mark > max_history_id {
            problems.push(format!(
                "opinion snapshot {} counts votes up to {} but the history ends at {}",
                s.id, s.vote_high_water_mark, max_history_id
            ));
        }
    }
    let (reproduced, not_comparable) = reproduce_finals(db, &mut problems).await?;
    Ok(Verification {
        tables: table_counts(db).await?,
        vote_history_digest: vote_history_digest(db).await?,
        final_snapshots_reproduced: reproduced,
        final_snapshots_not_comparable: not_comparable,
        problems,
    })
}

/// Run the engine again for the newest final snapshot of every consultation
/// (the cold run its report and open data use) and compare. When the
/// engine's input is still the one the snapshot was made from (same input
/// digest: no vote or moderation since), the result must be identical; a
/// snapshot whose input changed since is counted as not comparable.
async fn reproduce_finals(
    db: &DatabaseConnection,
    problems: &mut Vec<String>,
) -> anyhow::Result<(usize, usize)> {
    let finals = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::Kind.eq(SnapshotKind::Final))
        .order_by_desc(opinion_snapshot::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let (mut reproduced, mut not_comparable) = (0, 0);
    for row in finals {
        if !seen.insert(row.consultation_id) {
            continue;
        }
        let Ok(stored) = serde_json::from_str::<serde_json::Value>(&row.snapshot) else {
            continue; // reported above as unreadable
        };
        let input = snapshots::engine_input(db, row.consultation_id)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "reading the votes of consultation {}: {e:?}",
                    row.consultation_id
                )
            })?;
        let again = tokio::task::spawn_blocking(move || {
            crate::opinion::cold_run(&input, &crate::opinion::Params::default())
        })
        .await?;
        let again = serde_json::to_value(&again)?;
        if again["receipt"]["input_sha256"] != stored["receipt"]["input_sha256"] {
            not_comparable += 1;
        } else if again == stored {
            reproduced += 1;
        } else {
            problems.push(format!(
                "the final opinion snapshot {} of consultation {} does not reproduce from its votes",
                row.id, row.consultation_id
            ));
        }
    }
    Ok((reproduced, not_comparable))
}
