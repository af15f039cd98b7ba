use sea_orm::entity::prelude::*;

/// A server-side session of a logged-in person (see `services::sessions`).
/// The cookie holds a random key; only its SHA-256 hash is stored here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// Hex SHA-256 of the key in the cookie.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    /// The person logged in with this session (none for the rare anonymous
    /// session too large for its cookie).
    pub user_id: Option<i64>,
    /// The session's entries as a JSON object of JSON-encoded values.
    #[sea_orm(column_type = "Text")]
    pub state: String,
    pub created_at: DateTimeUtc,
    /// Last request, kept to the minute (not written on every request).
    pub last_seen_at: DateTimeUtc,
    /// The session ends at this moment without another request; never later
    /// than `absolute_expires_at`.
    pub idle_expires_at: DateTimeUtc,
    /// The session ends at this moment whatever happens (counted from login).
    pub absolute_expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
