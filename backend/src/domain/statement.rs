//! A statement in a conversation is pending moderation, accepted or rejected.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `statements.status`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum StatementStatus {
    Pending,
    Accepted,
    Rejected,
}

impl StatementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Pending => "pending",
            StatementStatus::Accepted => "accepted",
            StatementStatus::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for StatementStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
