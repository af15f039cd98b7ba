//! The opinion recompute worker: every second (by default) it looks for conversations
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
            // Pol.is's math worker looks for new votes every second, and so do we
            // (`interval`). A round on a big conversation takes seconds; it is followed
            // by a rest of half its length, so the engine never takes more than two
            // thirds of one core from the web workers while votes stream in, and a new
            // vote still reaches a snapshot within about two and a half rounds.
            let mut rest = interval;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(rest) => {}
                    _ = stopped.changed() => break,
                }
                if *stopped.borrow() {
                    break;
                }
                let started = tokio::time::Instant::now();
                run_once(&db).await;
                rest = interval.max(started.elapsed() / 2);
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
