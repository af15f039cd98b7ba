//! Consultations with a deadline, a timeline and an outcome: the expected
//! date of the political decision, the outcome ("Det kom der ud af") with a
//! link to the decision, a contact person, the reminder bookkeeping of the
//! scheduler, material attached to a consultation (the file bytes in the
//! database, so neither database needs external storage), and who signs an
//! official answer to an idea.
//!
//! `opens_at` and `closes_at` already exist; they now hold the planned times
//! as well as the actual ones.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite can add only one column per ALTER TABLE.
        let columns = [
            date_null(Consultations::DecisionExpectedOn),
            date_null(Consultations::DecidedOn),
            text_null(Consultations::OutcomeText),
            string_len_null(Consultations::OutcomeUrl, 500),
            timestamp_with_time_zone_null(Consultations::OutcomePublishedAt),
            string_len_null(Consultations::ContactName, 200),
            string_len_null(Consultations::ContactDepartment, 200),
            string_len_null(Consultations::ContactEmail, 254),
            string_len_null(Consultations::ContactPhone, 40),
            timestamp_with_time_zone_null(Consultations::ReminderSentAt),
        ];
        for column in columns {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Consultations::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(IdeaStatusChanges::Table)
                    .add_column(string_len_null(IdeaStatusChanges::Signature, 200))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsultationAttachments::Table)
                    .col(big_pk_auto(ConsultationAttachments::Id))
                    .col(big_integer(ConsultationAttachments::ConsultationId))
                    .col(string_len(ConsultationAttachments::Title, 200))
                    .col(string_len_null(ConsultationAttachments::FileName, 200))
                    .col(string_len_null(ConsultationAttachments::ContentType, 100))
                    .col(big_integer_null(ConsultationAttachments::SizeBytes))
                    .col(blob_null(ConsultationAttachments::Data))
                    .col(string_len_null(ConsultationAttachments::Url, 500))
                    .col(string_len_null(ConsultationAttachments::AltText, 300))
                    .col(big_integer_null(ConsultationAttachments::CreatedBy))
                    .col(timestamp_with_time_zone(ConsultationAttachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConsultationAttachments::Table,
                                ConsultationAttachments::ConsultationId,
                            )
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consultation_attachments_consultation")
                    .table(ConsultationAttachments::Table)
                    .col(ConsultationAttachments::ConsultationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConsultationAttachments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IdeaStatusChanges::Table)
                    .drop_column(IdeaStatusChanges::Signature)
                    .to_owned(),
            )
            .await?;
        for column in [
            Consultations::DecisionExpectedOn,
            Consultations::DecidedOn,
            Consultations::OutcomeText,
            Consultations::OutcomeUrl,
            Consultations::OutcomePublishedAt,
            Consultations::ContactName,
            Consultations::ContactDepartment,
            Consultations::ContactEmail,
            Consultations::ContactPhone,
            Consultations::ReminderSentAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Consultations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    DecisionExpectedOn,
    DecidedOn,
    OutcomeText,
    OutcomeUrl,
    OutcomePublishedAt,
    ContactName,
    ContactDepartment,
    ContactEmail,
    ContactPhone,
    ReminderSentAt,
}

#[derive(DeriveIden)]
enum IdeaStatusChanges {
    Table,
    Signature,
}

#[derive(DeriveIden)]
enum ConsultationAttachments {
    Table,
    Id,
    ConsultationId,
    Title,
    FileName,
    ContentType,
    SizeBytes,
    Data,
    Url,
    AltText,
    CreatedBy,
    CreatedAt,
}
