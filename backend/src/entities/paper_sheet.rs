use sea_orm::entity::prelude::*;

/// A returned paper voting sheet, entered by staff; its answers are the
/// votes of `participant_id` (channel `paper`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paper_sheets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    pub number: i64,
    pub participant_id: i64,
    pub age_band: Option<String>,
    pub district: Option<String>,
    pub entered_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
