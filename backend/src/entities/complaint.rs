use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The moderation decision complained about (`moderation_actions.id`).
    pub decision_id: Option<i64>,
    /// Who made that decision: they may not handle the complaint.
    pub decided_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `received`, `handling` or `answered`.
    pub status: String,
    pub handler_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
