//! Roles and what each may do. Checked in the services; templates only use
//! them to decide what to show.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `users.role`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Moderator,
    Admin,
    Politician,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Citizen,
        Role::Moderator,
        Role::Admin,
        Role::Politician,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
            Role::Politician => "politician",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Council staff run consultations and moderate.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Moderator | Role::Admin)
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    /// May read reports before they are published.
    pub fn reads_reports_early(self) -> bool {
        matches!(self, Role::Moderator | Role::Admin | Role::Politician)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_moderators_and_admins_are_staff() {
        assert!(Role::Moderator.is_staff());
        assert!(Role::Admin.is_staff());
        assert!(!Role::Citizen.is_staff());
        assert!(!Role::Politician.is_staff());
    }
}
