use sea_orm::entity::prelude::*;

use crate::domain::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub display_name: String,
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub password_hash: Option<String>,
    #[sea_orm(unique)]
    pub oidc_subject_hash: Option<String>,
    pub role: Role,
    pub locale: String,
    pub email_verified: bool,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    /// Name of the OIDC provider of the linked identity, if any.
    pub identity_provider: Option<String>,
    /// Level of assurance of the last OIDC login: low, substantial or high.
    pub loa: Option<String>,
    /// Birth year from the last OIDC login (for minimum-age rules and age bands).
    pub birth_year: Option<i32>,
    /// Municipality code from the last OIDC login, e.g. 0751 (Aarhus).
    pub municipality_code: Option<String>,
    /// Mails about followed ideas and consultations (one-click unsubscribe).
    pub mail_notifications: bool,
    /// Language of mails; the interface language when not set.
    pub mail_locale: Option<String>,
    /// Per-kind mail preferences: followed ideas, own statements, followed consultations.
    pub mail_idea_updates: bool,
    pub mail_statements: bool,
    pub mail_consultations: bool,
    /// When the password was last set with a reset link (every session of the
    /// person ended then, see `services::sessions`).
    pub password_changed_at: Option<DateTimeUtc>,
    /// When the person was warned that the account will be deleted for
    /// inactivity (cleared at login).
    pub inactivity_warned_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
