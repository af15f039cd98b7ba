use sea_orm::entity::prelude::*;

use crate::domain::CommentStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub idea_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: Option<i64>,
    pub depth: i32,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: CommentStatus,
    pub flag_count: i32,
    pub moderated: bool,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
