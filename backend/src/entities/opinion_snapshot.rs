use sea_orm::entity::prelude::*;

use crate::domain::SnapshotKind;

/// A stored engine snapshot with its receipt (JSON of `opinion::Snapshot`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opinion_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    /// warm | final
    pub kind: SnapshotKind,
    pub vote_high_water_mark: i64,
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
