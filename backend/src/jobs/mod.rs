//! Background work driven by database state: opinion recompute, housekeeping
//! (expired sessions and counters, retention of personal data).

pub mod housekeeping;
pub mod recompute;
pub mod scheduler;
