//! A consultation's life cycle and settings:
//! draft → open → closed → published → archived (closed may also be archived
//! without a published report).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `consultations.status`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Status {
    Draft,
    Open,
    Closed,
    Published,
    Archived,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Open,
        Status::Closed,
        Status::Published,
        Status::Archived,
    ];
    pub const PUBLIC: [Status; 4] = [
        Status::Open,
        Status::Closed,
        Status::Published,
        Status::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Open => "open",
            Status::Closed => "closed",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The states a consultation may move to from this one.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Draft => &[Status::Open],
            Status::Open => &[Status::Closed],
            Status::Closed => &[Status::Published, Status::Archived],
            Status::Published => &[Status::Archived],
            Status::Archived => &[],
        }
    }

    /// The transitions that bring a new draft to this status, in order.
    pub fn path_from_draft(self) -> &'static [Status] {
        match self {
            Status::Draft => &[],
            Status::Open => &[Status::Open],
            Status::Closed => &[Status::Open, Status::Closed],
            Status::Published => &[Status::Open, Status::Closed, Status::Published],
            Status::Archived => &[Status::Open, Status::Closed, Status::Archived],
        }
    }

    pub fn is_public(self) -> bool {
        self != Status::Draft
    }
}

/// Stored in `consultations.moderation_mode`: are contributions published
/// before (`Post`) or after (`Pre`) a moderator has looked at them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum ModerationMode {
    Pre,
    Post,
}

impl ModerationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationMode::Pre => "pre",
            ModerationMode::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ModerationMode::Pre, ModerationMode::Post]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ModerationMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
