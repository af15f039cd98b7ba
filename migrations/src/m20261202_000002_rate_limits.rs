//! Limits that hold across replicas: counters for rate limits (registration,
//! new anonymous participants, password login failures), and the per
//! consultation limit on new participants from one connection.
//!
//! A counter row is one fixed window of one limit for one key. Keys are keyed
//! hashes (HMAC-SHA256 with the server secret) of a client's address or an
//! email address, never the address itself. Windows are unix seconds, so the
//! same integer arithmetic runs on SQLite and PostgreSQL; `expires_at` tells
//! the cleanup job when a row may go.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(string_len(RateLimits::Bucket, 40))
                    .col(string_len(RateLimits::Key, 64))
                    .col(big_integer(RateLimits::WindowStart))
                    .col(integer(RateLimits::Count))
                    .col(big_integer(RateLimits::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(RateLimits::Bucket)
                            .col(RateLimits::Key)
                            .col(RateLimits::WindowStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_limits_expires_at")
                    .table(RateLimits::Table)
                    .col(RateLimits::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // Empty: the server's default (SAMSKAB_LIMITS__NEW_PARTICIPANTS_PER_CLIENT).
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(integer_null(Consultations::NewParticipantsPerHour))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .drop_column(Consultations::NewParticipantsPerHour)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Bucket,
    Key,
    WindowStart,
    Count,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    NewParticipantsPerHour,
}
