//! Deliberation (issue 5): statements, participants (consultation-scoped
//! pseudonyms), current votes plus an append-only vote history, and stored
//! opinion snapshots. Two consultation settings: who may vote and the
//! statement length limit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite allows one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(string_len(Consultations::VotingEligibility, 16).default("anyone"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(integer(Consultations::StatementMaxChars).default(200))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Participants::Table)
                    .col(big_pk_auto(Participants::Id))
                    .col(big_integer(Participants::ConsultationId))
                    .col(big_integer_null(Participants::UserId))
                    // SHA-256 of the random token in the participant's cookie.
                    .col(string_len_null(Participants::AnonTokenHash, 64))
                    // Participant id of an imported Pol.is conversation.
                    .col(big_integer_null(Participants::ExternalId))
                    .col(timestamp_with_time_zone(Participants::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Participants::Table, Participants::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Participants::Table, Participants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_participants_user", Participants::UserId),
            ("idx_participants_token", Participants::AnonTokenHash),
            ("idx_participants_external", Participants::ExternalId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Participants::Table)
                        .col(Participants::ConsultationId)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Statements::Table)
                    .col(big_pk_auto(Statements::Id))
                    .col(big_integer(Statements::ConsultationId))
                    // Number within the consultation (like a Pol.is comment id): the
                    // opinion engine's statement id, so imported conversations keep theirs.
                    .col(big_integer(Statements::Number))
                    .col(big_integer_null(Statements::ParticipantId))
                    .col(big_integer_null(Statements::CreatedBy))
                    .col(text(Statements::Body))
                    .col(text(Statements::Normalized))
                    .col(string_len(Statements::Status, 16).default("pending"))
                    .col(boolean(Statements::IsMeta).default(false))
                    .col(boolean(Statements::IsSeed).default(false))
                    .col(string_len_null(Statements::ModerationReason, 500))
                    .col(big_integer_null(Statements::ModeratedBy))
                    .col(timestamp_with_time_zone_null(Statements::ModeratedAt))
                    .col(timestamp_with_time_zone(Statements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Statements::Table, Statements::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Statements::Table, Statements::ParticipantId)
                            .to(Participants::Table, Participants::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_statements_number")
                    .table(Statements::Table)
                    .col(Statements::ConsultationId)
                    .col(Statements::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_statements_participant")
                    .table(Statements::Table)
                    .col(Statements::ParticipantId)
                    .col(Statements::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Votes::Table)
                    .col(big_pk_auto(Votes::Id))
                    .col(big_integer(Votes::ConsultationId))
                    .col(big_integer(Votes::StatementId))
                    .col(big_integer(Votes::ParticipantId))
                    .col(small_integer(Votes::Value))
                    .col(timestamp_with_time_zone(Votes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Votes::Table, Votes::StatementId)
                            .to(Statements::Table, Statements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Votes::Table, Votes::ParticipantId)
                            .to(Participants::Table, Participants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_votes_statement_participant")
                    .table(Votes::Table)
                    .col(Votes::StatementId)
                    .col(Votes::ParticipantId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_votes_consultation_participant")
                    .table(Votes::Table)
                    .col(Votes::ConsultationId)
                    .col(Votes::ParticipantId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VoteHistory::Table)
                    .col(big_pk_auto(VoteHistory::Id))
                    .col(big_integer(VoteHistory::ConsultationId))
                    .col(big_integer(VoteHistory::StatementId))
                    .col(big_integer(VoteHistory::ParticipantId))
                    .col(small_integer(VoteHistory::Value))
                    .col(timestamp_with_time_zone(VoteHistory::CastAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VoteHistory::Table, VoteHistory::StatementId)
                            .to(Statements::Table, Statements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vote_history_consultation")
                    .table(VoteHistory::Table)
                    .col(VoteHistory::ConsultationId)
                    .col(VoteHistory::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OpinionSnapshots::Table)
                    .col(big_pk_auto(OpinionSnapshots::Id))
                    .col(big_integer(OpinionSnapshots::ConsultationId))
                    .col(string_len(OpinionSnapshots::Kind, 8))
                    .col(big_integer(OpinionSnapshots::VoteHighWaterMark))
                    .col(text(OpinionSnapshots::Snapshot))
                    .col(timestamp_with_time_zone(OpinionSnapshots::ComputedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OpinionSnapshots::Table, OpinionSnapshots::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_opinion_snapshots_consultation")
                    .table(OpinionSnapshots::Table)
                    .col(OpinionSnapshots::ConsultationId)
                    .col(OpinionSnapshots::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OpinionSnapshots::Table.into_iden(),
            VoteHistory::Table.into_iden(),
            Votes::Table.into_iden(),
            Statements::Table.into_iden(),
            Participants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for col in [
            Consultations::VotingEligibility,
            Consultations::StatementMaxChars,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Consultations::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    VotingEligibility,
    StatementMaxChars,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
    ConsultationId,
    UserId,
    AnonTokenHash,
    ExternalId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Statements {
    Table,
    Id,
    ConsultationId,
    Number,
    ParticipantId,
    CreatedBy,
    Body,
    Normalized,
    Status,
    IsMeta,
    IsSeed,
    ModerationReason,
    ModeratedBy,
    ModeratedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Votes {
    Table,
    Id,
    ConsultationId,
    StatementId,
    ParticipantId,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VoteHistory {
    Table,
    Id,
    ConsultationId,
    StatementId,
    ParticipantId,
    Value,
    CastAt,
}

#[derive(DeriveIden)]
enum OpinionSnapshots {
    Table,
    Id,
    ConsultationId,
    Kind,
    VoteHighWaterMark,
    Snapshot,
    ComputedAt,
}
