//! Complaints ("Klag / få hjælp"): a citizen complains about a moderation
//! decision (or asks for help in general); staff take the complaint and
//! answer it. `decided_by` is the staff member who made the decision, kept so
//! that someone else handles the complaint.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Complaints::Table)
                    .col(big_pk_auto(Complaints::Id))
                    .col(big_integer(Complaints::UserId))
                    .col(big_integer_null(Complaints::DecisionId))
                    .col(big_integer_null(Complaints::DecidedBy))
                    .col(text(Complaints::Body))
                    .col(string_len(Complaints::Status, 16))
                    .col(big_integer_null(Complaints::HandlerId))
                    .col(text_null(Complaints::Answer))
                    .col(timestamp_with_time_zone(Complaints::CreatedAt))
                    .col(timestamp_with_time_zone(Complaints::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Complaints::AnsweredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Complaints::Table, Complaints::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Complaints::Table, Complaints::DecisionId)
                            .to(ModerationActions::Table, ModerationActions::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Complaints::Table, Complaints::DecidedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Complaints::Table, Complaints::HandlerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_complaints_status")
                    .table(Complaints::Table)
                    .col(Complaints::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_complaints_user")
                    .table(Complaints::Table)
                    .col(Complaints::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Complaints::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Complaints {
    Table,
    Id,
    UserId,
    DecisionId,
    DecidedBy,
    Body,
    Status,
    HandlerId,
    Answer,
    CreatedAt,
    UpdatedAt,
    AnsweredAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ModerationActions {
    Table,
    Id,
}
