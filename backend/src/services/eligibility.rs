//! Who may take part in a consultation. One check, used by every protected
//! action (proposing, editing, supporting, commenting), so that when MitID
//! rules arrive (age, municipality) they are added here and apply everywhere.
//!
//! The conversation (voting and writing statements) has its own setting,
//! `voting_eligibility`, because it may be open to anyone with a participant
//! cookie; [`conversation`] applies it.

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::ServiceError;

use super::consultations::{self, Status};

/// Ok when `actor` may take part in `consultation` now. Being logged in is
/// proven by holding a `CurrentUser`; the consultation must be open.
pub fn check(_actor: &CurrentUser, consultation: &consultation::Model) -> Result<(), ServiceError> {
    if consultations::status(consultation) != Status::Open {
        return Err(ServiceError::Conflict("errors.consultation_not_open"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// Anyone, with a participant cookie and no account.
    Anyone,
    LoggedIn,
    /// Verified identity (MitID).
    Verified,
}

impl Eligibility {
    pub const ALL: [Eligibility; 3] = [
        Eligibility::Anyone,
        Eligibility::LoggedIn,
        Eligibility::Verified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Eligibility::Anyone => "anyone",
            Eligibility::LoggedIn => "logged_in",
            Eligibility::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

pub fn of(c: &consultation::Model) -> Eligibility {
    // An unknown stored value is treated as the strictest rule.
    Eligibility::parse(&c.voting_eligibility).unwrap_or(Eligibility::Verified)
}

/// `Ok` when `user` (or an anonymous visitor, `None`) may vote and write
/// statements in `c`; otherwise the translation key of the reason.
pub fn conversation(
    c: &consultation::Model,
    user: Option<&CurrentUser>,
) -> Result<(), &'static str> {
    match (of(c), user) {
        (Eligibility::Anyone, _) => Ok(()),
        (Eligibility::LoggedIn, Some(_)) => Ok(()),
        (Eligibility::LoggedIn, None) => Err("errors.eligibility_login"),
        // No identity provider yet: nobody counts as verified until MitID login exists.
        (Eligibility::Verified, _) => Err("errors.eligibility_verified"),
    }
}
