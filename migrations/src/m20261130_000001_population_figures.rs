//! Population figures per age band that an administrator enters for the
//! municipality, so the report can set who took part against who lives there.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PopulationFigures::Table)
                    .col(big_pk_auto(PopulationFigures::Id))
                    .col(string_len(PopulationFigures::MunicipalityCode, 4))
                    .col(string_len(PopulationFigures::AgeBand, 10))
                    .col(big_integer(PopulationFigures::Residents))
                    .col(timestamp_with_time_zone(PopulationFigures::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("population_figures_municipality_band")
                    .table(PopulationFigures::Table)
                    .col(PopulationFigures::MunicipalityCode)
                    .col(PopulationFigures::AgeBand)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PopulationFigures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PopulationFigures {
    Table,
    Id,
    MunicipalityCode,
    AgeBand,
    Residents,
    UpdatedAt,
}
