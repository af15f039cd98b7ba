//! A small summary of every opinion snapshot, kept for good: when it was made, how many took
//! part, voted and were placed in groups, the groups' sizes, and the groups' stability
//! (computed once with the snapshot instead of on every report load). The snapshots
//! themselves are pruned (the newest warm ones and every final one are kept), so this is
//! what the report's "over time" chart reads.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpinionHistory::Table)
                    .col(big_pk_auto(OpinionHistory::Id))
                    .col(big_integer(OpinionHistory::ConsultationId))
                    .col(big_integer(OpinionHistory::SnapshotId))
                    .col(string_len(OpinionHistory::Kind, 10))
                    .col(timestamp_with_time_zone(OpinionHistory::ComputedAt))
                    .col(big_integer(OpinionHistory::Participants))
                    .col(big_integer(OpinionHistory::Clustered))
                    .col(big_integer(OpinionHistory::Votes))
                    .col(text(OpinionHistory::GroupSizes))
                    .col(text_null(OpinionHistory::Stability))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OpinionHistory::Table, OpinionHistory::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("opinion_history_snapshot")
                    .table(OpinionHistory::Table)
                    .col(OpinionHistory::SnapshotId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("opinion_history_consultation")
                    .table(OpinionHistory::Table)
                    .col(OpinionHistory::ConsultationId)
                    .col(OpinionHistory::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OpinionHistory::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OpinionHistory {
    Table,
    Id,
    ConsultationId,
    SnapshotId,
    Kind,
    ComputedAt,
    Participants,
    Clustered,
    Votes,
    GroupSizes,
    Stability,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
}
