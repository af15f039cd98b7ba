//! Who may take part in a consultation: the rules themselves are in
//! `crate::domain::eligibility`; this applies them to the logged-in person
//! and a stored consultation. One check, used by every protected action
//! (proposing, editing, supporting, commenting, voting and statements), so
//! the consultation's MitID rules apply everywhere.

use crate::auth::session::CurrentUser;
use crate::domain::eligibility::{self, ConversationRefusal};
use crate::domain::{ConsultationStatus, Refusal};
use crate::entities::consultation;

pub use crate::domain::eligibility::{Ineligible, VotingEligibility};

use super::consultations::eligibility_rules;

fn this_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now())
}

/// Ok when `actor` may take part in `consultation` now: it is open and the
/// person meets its rules. Being logged in is proven by holding a `CurrentUser`.
pub fn check(actor: &CurrentUser, consultation: &consultation::Model) -> Result<(), Refusal> {
    if consultation.status != ConsultationStatus::Open {
        return Err(Refusal::ConsultationNotOpen);
    }
    match eligibility::unmet(
        &actor.identity(),
        &eligibility_rules(consultation),
        this_year(),
    ) {
        Some(reason) => Err(Refusal::Ineligible(reason)),
        None => Ok(()),
    }
}

/// May `user` (or an anonymous visitor, `None`) vote and write statements in
/// `c` now: it is open and they meet its voting rules.
pub fn may_join_conversation(
    c: &consultation::Model,
    user: Option<&CurrentUser>,
) -> Result<(), Refusal> {
    if c.status != ConsultationStatus::Open {
        return Err(Refusal::ConsultationNotOpen);
    }
    conversation(c, user).map_err(Refusal::Conversation)
}

/// `Ok` when `user` (or an anonymous visitor, `None`) may vote and write
/// statements in `c` by its voting rules (its status aside).
pub fn conversation(
    c: &consultation::Model,
    user: Option<&CurrentUser>,
) -> Result<(), ConversationRefusal> {
    let identity = user.map(CurrentUser::identity);
    match eligibility::unmet_for_conversation(
        c.voting_eligibility,
        &eligibility_rules(c),
        identity.as_ref(),
        this_year(),
    ) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}
