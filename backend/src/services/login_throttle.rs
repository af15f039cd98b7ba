//! Slows down password guessing: after `MAX_FAILURES` wrong passwords for one
//! email address within `WINDOW`, further attempts for that address are
//! refused until the window has passed.
//!
//! Keyed by the normalised email rather than the client address, because
//! behind the municipality's proxy many citizens share one address (a library,
//! the citizen service desk) and blocking it would shut them all out. The
//! price is that someone can hold one account's password login back for at
//! most `WINDOW`; MitID login is unaffected. The state is per process: with
//! several instances the limit applies per instance, which still caps guessing
//! at a small multiple of `MAX_FAILURES` per window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Beyond this many tracked addresses, expired entries are swept on insert.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    fn key(email: &str) -> String {
        email.trim().to_lowercase()
    }

    /// `Err(wait)` while the address is throttled.
    pub fn check(&self, email: &str, now: Instant) -> Result<(), Duration> {
        let map = self.lock();
        match map.get(&Self::key(email)) {
            Some(&(count, since)) if count >= MAX_FAILURES => {
                let elapsed = now.saturating_duration_since(since);
                if elapsed < WINDOW {
                    Err(WINDOW - elapsed)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, email: &str, now: Instant) {
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, (_, since)| now.saturating_duration_since(*since) < WINDOW);
        }
        let entry = map.entry(Self::key(email)).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, email: &str) {
        self.lock().remove(&Self::key(email));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_after_max_failures_until_the_window_passes() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(t.check("A@example.org", start).is_ok());
            t.record_failure("a@example.org ", start);
        }
        let wait = t.check("a@example.org", start + Duration::from_secs(60));
        assert_eq!(wait, Err(WINDOW - Duration::from_secs(60)));
        assert!(t.check("other@example.org", start).is_ok());
        assert!(t.check("a@example.org", start + WINDOW).is_ok());
    }

    #[test]
    fn success_clears_and_old_failures_expire() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.record_failure("b@example.org", start);
        }
        t.record_success("b@example.org");
        t.record_failure("b@example.org", start);
        assert!(t.check("b@example.org", start).is_ok());
        for _ in 0..MAX_FAILURES - 1 {
            t.record_failure("c@example.org", start);
        }
        // The window restarts, so the tenth failure much later does not throttle.
        t.record_failure("c@example.org", start + WINDOW);
        assert!(t.check("c@example.org", start + WINDOW).is_ok());
    }
}
