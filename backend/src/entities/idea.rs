use sea_orm::entity::prelude::*;

use crate::domain::IdeaStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ideas")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    pub author_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub category: Option<String>,
    pub place: Option<String>,
    pub status: IdeaStatus,
    pub support_count: i32,
    pub comment_count: i32,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Marked by a moderator as the same as this one: kept (with its votes
    /// or supports) but no longer offered or listed.
    pub duplicate_of: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
