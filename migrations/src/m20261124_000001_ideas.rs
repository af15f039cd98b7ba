//! Citizen ideas: ideas, supports, status history with official responses,
//! threaded comments with flags, moderation actions, follows and in-app
//! notifications (a later mail outbox refers to `notifications.id`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite can add only one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(integer(Consultations::CommentFlagThreshold).default(3))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(boolean(Consultations::AllowSelfSupport).default(false))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Ideas::Table)
                    .col(big_pk_auto(Ideas::Id))
                    .col(big_integer(Ideas::ConsultationId))
                    .col(big_integer_null(Ideas::AuthorId))
                    .col(string_len(Ideas::Title, 120))
                    .col(text(Ideas::Body))
                    .col(string_len_null(Ideas::Category, 40))
                    .col(string_len_null(Ideas::Place, 200))
                    .col(string_len(Ideas::Status, 20))
                    .col(integer(Ideas::SupportCount).default(0))
                    .col(integer(Ideas::CommentCount).default(0))
                    .col(timestamp_with_time_zone_null(Ideas::PublishedAt))
                    .col(timestamp_with_time_zone(Ideas::CreatedAt))
                    .col(timestamp_with_time_zone(Ideas::UpdatedAt))
                    .foreign_key(&mut fk(
                        Ideas::Table,
                        Ideas::ConsultationId,
                        Consultations::Table,
                        Consultations::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Ideas::Table,
                        Ideas::AuthorId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ideas_consultation_status")
                    .table(Ideas::Table)
                    .col(Ideas::ConsultationId)
                    .col(Ideas::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdeaSupports::Table)
                    .col(big_pk_auto(IdeaSupports::Id))
                    .col(big_integer(IdeaSupports::IdeaId))
                    .col(big_integer(IdeaSupports::UserId))
                    .col(timestamp_with_time_zone(IdeaSupports::CreatedAt))
                    .foreign_key(&mut fk(
                        IdeaSupports::Table,
                        IdeaSupports::IdeaId,
                        Ideas::Table,
                        Ideas::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        IdeaSupports::Table,
                        IdeaSupports::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // One support per person per idea; makes a double submit a no-op.
        manager
            .create_index(
                Index::create()
                    .name("uq_idea_supports_idea_user")
                    .table(IdeaSupports::Table)
                    .col(IdeaSupports::IdeaId)
                    .col(IdeaSupports::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdeaStatusChanges::Table)
                    .col(big_pk_auto(IdeaStatusChanges::Id))
                    .col(big_integer(IdeaStatusChanges::IdeaId))
                    .col(string_len_null(IdeaStatusChanges::FromStatus, 20))
                    .col(string_len(IdeaStatusChanges::ToStatus, 20))
                    .col(big_integer_null(IdeaStatusChanges::ActorId))
                    // The official response published with the change.
                    .col(text(IdeaStatusChanges::Response).default(""))
                    .col(timestamp_with_time_zone(IdeaStatusChanges::CreatedAt))
                    .foreign_key(&mut fk(
                        IdeaStatusChanges::Table,
                        IdeaStatusChanges::IdeaId,
                        Ideas::Table,
                        Ideas::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        IdeaStatusChanges::Table,
                        IdeaStatusChanges::ActorId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idea_status_changes_idea")
                    .table(IdeaStatusChanges::Table)
                    .col(IdeaStatusChanges::IdeaId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(big_pk_auto(Comments::Id))
                    .col(big_integer(Comments::IdeaId))
                    .col(big_integer_null(Comments::ParentId))
                    .col(big_integer_null(Comments::AuthorId))
                    .col(integer(Comments::Depth))
                    .col(text(Comments::Body))
                    .col(string_len(Comments::Status, 16).default("visible"))
                    .col(integer(Comments::FlagCount).default(0))
                    // A moderator has decided; flags no longer hide it automatically.
                    .col(boolean(Comments::Moderated).default(false))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Comments::EditedAt))
                    .foreign_key(&mut fk(
                        Comments::Table,
                        Comments::IdeaId,
                        Ideas::Table,
                        Ideas::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Comments::Table,
                        Comments::ParentId,
                        Comments::Table,
                        Comments::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Comments::Table,
                        Comments::AuthorId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_idea")
                    .table(Comments::Table)
                    .col(Comments::IdeaId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommentFlags::Table)
                    .col(big_pk_auto(CommentFlags::Id))
                    .col(big_integer(CommentFlags::CommentId))
                    .col(big_integer(CommentFlags::UserId))
                    .col(string_len(CommentFlags::Reason, 500))
                    .col(timestamp_with_time_zone(CommentFlags::CreatedAt))
                    .foreign_key(&mut fk(
                        CommentFlags::Table,
                        CommentFlags::CommentId,
                        Comments::Table,
                        Comments::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CommentFlags::Table,
                        CommentFlags::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_comment_flags_comment_user")
                    .table(CommentFlags::Table)
                    .col(CommentFlags::CommentId)
                    .col(CommentFlags::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModerationActions::Table)
                    .col(big_pk_auto(ModerationActions::Id))
                    // None: done by the system (e.g. hidden after N flags).
                    .col(big_integer_null(ModerationActions::ActorId))
                    .col(string_len(ModerationActions::SubjectType, 32))
                    .col(big_integer(ModerationActions::SubjectId))
                    .col(string_len(ModerationActions::Action, 32))
                    .col(text(ModerationActions::Reason))
                    .col(timestamp_with_time_zone(ModerationActions::CreatedAt))
                    .foreign_key(&mut fk(
                        ModerationActions::Table,
                        ModerationActions::ActorId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_actions_subject")
                    .table(ModerationActions::Table)
                    .col(ModerationActions::SubjectType)
                    .col(ModerationActions::SubjectId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdeaFollows::Table)
                    .col(big_pk_auto(IdeaFollows::Id))
                    .col(big_integer(IdeaFollows::IdeaId))
                    .col(big_integer(IdeaFollows::UserId))
                    .col(timestamp_with_time_zone(IdeaFollows::CreatedAt))
                    .foreign_key(&mut fk(
                        IdeaFollows::Table,
                        IdeaFollows::IdeaId,
                        Ideas::Table,
                        Ideas::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        IdeaFollows::Table,
                        IdeaFollows::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_idea_follows_idea_user")
                    .table(IdeaFollows::Table)
                    .col(IdeaFollows::IdeaId)
                    .col(IdeaFollows::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // One row per person and event. Channel-independent: the in-app list
        // reads it now; a mail outbox will reference `notifications.id`.
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string_len(Notifications::SubjectType, 32))
                    .col(big_integer(Notifications::SubjectId))
                    // JSON with what the message needs (title, new status, …).
                    .col(text(Notifications::Data).default("{}"))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .foreign_key(&mut fk(
                        Notifications::Table,
                        Notifications::UserId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user_read")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::ReadAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Notifications::Table.into_iden(),
            IdeaFollows::Table.into_iden(),
            ModerationActions::Table.into_iden(),
            CommentFlags::Table.into_iden(),
            Comments::Table.into_iden(),
            IdeaStatusChanges::Table.into_iden(),
            IdeaSupports::Table.into_iden(),
            Ideas::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for col in [
            Consultations::CommentFlagThreshold.into_iden(),
            Consultations::AllowSelfSupport.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Consultations::Table)
                        .drop_column(col)
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
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    CommentFlagThreshold,
    AllowSelfSupport,
}

#[derive(DeriveIden)]
enum Ideas {
    Table,
    Id,
    ConsultationId,
    AuthorId,
    Title,
    Body,
    Category,
    Place,
    Status,
    SupportCount,
    CommentCount,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdeaSupports {
    Table,
    Id,
    IdeaId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdeaStatusChanges {
    Table,
    Id,
    IdeaId,
    FromStatus,
    ToStatus,
    ActorId,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    IdeaId,
    ParentId,
    AuthorId,
    Depth,
    Body,
    Status,
    FlagCount,
    Moderated,
    CreatedAt,
    EditedAt,
}

#[derive(DeriveIden)]
enum CommentFlags {
    Table,
    Id,
    CommentId,
    UserId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ModerationActions {
    Table,
    Id,
    ActorId,
    SubjectType,
    SubjectId,
    Action,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdeaFollows {
    Table,
    Id,
    IdeaId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    SubjectType,
    SubjectId,
    Data,
    CreatedAt,
    ReadAt,
}
