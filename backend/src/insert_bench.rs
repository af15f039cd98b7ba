//! `samskab bench insert`: the raw single-row INSERT rate of the configured database, through
//! the application's own connection pool and settings (WAL, busy timeout, pool size). The load
//! benchmark (`tests/load/run`) prints it beside the vote POST rate of the same database in the
//! same run, so the vote path's overhead is a ratio rather than a guess.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// Scratch table: created for the run and dropped after it.
const TABLE: &str = "bench_raw_insert";

#[derive(Debug, Clone, PartialEq)]
pub struct InsertRate {
    pub concurrency: usize,
    pub inserts: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `concurrency` tasks insert one row per statement (autocommit) for `seconds`.
pub async fn run(
    db: &DatabaseConnection,
    concurrency: usize,
    seconds: f64,
) -> anyhow::Result<InsertRate> {
    let create = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id BIGSERIAL PRIMARY KEY, a BIGINT NOT NULL, \
             b BIGINT NOT NULL, value SMALLINT NOT NULL, at TIMESTAMPTZ NOT NULL)"
        ),
        _ => format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             a BIGINT NOT NULL, b BIGINT NOT NULL, value SMALLINT NOT NULL, at TEXT NOT NULL)"
        ),
    };
    db.execute_unprepared(&create).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let db = db.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let sql = sea_orm::Statement::from_sql_and_values(
                    db.get_database_backend(),
                    match db.get_database_backend() {
                        DbBackend::Postgres => {
                            format!("INSERT INTO {TABLE} (a, b, value, at) VALUES ($1, $2, $3, $4)")
                        }
                        _ => format!("INSERT INTO {TABLE} (a, b, value, at) VALUES (?, ?, ?, ?)"),
                    },
                    [
                        (t as i64).into(),
                        n.into(),
                        1i16.into(),
                        chrono::Utc::now().into(),
                    ],
                );
                let one = Instant::now();
                db.execute_raw(sql).await?;
                latencies.push(one.elapsed().as_secs_f64() * 1000.0);
                n += 1;
            }
            Ok::<_, sea_orm::DbErr>(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    db.execute_unprepared(&format!("DROP TABLE {TABLE}"))
        .await?;
    all.sort_by(f64::total_cmp);
    Ok(InsertRate {
        concurrency,
        inserts: all.len(),
        per_second: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    })
}
