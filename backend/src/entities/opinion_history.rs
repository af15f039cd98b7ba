use sea_orm::entity::prelude::*;

/// A summary of one opinion snapshot, never pruned: the report's history reads it, and the
/// groups' stability is computed once with the snapshot and kept here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opinion_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    /// The `opinion_snapshots` row it summarises (which may since have been pruned).
    pub snapshot_id: i64,
    /// warm | final
    pub kind: String,
    pub computed_at: DateTimeUtc,
    /// Participants in the snapshot's input, those placed in groups, and the votes.
    pub participants: i64,
    pub clustered: i64,
    pub votes: i64,
    /// JSON array of the groups' sizes, group A first.
    #[sea_orm(column_type = "Text")]
    pub group_sizes: String,
    /// JSON of `opinion::stability::Stability`; `None` with fewer than two groups.
    #[sea_orm(column_type = "Text", nullable)]
    pub stability: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
