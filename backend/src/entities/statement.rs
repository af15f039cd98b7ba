use sea_orm::entity::prelude::*;

use crate::domain::StatementStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    pub number: i64,
    pub participant_id: Option<i64>,
    pub created_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Text")]
    pub normalized: String,
    pub status: StatementStatus,
    pub is_meta: bool,
    pub is_seed: bool,
    pub moderation_reason: Option<String>,
    pub moderated_by: Option<i64>,
    pub moderated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Marked by a moderator as the same as this one: kept (with its votes
    /// or supports) but no longer offered or listed.
    pub duplicate_of: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
