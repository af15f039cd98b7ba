//! Who may take part in a consultation.
//!
//! A consultation asks for any account, or for MitID, optionally with a
//! minimum level of assurance, a minimum age (the age reached this calendar
//! year, from the birth year of the last MitID login) and residence in one
//! municipality (the code of the last MitID login).
//!
//! The conversation (voting and writing statements) has its own setting,
//! [`VotingEligibility`], because it may be open to anyone with a participant
//! cookie; there "verified" means the MitID rules.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Stored in `consultations.eligibility`: who may propose, support and comment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Participation {
    /// Any account (a local one with a verified address, or MitID).
    Account,
    /// An OIDC citizen login (MitID), possibly with further rules.
    Mitid,
}

impl Participation {
    pub fn as_str(self) -> &'static str {
        match self {
            Participation::Account => "account",
            Participation::Mitid => "mitid",
        }
    }
}

/// Stored in `consultations.voting_eligibility`: who may vote and write statements.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum VotingEligibility {
    /// Anyone, with a participant cookie and no account.
    Anyone,
    LoggedIn,
    /// Verified identity (MitID).
    Verified,
}

impl VotingEligibility {
    pub const ALL: [VotingEligibility; 3] = [
        VotingEligibility::Anyone,
        VotingEligibility::LoggedIn,
        VotingEligibility::Verified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VotingEligibility::Anyone => "anyone",
            VotingEligibility::LoggedIn => "logged_in",
            VotingEligibility::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A consultation's rules for taking part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityRules {
    /// A MitID (OIDC citizen) login is required.
    pub mitid: bool,
    pub min_loa: Option<String>,
    pub min_age: Option<i32>,
    pub municipality_code: Option<String>,
}

/// What the rules look at about a person (from their account and last MitID login).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    /// A local account whose email address is not verified yet.
    pub email_unverified: bool,
    /// Linked to an OIDC citizen identity (MitID).
    pub has_identity: bool,
    pub loa: Option<&'a str>,
    pub birth_year: Option<i32>,
    pub municipality_code: Option<&'a str>,
}

/// Why someone may not take part; each key's text says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    NeedsMitid,
    LoaTooLow,
    TooYoung,
    AgeUnknown,
    OtherMunicipality,
    MunicipalityUnknown,
    /// A local account whose email address is not verified yet.
    EmailUnverified,
}

impl Ineligible {
    pub fn key(self) -> &'static str {
        match self {
            Ineligible::NeedsMitid => "eligibility.needs_mitid",
            Ineligible::LoaTooLow => "eligibility.loa_too_low",
            Ineligible::TooYoung => "eligibility.too_young",
            Ineligible::AgeUnknown => "eligibility.age_unknown",
            Ineligible::OtherMunicipality => "eligibility.other_municipality",
            Ineligible::MunicipalityUnknown => "eligibility.municipality_unknown",
            Ineligible::EmailUnverified => "eligibility.email_unverified",
        }
    }
}

/// Rank of a level of assurance, for comparisons.
pub fn loa_rank(loa: &str) -> u8 {
    match loa {
        "high" => 3,
        "substantial" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The first rule `person` does not meet, if any (the consultation's status
/// aside). `year` is the current calendar year.
pub fn unmet(person: &Identity<'_>, rules: &EligibilityRules, year: i32) -> Option<Ineligible> {
    // An address nobody has proved to own could be anyone's, or a throwaway
    // used to take part many times; MitID-only accounts have no address.
    if person.email_unverified {
        return Some(Ineligible::EmailUnverified);
    }
    let needs_identity = rules.mitid
        || rules.min_loa.is_some()
        || rules.min_age.is_some()
        || rules.municipality_code.is_some();
    if !needs_identity {
        return None;
    }
    if !person.has_identity {
        return Some(Ineligible::NeedsMitid);
    }
    if let Some(min) = &rules.min_loa
        && loa_rank(person.loa.unwrap_or("")) < loa_rank(min)
    {
        return Some(Ineligible::LoaTooLow);
    }
    if let Some(min_age) = rules.min_age {
        match person.birth_year {
            None => return Some(Ineligible::AgeUnknown),
            Some(born) if year - born < min_age => return Some(Ineligible::TooYoung),
            Some(_) => {}
        }
    }
    if let Some(code) = &rules.municipality_code {
        match person.municipality_code {
            None => return Some(Ineligible::MunicipalityUnknown),
            Some(mine) if mine != code => return Some(Ineligible::OtherMunicipality),
            Some(_) => {}
        }
    }
    None
}

/// Why a person (or an anonymous visitor, `None`) may not vote or write
/// statements in a conversation with `who_votes` and `rules`.
pub fn unmet_for_conversation(
    who_votes: VotingEligibility,
    rules: &EligibilityRules,
    person: Option<&Identity<'_>>,
    year: i32,
) -> Option<ConversationRefusal> {
    match (who_votes, person) {
        (VotingEligibility::Anyone, _) => None,
        (VotingEligibility::LoggedIn, Some(p)) if p.email_unverified => {
            Some(ConversationRefusal::Ineligible(Ineligible::EmailUnverified))
        }
        (VotingEligibility::LoggedIn, Some(_)) => None,
        (VotingEligibility::LoggedIn, None) => Some(ConversationRefusal::LoginRequired),
        (VotingEligibility::Verified, None) => Some(ConversationRefusal::MitidRequired),
        // Verified identity: a MitID login that meets the consultation's rules.
        (VotingEligibility::Verified, Some(p)) => {
            let mut rules = rules.clone();
            rules.mitid = true;
            unmet(p, &rules, year).map(ConversationRefusal::Ineligible)
        }
    }
}

/// Why someone may not vote in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationRefusal {
    /// Anonymous, and the conversation is for logged-in people.
    LoginRequired,
    /// Anonymous, and the conversation is for MitID logins.
    MitidRequired,
    Ineligible(Ineligible),
}

impl ConversationRefusal {
    pub fn key(self) -> &'static str {
        match self {
            ConversationRefusal::LoginRequired => "errors.eligibility_login",
            ConversationRefusal::MitidRequired => "errors.eligibility_verified",
            ConversationRefusal::Ineligible(i) => i.key(),
        }
    }
}

impl std::fmt::Display for Participation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for VotingEligibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(identity: Option<(&'static str, i32, &'static str)>) -> Identity<'static> {
        Identity {
            email_unverified: false,
            has_identity: identity.is_some(),
            loa: identity.map(|i| i.0),
            birth_year: identity.map(|i| i.1),
            municipality_code: identity.map(|i| i.2),
        }
    }

    fn rules(
        mitid: bool,
        loa: Option<&str>,
        age: Option<i32>,
        code: Option<&str>,
    ) -> EligibilityRules {
        EligibilityRules {
            mitid,
            min_loa: loa.map(str::to_owned),
            min_age: age,
            municipality_code: code.map(str::to_owned),
        }
    }

    #[test]
    fn any_account_takes_part_without_rules() {
        assert_eq!(
            unmet(&person(None), &rules(false, None, None, None), 2026),
            None
        );
    }

    #[test]
    fn an_unverified_address_comes_first() {
        let mut p = person(None);
        p.email_unverified = true;
        assert_eq!(
            unmet(&p, &rules(false, None, None, None), 2026),
            Some(Ineligible::EmailUnverified)
        );
    }

    #[test]
    fn each_rule_has_its_reason() {
        let strict = rules(true, Some("substantial"), Some(18), Some("0751"));
        let year = 2026;
        assert_eq!(
            unmet(&person(None), &strict, year),
            Some(Ineligible::NeedsMitid)
        );
        assert_eq!(
            unmet(&person(Some(("low", 1990, "0751"))), &strict, year),
            Some(Ineligible::LoaTooLow)
        );
        assert_eq!(
            unmet(&person(Some(("high", 2009, "0751"))), &strict, year),
            Some(Ineligible::TooYoung)
        );
        assert_eq!(
            unmet(&person(Some(("high", 2008, "0751"))), &strict, year),
            None
        );
        assert_eq!(
            unmet(&person(Some(("substantial", 1990, "0101"))), &strict, year),
            Some(Ineligible::OtherMunicipality)
        );
    }

    #[test]
    fn conversation_rules_per_setting() {
        let none = rules(false, None, None, None);
        let local = person(None);
        let mitid = person(Some(("substantial", 1990, "0751")));
        use ConversationRefusal as R;
        use VotingEligibility as V;
        assert_eq!(unmet_for_conversation(V::Anyone, &none, None, 2026), None);
        assert_eq!(
            unmet_for_conversation(V::LoggedIn, &none, None, 2026),
            Some(R::LoginRequired)
        );
        assert_eq!(
            unmet_for_conversation(V::LoggedIn, &none, Some(&local), 2026),
            None
        );
        assert_eq!(
            unmet_for_conversation(V::Verified, &none, None, 2026),
            Some(R::MitidRequired)
        );
        assert_eq!(
            unmet_for_conversation(V::Verified, &none, Some(&local), 2026),
            Some(R::Ineligible(Ineligible::NeedsMitid))
        );
        assert_eq!(
            unmet_for_conversation(V::Verified, &none, Some(&mitid), 2026),
            None
        );
    }
}
