//! Indexes for the lookups the hot paths of a big conversation make:
//! a returning participant's own votes (by participant, without the
//! consultation), votes per day for the report (a covering index, so the
//! count never reads the table), and the public snapshot (final first).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Votes {
    Table,
    ParticipantId,
    StatementId,
}

#[derive(DeriveIden)]
enum VoteHistory {
    Table,
    ConsultationId,
    CastAt,
}

#[derive(DeriveIden)]
enum OpinionSnapshots {
    Table,
    ConsultationId,
    Kind,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_votes_participant_statement")
                    .table(Votes::Table)
                    .col(Votes::ParticipantId)
                    .col(Votes::StatementId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vote_history_consultation_cast_at")
                    .table(VoteHistory::Table)
                    .col(VoteHistory::ConsultationId)
                    .col(VoteHistory::CastAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_opinion_snapshots_consultation_kind")
                    .table(OpinionSnapshots::Table)
                    .col(OpinionSnapshots::ConsultationId)
                    .col(OpinionSnapshots::Kind)
                    .col(OpinionSnapshots::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "idx_opinion_snapshots_consultation_kind",
                OpinionSnapshots::Table.into_iden(),
            ),
            (
                "idx_vote_history_consultation_cast_at",
                VoteHistory::Table.into_iden(),
            ),
            ("idx_votes_participant_statement", Votes::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
