//! Database connection for both backends. The URL alone decides SQLite or
//! PostgreSQL; nothing else in the application needs to know which one it is.

use anyhow::Context;
use samskab_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::Duration;

use crate::configuration::Settings;

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    if !settings.is_postgres() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.database_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .context("connecting to the database")?;
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("applying database migrations")
}

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
