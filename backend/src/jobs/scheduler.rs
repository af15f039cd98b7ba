//! Opens and closes consultations at the times staff planned, and mails the
//! followers a reminder a configurable time before the deadline.
//!
//! Every replica runs this loop. Each step is claimed by a conditional update
//! in the transaction of its effects (`services::lifecycle::apply`), so with
//! several processes on one PostgreSQL database each step still happens
//! exactly once. Each round looks at everything that is due, so a server that
//! was down past a deadline catches up on its first round.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::errors::AppError;
use crate::services::consultations::{self, Status};
use crate::services::lifecycle::{self, Actor};

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub opened: usize,
    pub closed: usize,
    pub reminded: usize,
    /// How late (seconds) the step that was due longest ago was taken; 0
    /// when every step was on time or nothing was due.
    pub lag_seconds: i64,
}

/// Run for as long as the process does, with the real clock.
pub async fn run(db: DatabaseConnection, every: Duration, remind_before: chrono::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let round = run_once(&db, Utc::now(), remind_before).await;
        if let Ok(r) = &round {
            crate::metrics::record_scheduler_lag(r.lag_seconds as f64);
        }
        match round {
            Ok(r) if r.opened + r.closed + r.reminded > 0 => tracing::info!(
                opened = r.opened,
                closed = r.closed,
                reminded = r.reminded,
                "scheduled consultation steps"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "consultation scheduler round failed"),
        }
    }
}

/// One round at `now`: open drafts whose opening time has come, close open
/// consultations whose deadline has passed (in that order, so a draft whose
/// whole period lies in the past opens and closes), and send reminders for
/// deadlines within `remind_before`. Steps another replica took first are
/// not counted.
pub async fn run_once(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    remind_before: chrono::Duration,
) -> Result<Round, AppError> {
    let mut round = Round::default();
    // The lag metric: how long past its time the most overdue step was.
    let lag = |due: Option<DateTime<Utc>>| due.map_or(0, |due| (now - due).num_seconds());
    for c in consultations::due_to_open(db, now).await? {
        round.lag_seconds = round.lag_seconds.max(lag(c.opens_at));
        if lifecycle::apply(db, Actor::Scheduler, &c, Status::Open, now)
            .await?
            .is_some()
        {
            round.opened += 1;
        }
    }
    // After the openings: a draft whose whole period lies in the past is
    // closed in the same round.
    for c in consultations::due_to_close(db, now).await? {
        round.lag_seconds = round.lag_seconds.max(lag(c.closes_at));
        if lifecycle::apply(db, Actor::Scheduler, &c, Status::Closed, now)
            .await?
            .is_some()
        {
            round.closed += 1;
        }
    }
    if remind_before > chrono::Duration::zero() {
        for c in consultations::due_for_reminder(db, now, now + remind_before).await? {
            if lifecycle::send_reminder(db, &c, now).await? {
                round.reminded += 1;
            }
        }
    }
    Ok(round)
}
