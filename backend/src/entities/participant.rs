use sea_orm::entity::prelude::*;

use crate::domain::channel::Channel;

/// A person's pseudonym inside one consultation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    pub user_id: Option<i64>,
    pub anon_token_hash: Option<String>,
    pub external_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// How they took part: online, assisted at the service desk, or on paper.
    pub channel: Channel,
    /// Kept when a verified (MitID) participant's account is deleted, so
    /// that published reports do not change: that they were verified, their
    /// age band as of the consultation and their municipality code. Empty
    /// and `false` while the participant is linked to an account (the
    /// account holds the facts then).
    pub kept_verified: bool,
    pub kept_age_band: Option<String>,
    pub kept_municipality: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
