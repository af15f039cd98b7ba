use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::DisplayName, 80))
                    .col(string_len_null(Users::Email, 254).unique_key())
                    .col(string_len_null(Users::PasswordHash, 255))
                    // HMAC of issuer + subject from an OpenID provider, never the raw subject.
                    .col(string_len_null(Users::OidcSubjectHash, 64).unique_key())
                    .col(string_len(Users::Role, 16).default("citizen"))
                    .col(string_len(Users::Locale, 5).default("da"))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(timestamp_with_time_zone_null(Users::DeletedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consultations::Table)
                    .col(big_pk_auto(Consultations::Id))
                    .col(string_len(Consultations::Slug, 80).unique_key())
                    .col(string_len(Consultations::Title, 200))
                    .col(string_len(Consultations::Summary, 500))
                    .col(text(Consultations::Body))
                    .col(string_len(Consultations::Status, 16).default("draft"))
                    .col(string_len(Consultations::ModerationMode, 8).default("post"))
                    .col(boolean(Consultations::AcceptsIdeas).default(true))
                    .col(boolean(Consultations::HasConversation).default(true))
                    .col(integer(Consultations::SupportThreshold).default(50))
                    // JSON array of category names chosen by staff.
                    .col(text(Consultations::Categories).default("[]"))
                    .col(timestamp_with_time_zone_null(Consultations::OpensAt))
                    .col(timestamp_with_time_zone_null(Consultations::ClosesAt))
                    .col(timestamp_with_time_zone_null(Consultations::PublishedAt))
                    .col(big_integer_null(Consultations::CreatedBy))
                    .col(timestamp_with_time_zone(Consultations::CreatedAt))
                    .col(timestamp_with_time_zone(Consultations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Consultations::Table, Consultations::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consultations_status")
                    .table(Consultations::Table)
                    .col(Consultations::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::SubjectType, 32))
                    .col(big_integer_null(AuditLog::SubjectId))
                    .col(text(AuditLog::Detail).default(""))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuditLog::Table, AuditLog::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_subject")
                    .table(AuditLog::Table)
                    .col(AuditLog::SubjectType)
                    .col(AuditLog::SubjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            Consultations::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    DisplayName,
    Email,
    PasswordHash,
    OidcSubjectHash,
    Role,
    Locale,
    EmailVerified,
    CreatedAt,
    LastLoginAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    Slug,
    Title,
    Summary,
    Body,
    Status,
    ModerationMode,
    AcceptsIdeas,
    HasConversation,
    SupportThreshold,
    Categories,
    OpensAt,
    ClosesAt,
    PublishedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    SubjectType,
    SubjectId,
    Detail,
    CreatedAt,
}
