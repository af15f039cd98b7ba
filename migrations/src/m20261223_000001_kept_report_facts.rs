//! What a published report needs of a participant whose account was deleted,
//! and the subject of each mail as it was sent.
//!
//! When a MitID-verified citizen deletes their account, their participant rows
//! are unlinked from the account and its birth year and municipality are
//! erased; "who took part" would then count them as unknown and published
//! reports would change. Their participant row (no longer linked to anyone)
//! keeps only that it was verified, the age band as of the consultation and
//! the municipality code. A sent mail's body is removed by the retention job;
//! its subject stays so "Mine data" can list the mails a citizen was sent.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes only one change per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .add_column(boolean(Participants::KeptVerified).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .add_column(string_len_null(Participants::KeptAgeBand, 10))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .add_column(string_len_null(Participants::KeptMunicipality, 10))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .add_column(string_len_null(MailOutbox::Subject, 300))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .drop_column(MailOutbox::Subject)
                    .to_owned(),
            )
            .await?;
        for column in [
            Participants::KeptMunicipality,
            Participants::KeptAgeBand,
            Participants::KeptVerified,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Participants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    KeptVerified,
    KeptAgeBand,
    KeptMunicipality,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Subject,
}
