//! Deletes expired sessions now and then. An expired session is refused when
//! it is read anyway; this only keeps the table small. Deleting is idempotent,
//! so every replica may run it.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::services::sessions;

/// How often expired sessions are deleted.
pub const EVERY: Duration = Duration::from_secs(10 * 60);

/// Run forever (a tokio task): every [`EVERY`], the first time one period
/// after start. Not at start: on SQLite a write in the first moments would
/// collide with the start-up work of the process (and, in the tests, with
/// the fixtures being written), and nothing has expired in a fresh process
/// that the next round would not delete just as well.
pub async fn run(db: DatabaseConnection) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sessions::delete_expired(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "expired sessions deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired sessions failed"),
        }
    }
}
