//! How each participant took part: `online` (default), `assisted` (at the
//! citizen service desk) or `paper` (a returned voting sheet), and the
//! returned paper sheets themselves: one row per sheet, its number unique
//! within the consultation so the same sheet cannot be entered twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .add_column(string_len(Participants::Channel, 10).default("online"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaperSheets::Table)
                    .col(big_pk_auto(PaperSheets::Id))
                    .col(big_integer(PaperSheets::ConsultationId))
                    .col(big_integer(PaperSheets::Number))
                    .col(big_integer(PaperSheets::ParticipantId))
                    .col(string_len_null(PaperSheets::AgeBand, 10))
                    .col(string_len_null(PaperSheets::District, 100))
                    .col(big_integer_null(PaperSheets::EnteredBy))
                    .col(timestamp_with_time_zone(PaperSheets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaperSheets::Table, PaperSheets::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaperSheets::Table, PaperSheets::ParticipantId)
                            .to(Participants::Table, Participants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paper_sheets_consultation_number")
                    .table(PaperSheets::Table)
                    .col(PaperSheets::ConsultationId)
                    .col(PaperSheets::Number)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaperSheets::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .drop_column(Participants::Channel)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
    Channel,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PaperSheets {
    Table,
    Id,
    ConsultationId,
    Number,
    ParticipantId,
    AgeBand,
    District,
    EnteredBy,
    CreatedAt,
}
