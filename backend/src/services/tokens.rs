//! Single-use tokens sent by mail: verifying an address and resetting a
//! password. The mail carries the token; the database keeps only its SHA-256
//! hash, so a leaked database copy cannot be used to take over accounts.

use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::entities::email_token;

use crate::domain::TokenPurpose;

use super::now;

pub const PURPOSE_VERIFY: TokenPurpose = TokenPurpose::Verify;
pub const PURPOSE_RESET: TokenPurpose = TokenPurpose::Reset;

/// How long a link works.
pub fn lifetime(purpose: TokenPurpose) -> chrono::Duration {
    match purpose {
        PURPOSE_RESET => chrono::Duration::hours(1),
        _ => chrono::Duration::days(2),
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a token for `user_id` and `email`; returns the token for the mail.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    purpose: TokenPurpose,
    email: &str,
) -> Result<String, sea_orm::DbErr> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let at = now();
    email_token::ActiveModel {
        user_id: Set(user_id),
        purpose: Set(purpose),
        token_hash: Set(hash(&token)),
        email: Set(email.to_owned()),
        expires_at: Set(at + lifetime(purpose)),
        used_at: Set(None),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, or already used.
    Invalid,
    Expired,
}

/// The unused, unexpired token, without using it (to show a form).
pub async fn peek<C: ConnectionTrait>(
    db: &C,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Result<email_token::Model, Refused>, sea_orm::DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Err(Refused::Invalid));
    }
    let found = email_token::Entity::find()
        .filter(email_token::Column::TokenHash.eq(hash(token)))
        .filter(email_token::Column::Purpose.eq(purpose))
        .one(db)
        .await?;
    Ok(match found {
        None => Err(Refused::Invalid),
        Some(t) if t.used_at.is_some() => Err(Refused::Invalid),
        Some(t) if t.expires_at <= now() => Err(Refused::Expired),
        Some(t) => Ok(t),
    })
}

/// Use the token: only one caller ever succeeds, even when two requests race.
pub async fn consume<C: ConnectionTrait>(
    db: &C,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Result<email_token::Model, Refused>, sea_orm::DbErr> {
    let found = match peek(db, purpose, token).await? {
        Ok(t) => t,
        Err(refused) => return Ok(Err(refused)),
    };
    let res = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now()))
        .filter(email_token::Column::Id.eq(found.id))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        Ok(Ok(found))
    } else {
        Ok(Err(Refused::Invalid))
    }
}

/// Mark every open token of this kind for the person used (after a reset,
/// older reset links stop working).
pub async fn retire_all<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    purpose: TokenPurpose,
) -> Result<(), sea_orm::DbErr> {
    email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now()))
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// False when the person asked for this kind of mail too recently or too
/// often: at most one a minute and five a day, so nobody can use Samskab to
/// flood an inbox.
pub async fn may_send<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    purpose: TokenPurpose,
) -> Result<bool, sea_orm::DbErr> {
    let at = now();
    let last = email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose))
        .order_by_desc(email_token::Column::CreatedAt)
        .one(db)
        .await?;
    if last.is_some_and(|l| l.created_at > at - chrono::Duration::minutes(1)) {
        return Ok(false);
    }
    let today = email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose))
        .filter(email_token::Column::CreatedAt.gt(at - chrono::Duration::days(1)))
        .count(db)
        .await?;
    Ok(today < 5)
}
