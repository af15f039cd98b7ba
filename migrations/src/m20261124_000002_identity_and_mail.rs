//! MitID/OIDC identity attributes, per-consultation eligibility rules, and
//! the mail outbox.
//!
//! Users keep only what eligibility checks need: the level of assurance of the
//! last OIDC login, the birth year (from the birthdate or age claim) and the
//! municipality code. Consultations say who may take part. Every mail is a
//! row in `mail_outbox`, written in the transaction of the change that causes
//! it and delivered by a sender job with retries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite can add only one column per ALTER TABLE.
        let user_columns = [
            string_len_null(Users::IdentityProvider, 40),
            string_len_null(Users::Loa, 20),
            integer_null(Users::BirthYear),
            string_len_null(Users::MunicipalityCode, 4),
            boolean(Users::MailNotifications).default(true).to_owned(),
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
        let consultation_columns = [
            string_len(Consultations::Eligibility, 20)
                .default("account")
                .to_owned(),
            string_len_null(Consultations::MinLoa, 20),
            integer_null(Consultations::MinAge),
            string_len_null(Consultations::MunicipalityCode, 4),
        ];
        for column in consultation_columns {
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
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(big_pk_auto(MailOutbox::Id))
                    .col(big_integer(MailOutbox::UserId))
                    .col(string_len(MailOutbox::Kind, 40))
                    .col(text(MailOutbox::Data))
                    .col(string_len(MailOutbox::Status, 20))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(text_null(MailOutbox::LastError))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailOutbox::Table, MailOutbox::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Status)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await?;
        for column in [
            Users::IdentityProvider,
            Users::Loa,
            Users::BirthYear,
            Users::MunicipalityCode,
            Users::MailNotifications,
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
        for column in [
            Consultations::Eligibility,
            Consultations::MinLoa,
            Consultations::MinAge,
            Consultations::MunicipalityCode,
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
enum Users {
    Table,
    Id,
    MailNotifications,
    IdentityProvider,
    Loa,
    BirthYear,
    MunicipalityCode,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Eligibility,
    MinLoa,
    MinAge,
    MunicipalityCode,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    UserId,
    Kind,
    Data,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}
