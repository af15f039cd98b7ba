//! SeaORM entities: the shape of the tables and nothing else. Behaviour lives in
//! `crate::services`.

pub mod audit_log;
pub mod consultation;
pub mod opinion_snapshot;
pub mod participant;
pub mod statement;
pub mod user;
pub mod vote;
pub mod vote_history;
