//! Background work driven by database state.

pub mod recompute;
