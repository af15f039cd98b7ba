//! How a participant took part: on their own device, helped at the citizen
//! service desk, or on a returned paper sheet. The report shows the mix.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `participants.channel`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumIter,
    DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Online,
    Assisted,
    Paper,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Assisted => "assisted",
            Channel::Paper => "paper",
        }
    }
}
