//! Housekeeping: one periodic job with a list of tasks that keep the
//! database small and keep the privacy page's promises (retention). Every
//! task is idempotent or claims its work with a conditional update, so every
//! replica may run the job at the same time and each effect happens once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::configuration::RetentionSettings;
use crate::errors::AppError;
use crate::services::{rate_limits, retention, sessions};

/// One thing the job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Rate-limit counters whose windows have passed.
    RateLimits,
    /// Sessions past their idle or absolute end.
    Sessions,
    /// Single-use mail links past their expiry.
    ExpiredTokens,
    /// The content of mails that are sent (or given up).
    SentMailBodies,
    /// Accounts whose address was never confirmed.
    UnverifiedAccounts,
    /// Warn citizens who have been away for long.
    WarnInactive,
    /// Delete the accounts of warned citizens who did not come back.
    DeleteInactive,
}

/// Every task, in the order they run.
pub const TASKS: &[Task] = &[
    Task::RateLimits,
    Task::Sessions,
    Task::ExpiredTokens,
    Task::SentMailBodies,
    Task::UnverifiedAccounts,
    Task::WarnInactive,
    Task::DeleteInactive,
];

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::RateLimits => "rate limits",
            Task::Sessions => "sessions",
            Task::ExpiredTokens => "expired tokens",
            Task::SentMailBodies => "sent mail bodies",
            Task::UnverifiedAccounts => "unverified accounts",
            Task::WarnInactive => "inactive accounts warned",
            Task::DeleteInactive => "inactive accounts deleted",
        }
    }

    /// Run the task as of `now`; how many rows it dealt with.
    pub async fn run(
        self,
        db: &DatabaseConnection,
        settings: &RetentionSettings,
        now: DateTime<Utc>,
    ) -> Result<u64, AppError> {
        Ok(match self {
            Task::RateLimits => rate_limits::delete_expired(db).await?,
            Task::Sessions => sessions::delete_expired(db).await?,
            Task::ExpiredTokens => retention::delete_expired_tokens(db, now).await?,
            Task::SentMailBodies => retention::clear_sent_mail_bodies(db).await?,
            Task::UnverifiedAccounts => retention::delete_unverified(db, settings, now).await?,
            Task::WarnInactive => retention::warn_inactive(db, settings, now).await?,
            Task::DeleteInactive => retention::delete_inactive(db, settings, now).await?,
        })
    }
}

/// One round of every task as of `now`: what each did. A failing task is
/// logged and the others still run.
pub async fn run_once(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Vec<(Task, u64)> {
    let mut done = Vec::with_capacity(TASKS.len());
    for task in TASKS {
        match task.run(db, settings, now).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(task = task.name(), rows = n, "housekeeping");
                }
                done.push((*task, n));
            }
            Err(e) => tracing::warn!(task = task.name(), error = %e, "housekeeping task failed"),
        }
    }
    done
}

/// Run for as long as the process does: every `settings.every_seconds`, the first time one
/// period after start (a write in the first moments would collide with the
/// start-up work on SQLite, and nothing is due in a fresh process that the
/// next round would not do as well).
pub async fn run(db: DatabaseConnection, settings: RetentionSettings) {
    let every = Duration::from_secs(settings.every_seconds.max(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        run_once(&db, &settings, crate::services::now()).await;
    }
}
