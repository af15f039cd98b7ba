//! Background work driven by database state: opinion recompute, session cleanup.

pub mod cleanup;
pub mod recompute;
pub mod scheduler;
pub mod sessions;
