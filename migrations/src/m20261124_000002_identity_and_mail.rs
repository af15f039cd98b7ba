//! MitID/OIDC identity attributes and per-consultation eligibility rules.
//!
//! Users keep only what eligibility checks need: the level of assurance of the
//! last OIDC login, the birth year (from the birthdate or age claim) and the
//! municipality code. Consultations say who may take part.

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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Users::IdentityProvider,
            Users::Loa,
            Users::BirthYear,
            Users::MunicipalityCode,
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
