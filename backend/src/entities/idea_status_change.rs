use sea_orm::entity::prelude::*;

use crate::domain::IdeaStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idea_status_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub idea_id: i64,
    pub from_status: Option<IdeaStatus>,
    pub to_status: IdeaStatus,
    pub actor_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub response: String,
    pub created_at: DateTimeUtc,
    /// Who gives an official answer as the public sees it (role and
    /// department, or a name when staff choose so).
    pub signature: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
