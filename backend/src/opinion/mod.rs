//! The opinion engine: a pure function from votes to opinion groups (see OPINION.md).
//! No database, HTTP, clock or global RNG in here.

pub mod cli;
