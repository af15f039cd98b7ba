//! The opinion recompute worker: every few seconds it looks for conversations
//! with new votes and stores a warm-started snapshot for each (so a burst of
//! votes costs one engine run per consultation per interval), and retries any
//! missing final snapshot of a closed consultation. Failures are logged and
//! retried on the next round; voting never waits for this.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::services::snapshots::{self, LockMode};

pub struct RecomputeWorker {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl RecomputeWorker {
    /// Start the worker on the current tokio runtime.
    pub fn spawn(db: DatabaseConnection, interval: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let handle = tokio::spawn(async move {
            // Rounds start `interval` apart, not `interval` after the last one
            // ended: on a big conversation a round takes seconds, and a new
            // vote should not wait for a whole pause on top of it. A round
            // longer than the interval is followed by the next one at once.
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stopped.changed() => break,
                }
                if *stopped.borrow() {
                    break;
                }
                run_once(&db).await;
            }
            tracing::debug!("opinion recompute worker stopped");
        });
        RecomputeWorker { stop, handle }
    }

    /// Ask the worker to stop and wait until it has (a running engine pass
    /// finishes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// One round: recompute every consultation that needs it. Returns how many
/// snapshots were stored.
pub async fn run_once(db: &DatabaseConnection) -> usize {
    let work = match snapshots::pending_work(db).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "opinion recompute: cannot list pending work");
            return 0;
        }
    };
    let mut stored = 0;
    for (consultation_id, kind) in work {
        let started = std::time::Instant::now();
        let result = snapshots::recompute(db, consultation_id, kind, LockMode::Skip).await;
        if !matches!(result, Ok(None)) {
            crate::metrics::recompute_finished(
                consultation_id,
                kind.as_str(),
                started,
                result.is_ok(),
            );
        }
        match result {
            Ok(Some(_)) => stored += 1,
            Ok(None) => {}
            Err(e) => tracing::error!(
                consultation = consultation_id,
                kind = kind.as_str(),
                error = %e,
                "opinion recompute failed; retrying next round"
            ),
        }
    }
    stored
}
