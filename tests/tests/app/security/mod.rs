//! Regression tests for the findings of the independent security probe, one
//! submodule per theme, each test on both databases. Each test replays the
//! probe's request and asserts the safe outcome.

mod input;
mod limits;
mod sessions;
