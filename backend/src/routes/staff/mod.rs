//! Council staff pages: running consultations and the ideas dashboard.
//! (Statement moderation of a conversation is in `routes::deliberation`.)

pub mod consultations;
pub mod desk;
pub mod ideas;
pub mod paper;
pub mod workbench;
