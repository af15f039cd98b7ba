//! Background work driven by database state.

pub mod cleanup;
pub mod recompute;
