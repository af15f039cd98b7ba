//! In-app notifications. One row per person and event, independent of the
//! channel: the notification list reads them now, and a later mail outbox
//! refers to `notifications.id` for delivery.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::auth::session::CurrentUser;
use crate::domain::NotificationKind;
use crate::entities::{consultation, consultation_follow, idea, idea_follow, notification};
use crate::errors::AppError;

use super::now;

pub const KIND_IDEA_STATUS: NotificationKind = NotificationKind::IdeaStatus;
const LIST_MAX: u64 = 100;

/// Tell everyone following `idea` that its status is now `status`, except the
/// person who made the change.
pub async fn idea_status_changed<C: ConnectionTrait>(
    db: &C,
    idea: &idea::Model,
    status: &str,
    except: Option<i64>,
) -> Result<(), sea_orm::DbErr> {
    let followers: Vec<i64> = idea_follow::Entity::find()
        .filter(idea_follow::Column::IdeaId.eq(idea.id))
        .select_only()
        .column(idea_follow::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    let data = serde_json::json!({ "title": idea.title, "status": status }).to_string();
    let at = now();
    let followers: Vec<i64> = followers
        .into_iter()
        .filter(|id| Some(*id) != except)
        .collect();
    // The mail is queued in the same transaction as the status change.
    let mail_data =
        serde_json::json!({ "idea_id": idea.id, "title": idea.title, "status": status });
    for user_id in &followers {
        super::mail::enqueue(db, *user_id, super::mail::KIND_IDEA_STATUS, &mail_data).await?;
    }
    let rows: Vec<notification::ActiveModel> = followers
        .into_iter()
        .map(|user_id| notification::ActiveModel {
            user_id: Set(user_id),
            kind: Set(KIND_IDEA_STATUS),
            subject_type: Set("idea".to_owned()),
            subject_id: Set(idea.id),
            data: Set(data.clone()),
            created_at: Set(at),
            read_at: Set(None),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        notification::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn unread_count(db: &DatabaseConnection, user_id: i64) -> Result<u64, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// The person's newest notifications.
pub async fn list(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<Vec<notification::Model>, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(actor.id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(LIST_MAX)
        .all(db)
        .await?)
}

pub async fn mark_all_read(db: &DatabaseConnection, actor: &CurrentUser) -> Result<u64, AppError> {
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now()))
        .filter(notification::Column::UserId.eq(actor.id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Start following; following twice is harmless.
pub async fn follow<C: ConnectionTrait>(
    db: &C,
    idea_id: i64,
    user_id: i64,
) -> Result<(), sea_orm::DbErr> {
    idea_follow::Entity::insert(idea_follow::ActiveModel {
        idea_id: Set(idea_id),
        user_id: Set(user_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([idea_follow::Column::IdeaId, idea_follow::Column::UserId])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn unfollow(db: &DatabaseConnection, idea_id: i64, user_id: i64) -> Result<(), AppError> {
    idea_follow::Entity::delete_many()
        .filter(idea_follow::Column::IdeaId.eq(idea_id))
        .filter(idea_follow::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn is_following(
    db: &DatabaseConnection,
    idea_id: i64,
    user_id: i64,
) -> Result<bool, AppError> {
    Ok(idea_follow::Entity::find()
        .filter(idea_follow::Column::IdeaId.eq(idea_id))
        .filter(idea_follow::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// Start following a consultation the person can see; twice is harmless.
pub async fn follow_consultation(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<(), AppError> {
    let c = super::consultations::get_visible(db, Some(actor), slug).await?;
    consultation_follow::Entity::insert(consultation_follow::ActiveModel {
        consultation_id: Set(c.id),
        user_id: Set(actor.id),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        consultation_follow::Column::ConsultationId,
        consultation_follow::Column::UserId,
    ])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn unfollow_consultation(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<(), AppError> {
    let c = super::consultations::get_visible(db, Some(actor), slug).await?;
    consultation_follow::Entity::delete_many()
        .filter(consultation_follow::Column::ConsultationId.eq(c.id))
        .filter(consultation_follow::Column::UserId.eq(actor.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn follows_consultation(
    db: &DatabaseConnection,
    consultation_id: i64,
    user_id: i64,
) -> Result<bool, AppError> {
    Ok(consultation_follow::Entity::find()
        .filter(consultation_follow::Column::ConsultationId.eq(consultation_id))
        .filter(consultation_follow::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// Mail everyone following `c` that it opened, closed, has its report
/// published or its outcome (`status`), or that its deadline is near
/// (`reminder`), in the caller's transaction.
pub async fn consultation_status_changed<C: ConnectionTrait>(
    db: &C,
    c: &consultation::Model,
    status: &str,
) -> Result<(), sea_orm::DbErr> {
    let followers: Vec<i64> = consultation_follow::Entity::find()
        .filter(consultation_follow::Column::ConsultationId.eq(c.id))
        .select_only()
        .column(consultation_follow::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    // The deadline goes along so a reminder can name it in the reader's language.
    let data = serde_json::json!({
        "slug": c.slug,
        "title": c.title,
        "status": status,
        "closes_at": c.closes_at.map(|t| t.to_rfc3339()),
    });
    for user_id in followers {
        super::mail::enqueue(db, user_id, super::mail::KIND_CONSULTATION, &data).await?;
    }
    Ok(())
}

/// Tell the author of a statement that a moderator accepted or rejected it
/// (with the reason), in the moderation's transaction.
pub async fn statement_moderated<C: ConnectionTrait>(
    db: &C,
    author: i64,
    statement_id: i64,
    slug: &str,
    accepted: bool,
    reason: &str,
) -> Result<(), sea_orm::DbErr> {
    let data = serde_json::json!({ "slug": slug, "accepted": accepted, "reason": reason });
    notification::ActiveModel {
        user_id: Set(author),
        kind: Set(NotificationKind::StatementModerated),
        subject_type: Set("statement".to_owned()),
        subject_id: Set(statement_id),
        data: Set(data.to_string()),
        created_at: Set(now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Tell the author of a comment that someone replied to it (not when they
/// replied to themselves), in the reply's transaction.
pub async fn comment_replied<C: ConnectionTrait>(
    db: &C,
    parent_author: i64,
    reply: &crate::entities::comment::Model,
    idea_title: &str,
) -> Result<(), sea_orm::DbErr> {
    if reply.author_id == Some(parent_author) {
        return Ok(());
    }
    let data = serde_json::json!({ "idea_id": reply.idea_id, "title": idea_title });
    notification::ActiveModel {
        user_id: Set(parent_author),
        kind: Set(NotificationKind::CommentReply),
        subject_type: Set("comment".to_owned()),
        subject_id: Set(reply.id),
        data: Set(data.to_string()),
        created_at: Set(now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
