//! Tools around the opinion engine that the product itself does not run on: the
//! `samskab opinion` command line, the benchmark, the seeded synthetic conversations
//! (also the demo's and the tests' data), reading Pol.is exports and comparing groups
//! with the adjusted Rand index. The engine's core (`crate::opinion`) never depends on
//! this module.

pub mod ari;
pub mod bench;
pub mod cli;
pub mod polis;
pub mod polis_stream;
pub mod synthetic;
pub mod synthetic_export;
