use sea_orm::entity::prelude::*;

use crate::domain::{MailKind, MailStatus};

/// A mail waiting to be sent, sent, or given up on. Rendered at send time in
/// the recipient's language from `kind` and `data`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: MailKind,
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// pending, sent, skipped (no address or unsubscribed) or failed.
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The subject as sent, in the recipient's language; it stays after the
    /// body (`data`) is removed, so the citizen's export can list it.
    pub subject: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
