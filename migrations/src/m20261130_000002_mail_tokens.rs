//! Mail flows: single-use tokens for verifying an address and resetting a
//! password, followers of consultations, and per-kind mail preferences.
//!
//! Tokens are stored only as a SHA-256 hash, so a copy of the database does
//! not let anyone verify an address or take over an account. A token is used
//! once (`used_at`) and expires (`expires_at`). `password_changed_at` ends
//! every session that started before a password reset.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite can add only one column per ALTER TABLE.
        let user_columns = [
            string_len_null(Users::MailLocale, 5),
            boolean(Users::MailIdeaUpdates).default(true).to_owned(),
            boolean(Users::MailStatements).default(true).to_owned(),
            boolean(Users::MailConsultations).default(true).to_owned(),
            timestamp_with_time_zone_null(Users::PasswordChangedAt),
        ];
        for column in user_columns {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(big_pk_auto(EmailTokens::Id))
                    .col(big_integer(EmailTokens::UserId))
                    .col(string_len(EmailTokens::Purpose, 20))
                    .col(string_len_uniq(EmailTokens::TokenHash, 64))
                    .col(string_len(EmailTokens::Email, 254))
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailTokens::Table, EmailTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_user")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::UserId)
                    .col(EmailTokens::Purpose)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsultationFollows::Table)
                    .col(big_pk_auto(ConsultationFollows::Id))
                    .col(big_integer(ConsultationFollows::ConsultationId))
                    .col(big_integer(ConsultationFollows::UserId))
                    .col(timestamp_with_time_zone(ConsultationFollows::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConsultationFollows::Table,
                                ConsultationFollows::ConsultationId,
                            )
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsultationFollows::Table, ConsultationFollows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consultation_follows_unique")
                    .table(ConsultationFollows::Table)
                    .col(ConsultationFollows::ConsultationId)
                    .col(ConsultationFollows::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsultationFollows::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EmailTokens::Table).to_owned())
            .await?;
        for column in [
            Users::MailLocale,
            Users::MailIdeaUpdates,
            Users::MailStatements,
            Users::MailConsultations,
            Users::PasswordChangedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
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
    MailLocale,
    MailIdeaUpdates,
    MailStatements,
    MailConsultations,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Email,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsultationFollows {
    Table,
    Id,
    ConsultationId,
    UserId,
    CreatedAt,
}
