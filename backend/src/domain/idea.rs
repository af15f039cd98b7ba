//! An idea's life: submitted (pre-moderation) → published → support gathers
//! → awaiting an answer → under review → answered / accepted / rejected →
//! implemented; the author may withdraw it early.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `ideas.status` and in the status history.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum IdeaStatus {
    Submitted,
    Published,
    UnderReview,
    AwaitingAnswer,
    Answered,
    Accepted,
    Rejected,
    Implemented,
    Withdrawn,
}

impl IdeaStatus {
    pub const ALL: [IdeaStatus; 9] = [
        IdeaStatus::Submitted,
        IdeaStatus::Published,
        IdeaStatus::UnderReview,
        IdeaStatus::AwaitingAnswer,
        IdeaStatus::Answered,
        IdeaStatus::Accepted,
        IdeaStatus::Rejected,
        IdeaStatus::Implemented,
        IdeaStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaStatus::Submitted => "submitted",
            IdeaStatus::Published => "published",
            IdeaStatus::UnderReview => "under_review",
            IdeaStatus::AwaitingAnswer => "awaiting_answer",
            IdeaStatus::Answered => "answered",
            IdeaStatus::Accepted => "accepted",
            IdeaStatus::Rejected => "rejected",
            IdeaStatus::Implemented => "implemented",
            IdeaStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        IdeaStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The states staff may move an idea to from this one.
    pub fn staff_next(self) -> &'static [IdeaStatus] {
        use IdeaStatus::*;
        match self {
            Submitted => &[Published, Rejected],
            Published => &[UnderReview, Rejected],
            AwaitingAnswer => &[UnderReview, Answered, Accepted, Rejected],
            UnderReview => &[Answered, Accepted, Rejected, Implemented],
            Accepted => &[Implemented],
            Answered | Rejected | Implemented | Withdrawn => &[],
        }
    }

    pub fn accepts_support(self) -> bool {
        matches!(
            self,
            IdeaStatus::Published | IdeaStatus::AwaitingAnswer | IdeaStatus::UnderReview
        )
    }

    pub fn can_be_withdrawn(self) -> bool {
        matches!(
            self,
            IdeaStatus::Submitted | IdeaStatus::Published | IdeaStatus::AwaitingAnswer
        )
    }

    /// The author may still change the text (and only while unsupported).
    pub fn editable(self) -> bool {
        matches!(self, IdeaStatus::Submitted | IdeaStatus::Published)
    }
}

impl std::fmt::Display for IdeaStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
