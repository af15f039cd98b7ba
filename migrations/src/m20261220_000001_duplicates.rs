//! Duplicates: a moderator marks a statement or an idea as the same as
//! another. The duplicate stays (its votes and supports are kept and
//! reported) but is no longer offered to voters or listed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Statements::Table)
                    .add_column(big_integer_null(Statements::DuplicateOf))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Ideas::Table)
                    .add_column(big_integer_null(Ideas::DuplicateOf))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Ideas::Table)
                    .drop_column(Ideas::DuplicateOf)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Statements::Table)
                    .drop_column(Statements::DuplicateOf)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Statements {
    Table,
    DuplicateOf,
}

#[derive(DeriveIden)]
enum Ideas {
    Table,
    DuplicateOf,
}
