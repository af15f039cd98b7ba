//! `samskab migrate-data --from sqlite://… --to postgres://…`: move an
//! installation from the SQLite default to PostgreSQL (or between any two
//! databases Samskab runs on). Samskab must be stopped meanwhile.
//!
//! The target is migrated to the current schema and must be empty; every row
//! of every table is copied through the typed entities (so booleans, times
//! and JSON land in the target's own types), parents before children, with
//! the ids kept; PostgreSQL's id sequences are then moved past the copied
//! ids. Finally both sides are checked with `backup::verify`: the same row
//! count in every table and the same vote history digest, or it fails.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    Iterable, PrimaryKeyToColumn, QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use crate::backup::{self, Verification};
use crate::entities::*;

/// Rows per `INSERT`.
const BATCH: u64 = 500;

/// What was copied and what both sides look like afterwards.
#[derive(Debug)]
pub struct Moved {
    pub source: Verification,
    pub target: Verification,
}

/// Copy everything from `source` to the (empty) `target`; see the module docs.
pub async fn run(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
) -> anyhow::Result<Moved> {
    let before = backup::verify(source).await?;
    anyhow::ensure!(
        before.problems.is_empty(),
        "the source database has problems; fix them first (run `samskab migrate` on it \
         with the old release's settings if migrations are pending): {}",
        before.problems.join("; ")
    );
    crate::db::migrate(target).await?;
    let occupied: Vec<String> = backup::table_counts(target)
        .await?
        .into_iter()
        .filter(|(table, rows)| *rows > 0 && table != "seaql_migrations")
        .map(|(table, rows)| format!("{table} ({rows})"))
        .collect();
    anyhow::ensure!(
        occupied.is_empty(),
        "the target database is not empty: {}",
        occupied.join(", ")
    );
    // One transaction: a failure leaves the target empty, ready for another try.
    let txn = target.begin().await?;
    // Parents before children (foreign keys).
    copy::<user::Entity>(source, &txn).await?;
    copy::<consultation::Entity>(source, &txn).await?;
    copy::<audit_log::Entity>(source, &txn).await?;
    copy::<population_figure::Entity>(source, &txn).await?;
    copy::<participant::Entity>(source, &txn).await?;
    copy::<statement::Entity>(source, &txn).await?;
    copy::<vote::Entity>(source, &txn).await?;
    copy::<vote_history::Entity>(source, &txn).await?;
    copy::<opinion_snapshot::Entity>(source, &txn).await?;
    copy::<opinion_history::Entity>(source, &txn).await?;
    copy::<idea::Entity>(source, &txn).await?;
    copy::<idea_support::Entity>(source, &txn).await?;
    copy::<idea_status_change::Entity>(source, &txn).await?;
    copy::<idea_follow::Entity>(source, &txn).await?;
    copy::<comment::Entity>(source, &txn).await?;
    copy::<comment_flag::Entity>(source, &txn).await?;
    copy::<moderation_action::Entity>(source, &txn).await?;
    copy::<notification::Entity>(source, &txn).await?;
    copy::<mail_outbox::Entity>(source, &txn).await?;
    copy::<email_token::Entity>(source, &txn).await?;
    copy::<consultation_follow::Entity>(source, &txn).await?;
    copy::<session::Entity>(source, &txn).await?;
    copy::<rate_limit::Entity>(source, &txn).await?;
    if target.get_database_backend() == DbBackend::Postgres {
        advance_sequences(&txn).await?;
    }
    txn.commit().await?;
    let after = backup::verify(target).await?;
    let differ: Vec<String> = before
        .tables
        .iter()
        .filter(|(table, rows)| after.tables.get(*table) != Some(rows))
        .map(|(table, rows)| {
            format!(
                "{table}: {rows} in the source, {} in the target",
                after.tables.get(table).copied().unwrap_or(-1)
            )
        })
        .collect();
    anyhow::ensure!(
        differ.is_empty(),
        "tables differ after copying (a table Samskab does not know?): {}",
        differ.join("; ")
    );
    anyhow::ensure!(
        before.vote_history_digest == after.vote_history_digest,
        "the vote history differs after copying"
    );
    anyhow::ensure!(
        after.problems.is_empty(),
        "the target has problems: {}",
        after.problems.join("; ")
    );
    Ok(Moved {
        source: before,
        target: after,
    })
}

/// Copy one table in primary-key order, in batches.
async fn copy<E>(source: &DatabaseConnection, target: &impl ConnectionTrait) -> anyhow::Result<()>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut offset = 0;
    loop {
        let mut query = E::find();
        for key in E::PrimaryKey::iter() {
            query = query.order_by_asc(key.into_column());
        }
        let rows = query.limit(BATCH).offset(offset).all(source).await?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as u64;
        E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
            .exec_without_returning(target)
            .await
            .map_err(|e| anyhow::anyhow!("copying {}: {e}", E::default().table_name()))?;
    }
    Ok(())
}

/// After explicit ids were inserted, let PostgreSQL's sequences continue after them.
async fn advance_sequences(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    let tables = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name::text AS t FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'id'",
        ))
        .await?;
    for row in tables {
        let table: String = row.try_get("", "t")?;
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        // Tables whose id is not generated (none today) have no sequence: skipped.
        let sql = format!(
            "SELECT setval(seq, COALESCE((SELECT MAX(id) FROM {quoted}), 0) + 1, false) \
             FROM (SELECT pg_get_serial_sequence('{}', 'id') AS seq) s WHERE seq IS NOT NULL",
            quoted.replace('\'', "''")
        );
        db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}
