//! The rules of the product that need no database: consultation statuses and
//! their transitions, moderation modes, who may take part, and the reasons an
//! action is refused. Services load the facts and ask these functions; pages
//! and actions therefore decide every rule the same way.
//!
//! This module depends on nothing else in the crate, and nothing here performs
//! I/O; the enums derive SeaORM's `DeriveActiveEnum` only so the entities can
//! store them in their existing text columns.

pub mod channel;
pub mod comment;
pub mod consultation;
pub mod eligibility;
pub mod idea;
pub mod mail;
pub mod personal_data;
pub mod refusal;
pub mod role;
pub mod similarity;
pub mod snapshot;
pub mod statement;

pub use comment::CommentStatus;
pub use consultation::{ModerationMode, Status as ConsultationStatus};
pub use eligibility::{EligibilityRules, Ineligible, Participation, VotingEligibility};
pub use idea::IdeaStatus;
pub use mail::{MailKind, MailStatus, NotificationKind, TokenPurpose};
pub use refusal::Refusal;
pub use role::Role;
pub use snapshot::SnapshotKind;
pub use statement::StatementStatus;
