//! Samskab: citizen co-creation and deliberation for Danish municipalities.

pub mod opinion;
