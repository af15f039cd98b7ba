use sea_orm::entity::prelude::*;

use crate::domain::TokenPurpose;

/// A single-use token sent by mail (verify an address, reset a password).
/// Only the SHA-256 hash of the token is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `verify` or `reset`.
    pub purpose: TokenPurpose,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The address the token was sent to (a verification is for that address only).
    pub email: String,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
