//! SeaORM entities: the shape of the tables and nothing else. Behaviour lives in
//! `crate::services`.

pub mod audit_log;
pub mod consultation;
pub mod user;
