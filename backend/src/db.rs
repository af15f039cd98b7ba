//! Database connection for both backends. The URL alone decides SQLite or
//! PostgreSQL; nothing else in the application needs to know which one it is.

use anyhow::Context;
use samskab_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use std::time::Duration;

use crate::configuration::Settings;

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    if !settings.is_postgres() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    }
    let mut options = ConnectOptions::new(url);
    let size = settings.database_max_connections.max(1);
    options
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // WAL lets readers go on while one connection writes (the rollback journal
        // blocked every page during a vote commit or a snapshot write), and a
        // busy timeout makes a writer wait its turn instead of failing at once.
        // synchronous=NORMAL in WAL mode keeps the database consistent after a
        // crash; the last transactions before a power loss (not a process crash)
        // may be lost, which is the documented trade-off for many fewer fsyncs.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    if settings.is_postgres() {
        // A fixed-size pool whose connections never expire: see `fill_pool`.
        options
            .min_connections(size)
            .idle_timeout(None)
            .max_lifetime(None)
            // sqlx pings a pooled connection on every checkout by default: a
            // round trip (and a wake-up of the server process) before each
            // query, one of a vote's two round trips. A connection in steady
            // use has just proved it works; only one that sat idle long
            // enough for a proxy or firewall to drop it is checked first. A
            // connection that broke in between fails its query, which is
            // answered as any database error is.
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
    } else {
        // An SQLite connection is a file opened on a thread of its own: it
        // cannot be dropped by the other end, and the ping only passed a
        // message to that thread and back before every query.
        options.test_before_acquire(false);
    }
    let db = Database::connect(options)
        .await
        .context("connecting to the database")?;
    if settings.is_postgres() {
        fill_pool(&db).await?;
    }
    Ok(db)
}

/// Open every pooled connection now, on the caller's runtime (the process's
/// main runtime), and keep them for the life of the pool.
///
/// sqlx ties a connection's socket to the Tokio runtime that opened it, and
/// actix-web runs one runtime per worker thread. A connection opened lazily
/// inside a request belongs to that worker's runtime; when the workers stop
/// one by one during a graceful shutdown, a request still finishing on another
/// worker (or a background job) could take such a connection from the shared
/// pool and fail with "A Tokio 1.x context was found, but it is being
/// shutdown" — a 500 during a rolling restart. With all connections opened
/// here and no idle timeout or lifetime to replace them, only a connection
/// that broke (the database restarted) is reopened inside a worker.
/// SQLite needs none of this: each of its connections runs on a thread of
/// its own, not on a runtime's sockets.
async fn fill_pool(db: &DatabaseConnection) -> anyhow::Result<()> {
    let pool = db.get_postgres_connection_pool();
    let size = pool.options().get_max_connections() as usize;
    let held = futures::future::try_join_all((0..size).map(|_| pool.acquire()))
        .await
        .context("opening the database connections")?;
    drop(held);
    Ok(())
}

/// Apply pending migrations. On PostgreSQL several replicas may start at
/// once: a session-level advisory lock, held on a dedicated single connection,
/// lets exactly one of them migrate while the others wait and then find
/// nothing to do.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None)
            .await
            .context("applying database migrations");
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*options).clone())
        .await
        .context("connecting for migrations")?;
    let single = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
    let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
    single
        .execute_unprepared(&lock)
        .await
        .context("taking the migration lock")?;
    let result = Migrator::up(&single, None).await;
    let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
    let _ = single.execute_unprepared(&unlock).await;
    let _ = single.close().await;
    result.context("applying database migrations")
}

/// Arbitrary but fixed: identifies Samskab's migration lock in pg_locks.
const MIGRATION_LOCK: i64 = 0x5a4d_5348_4142;

/// Ready = the database answers and no migration is pending.
pub async fn is_ready(db: &DatabaseConnection) -> Result<(), String> {
    db.ping().await.map_err(|e| format!("database: {e}"))?;
    let pending = Migrator::get_pending_migrations(db)
        .await
        .map_err(|e| format!("migrations: {e}"))?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("{} migrations pending", pending.len()))
    }
}

/// The SQL statements the application sent, for tests that keep a hot path's
/// number of queries from growing unnoticed (`BuildOptions::statement_log`).
/// Transaction control (BEGIN, COMMIT) is not among them.
#[derive(Debug, Default)]
pub struct StatementLog {
    statements: std::sync::Mutex<Vec<String>>,
}

impl StatementLog {
    /// A log that lives as long as the process (tests leak one per app).
    pub fn leaked() -> &'static StatementLog {
        Box::leak(Box::default())
    }

    pub fn record(&self, sql: &str) {
        if let Ok(mut list) = self.statements.lock() {
            list.push(sql.to_owned());
        }
    }

    /// The statements recorded since the last call, oldest first.
    pub fn take(&self) -> Vec<String> {
        self.statements
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }

    /// Record every statement `db` (and its clones made afterwards) sends,
    /// and those of the connections [`own_connection`] opens to the same
    /// database.
    pub fn attach(&'static self, db: &mut DatabaseConnection) {
        db.set_metric_callback(move |info| self.record(&info.statement.sql));
        if let Some(key) = log_key(db) {
            STATEMENT_LOGS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, self);
        }
    }
}

/// Statement logs by database (tests only ever attach one per database).
static STATEMENT_LOGS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, &'static StatementLog>>,
> = std::sync::LazyLock::new(Default::default);

/// Which database `db` is, for [`STATEMENT_LOGS`] (`None` for in-memory
/// SQLite databases, which no other connection can open).
fn log_key(db: &DatabaseConnection) -> Option<String> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let o = db.get_postgres_connection_pool().connect_options();
            Some(format!(
                "postgres://{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or("")
            ))
        }
        DbBackend::Sqlite => sqlite_file(db).map(|f| f.display().to_string()),
        _ => None,
    }
}

/// The file of an SQLite database (`None` for PostgreSQL and in-memory ones).
fn sqlite_file(db: &DatabaseConnection) -> Option<std::path::PathBuf> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    (file.as_os_str() != ":memory:").then(|| file.to_path_buf())
}

/// A pool of one connection of its own to the database `db` uses, opened
/// with the same settings when first used (`None` for in-memory SQLite
/// databases: use `db`). Why, on SQLite: in WAL mode a connection throws
/// away its page cache whenever another connection wrote since its last
/// transaction, so a writer that takes whichever pooled connection is free
/// reads the tables' pages again for almost every transaction; one that
/// always uses the same connection keeps them. On PostgreSQL: a connection
/// belongs to the Tokio runtime that opened it (see [`fill_pool`]), so a
/// thread with a runtime of its own needs one of its own. It is not pinged
/// before use: a caller that sees it fail opens another.
///
/// On SQLite it leaves the WAL checkpoints to [`own_checkpointer`]. A
/// connection that commits when the WAL holds more than 1,000 pages (by
/// default) copies them into the database file and waits for two fsyncs
/// before its next statement: under a stream of votes the vote writer did
/// that 15 times a second, 13 ms each, and wrote no vote meanwhile. It still
/// checkpoints itself when the WAL grows past [`OWN_CHECKPOINT_PAGES`], in
/// case the checkpointer falls behind.
pub fn own_connection(db: &DatabaseConnection) -> Option<DatabaseConnection> {
    let own = own_pool(db, |o| {
        o.pragma("wal_autocheckpoint", OWN_CHECKPOINT_PAGES.to_string())
    })?;
    Some(logged(db, own))
}

/// See [`own_connection`]: 40 MB of 4 KiB pages.
const OWN_CHECKPOINT_PAGES: u32 = 10_000;

/// A connection of its own for the WAL checkpoints that an
/// [`own_connection`] leaves; `None` but for an SQLite file. Its
/// statements are not in the statement log: they come on a clock, not from
/// requests.
pub fn own_checkpointer(db: &DatabaseConnection) -> Option<DatabaseConnection> {
    sqlite_file(db)?;
    own_pool(db, |o| o)
}

/// Copy what the WAL holds into the database file, beside the writers and
/// readers (a passive checkpoint waits for no one and stops no one). Until
/// this copy is synced, a power cut (not a crash of the process) can lose
/// the transactions since the last one.
pub async fn checkpoint(own: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    own.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .map(|_| ())
}

fn own_pool(
    db: &DatabaseConnection,
    sqlite: impl FnOnce(
        sea_orm::sqlx::sqlite::SqliteConnectOptions,
    ) -> sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> Option<DatabaseConnection> {
    Some(match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = (*db.get_postgres_connection_pool().connect_options()).clone();
            let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(options);
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        }
        DbBackend::Sqlite => {
            sqlite_file(db)?;
            let options = sqlite((*db.get_sqlite_connection_pool().connect_options()).clone());
            let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(options);
            sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        }
        _ => return None,
    })
}

/// `own`, recording its statements in `db`'s [`StatementLog`], if any.
fn logged(db: &DatabaseConnection, mut own: DatabaseConnection) -> DatabaseConnection {
    let log = log_key(db).and_then(|key| {
        STATEMENT_LOGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .copied()
    });
    if let Some(log) = log {
        own.set_metric_callback(move |info| log.record(&info.statement.sql));
    }
    own
}
