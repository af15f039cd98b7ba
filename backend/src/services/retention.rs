//! Keeping personal data no longer than the privacy page promises: accounts
//! whose address was never confirmed, expired mail links, the content of
//! mails already sent, and inactive accounts (warned first, then deleted).
//!
//! Every step takes `now`, so tests drive it with their own clock, and is
//! safe on several replicas at once: deletes and clears are idempotent, and a
//! warning or an account deletion is claimed with a conditional update in the
//! same transaction as its effect, so it happens exactly once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::configuration::RetentionSettings;
use crate::domain::Role;
use crate::domain::{MailKind, MailStatus};
use crate::entities::{email_token, mail_outbox, user};
use crate::errors::AppError;
use crate::services::{data_rights, mail};

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

/// Delete single-use mail links (verification, password reset) past their
/// expiry. Idempotent.
pub async fn delete_expired_tokens(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(email_token::Entity::delete_many()
        .filter(email_token::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Empty the content of mails that are finished (sent, skipped or given
/// up): only kind, state and times stay. Idempotent.
pub async fn clear_sent_mail_bodies(db: &DatabaseConnection) -> Result<u64, AppError> {
    Ok(mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::Data, Expr::value("{}"))
        .filter(mail_outbox::Column::Status.ne(MailStatus::Pending))
        .filter(mail_outbox::Column::Data.ne("{}"))
        .exec(db)
        .await?
        .rows_affected)
}

/// Delete accounts with a password whose address was not confirmed within
/// `unverified_days` of registering (0: never).
pub async fn delete_unverified(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    if settings.unverified_days == 0 {
        return Ok(0);
    }
    let ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::EmailVerified.eq(false))
        .filter(user::Column::PasswordHash.is_not_null())
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::CreatedAt.lt(now - days(settings.unverified_days)))
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    for id in ids {
        let done = data_rights::erase(db, id, None, false, now, |_| {
            "retention: email address never confirmed".to_owned()
        })
        .await?;
        deleted += u64::from(done.is_some());
    }
    Ok(deleted)
}

/// Accounts whose last sign of life (the last login, else the creation) is
/// before `cutoff`.
fn away_since_before(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(user::Column::LastLoginAt.lt(cutoff))
        .add(
            Condition::all()
                .add(user::Column::LastLoginAt.is_null())
                .add(user::Column::CreatedAt.lt(cutoff)),
        )
}

/// Warn citizens who have not logged in for `inactive_days` (0: never) that
/// the account will be deleted after `inactive_grace_days`; a login in
/// between clears the warning. Staff accounts are left to administrators.
pub async fn warn_inactive(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    if settings.inactive_days == 0 {
        return Ok(0);
    }
    let ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Citizen))
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::InactivityWarnedAt.is_null())
        .filter(away_since_before(now - days(settings.inactive_days)))
        .into_tuple()
        .all(db)
        .await?;
    let mut warned = 0;
    for id in ids {
        let txn = super::begin_write(db).await?;
        // Claimed here: the mail is queued once, whichever replica comes first.
        let claimed = user::Entity::update_many()
            .col_expr(user::Column::InactivityWarnedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::InactivityWarnedAt.is_null())
            .filter(user::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            mail::enqueue(
                &txn,
                id,
                MailKind::InactiveAccount,
                &serde_json::json!({ "days": settings.inactive_grace_days }),
            )
            .await?;
            warned += 1;
        }
        txn.commit().await?;
    }
    Ok(warned)
}

/// Delete the accounts warned at least `inactive_grace_days` ago that have
/// not logged in since (a login clears the warning).
pub async fn delete_inactive(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    if settings.inactive_days == 0 {
        return Ok(0);
    }
    let ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Citizen))
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::InactivityWarnedAt.lt(now - days(settings.inactive_grace_days)))
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    for id in ids {
        let done = data_rights::erase(db, id, None, false, now, |_| {
            "retention: inactive after a warning".to_owned()
        })
        .await?;
        deleted += u64::from(done.is_some());
    }
    Ok(deleted)
}
