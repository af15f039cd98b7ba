//! Who may take part in a consultation. One check, used by every protected
//! action (proposing, editing, supporting, commenting, and later voting and
//! statements), so the consultation's MitID rules apply everywhere.
//!
//! A consultation asks for any account, or for MitID, optionally with a
//! minimum level of assurance, a minimum age (the age reached this calendar
//! year, from the birth year of the last MitID login) and residence in one
//! municipality (the code of the last MitID login).
//!
//! The conversation (voting and writing statements) has its own setting,
//! `voting_eligibility`, because it may be open to anyone with a participant
//! cookie; [`conversation`] applies it, and "verified" means the MitID rules.

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::AppError;

use super::consultations::{self, EligibilityRules, Status};
use super::oidc::loa_rank;

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

/// The first rule `actor` does not meet, if any (the consultation's status
/// aside). `year` is the current calendar year.
pub fn unmet(actor: &CurrentUser, rules: &EligibilityRules, year: i32) -> Option<Ineligible> {
    // An address nobody has proved to own could be anyone's, or a throwaway
    // used to take part many times; MitID-only accounts have no address.
    if actor.email_unverified {
        return Some(Ineligible::EmailUnverified);
    }
    let needs_identity = rules.mitid
        || rules.min_loa.is_some()
        || rules.min_age.is_some()
        || rules.municipality_code.is_some();
    if !needs_identity {
        return None;
    }
    if !actor.has_identity {
        return Some(Ineligible::NeedsMitid);
    }
    if let Some(min) = &rules.min_loa
        && loa_rank(actor.loa.as_deref().unwrap_or("")) < loa_rank(min)
    {
        return Some(Ineligible::LoaTooLow);
    }
    if let Some(min_age) = rules.min_age {
        match actor.birth_year {
            None => return Some(Ineligible::AgeUnknown),
            Some(born) if year - born < min_age => return Some(Ineligible::TooYoung),
            Some(_) => {}
        }
    }
    if let Some(code) = &rules.municipality_code {
        match &actor.municipality_code {
            None => return Some(Ineligible::MunicipalityUnknown),
            Some(mine) if mine != code => return Some(Ineligible::OtherMunicipality),
            Some(_) => {}
        }
    }
    None
}

/// Ok when `actor` may take part in `consultation` now: it is open and the
/// person meets its rules. Being logged in is proven by holding a `CurrentUser`.
pub fn check(actor: &CurrentUser, consultation: &consultation::Model) -> Result<(), AppError> {
    if consultations::status(consultation) != Status::Open {
        return Err(AppError::Conflict("errors.consultation_not_open"));
    }
    let year = chrono::Datelike::year(&chrono::Utc::now());
    match unmet(actor, &consultations::eligibility_rules(consultation), year) {
        Some(reason) => Err(AppError::Conflict(reason.key())),
        None => Ok(()),
    }
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
        (Eligibility::LoggedIn, Some(person)) if person.email_unverified => {
            Err(Ineligible::EmailUnverified.key())
        }
        (Eligibility::LoggedIn, Some(_)) => Ok(()),
        (Eligibility::LoggedIn, None) => Err("errors.eligibility_login"),
        (Eligibility::Verified, None) => Err("errors.eligibility_verified"),
        // Verified identity: a MitID login that meets the consultation's rules.
        (Eligibility::Verified, Some(person)) => {
            let mut rules = consultations::eligibility_rules(c);
            rules.mitid = true;
            let year = chrono::Datelike::year(&chrono::Utc::now());
            unmet(person, &rules, year).map_or(Ok(()), |reason| Err(reason.key()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn person(identity: Option<(&str, i32, &str)>) -> CurrentUser {
        CurrentUser {
            id: 1,
            display_name: "A".into(),
            email: None,
            role: Role::Citizen,
            has_identity: identity.is_some(),
            loa: identity.map(|i| i.0.to_owned()),
            birth_year: identity.map(|i| i.1),
            municipality_code: identity.map(|i| i.2.to_owned()),
            email_unverified: false,
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
}
