//! Housekeeping: delete rate-limit counters whose windows have passed. The
//! delete is idempotent, so each replica runs it on its own without a lock.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::services::rate_limits;

/// How often expired counters are deleted.
pub const INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Run for as long as the process does.
pub async fn run(db: DatabaseConnection) {
    loop {
        tokio::time::sleep(INTERVAL).await;
        run_once(&db).await;
    }
}

/// One round; returns how many counters were deleted.
pub async fn run_once(db: &DatabaseConnection) -> u64 {
    match rate_limits::delete_expired(db).await {
        Ok(n) => {
            if n > 0 {
                tracing::debug!(deleted = n, "expired rate-limit counters deleted");
            }
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "deleting expired rate-limit counters failed");
            0
        }
    }
}
