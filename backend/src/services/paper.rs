//! Paper input: a printable voting sheet per conversation, and returned
//! sheets entered by staff. Each sheet becomes one participant with the
//! channel `paper`; its answers are ordinary votes, so they count in the
//! tallies and in the opinion groups. A sheet is stored whole or not at all.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use crate::auth::session::CurrentUser;
use crate::domain::Refusal;
use crate::domain::channel::Channel;
use crate::entities::{consultation, paper_sheet, participant, statement, vote, vote_history};
use crate::errors::{AppError, FieldError};
use crate::opinion::VoteValue;

use super::consultations::{self, Status};
use super::population::AGE_BANDS;
use super::{audit, clean_text, now, statements};

pub const DISTRICT_MAX: usize = 100;
/// Sheet numbers are printed by hand on the sheets; anything longer is a typo.
pub const NUMBER_MAX: i64 = 9_999_999;

/// A returned sheet as typed in: `answers` maps a statement id to
/// `agree`, `disagree`, `pass` or "" (left blank).
#[derive(Debug, Clone, Default)]
pub struct SheetForm {
    pub number: String,
    pub age_band: String,
    pub district: String,
    pub answers: Vec<(i64, String)>,
}

/// The consultation `slug` (with a conversation) and its accepted
/// statements, for the printed sheet and the entry form. Staff only.
pub async fn sheet(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<(consultation::Model, Vec<statement::Model>), AppError> {
    let c = consultations::get_for_staff(db, actor, slug).await?;
    if !c.has_conversation {
        return Err(AppError::NotFound);
    }
    let list = statements::list_accepted(db, c.id).await?;
    Ok((c, list))
}

/// May staff enter returned sheets now? While the consultation is open, and
/// after it closed (sheets posted in time arrive late), until the report is
/// published.
pub fn may_enter(c: &consultation::Model) -> Result<(), Refusal> {
    if matches!(c.status, Status::Open | Status::Closed) {
        Ok(())
    } else {
        Err(Refusal::ConsultationNotOpen)
    }
}

fn answer(raw: &str) -> Option<Option<VoteValue>> {
    match raw.trim() {
        "" => Some(None),
        "agree" => Some(Some(VoteValue::Agree)),
        "disagree" => Some(Some(VoteValue::Disagree)),
        "pass" => Some(Some(VoteValue::Pass)),
        _ => None,
    }
}

fn err(field: &'static str, key: &'static str) -> FieldError {
    FieldError { field, key }
}

struct ValidSheet {
    number: i64,
    age_band: Option<String>,
    district: Option<String>,
    votes: BTreeMap<i64, VoteValue>,
}

fn validate(form: &SheetForm, accepted: &[statement::Model]) -> Result<ValidSheet, AppError> {
    let mut errors = Vec::new();
    let number = match form.number.trim().parse::<i64>() {
        Ok(n) if (1..=NUMBER_MAX).contains(&n) => n,
        _ => {
            errors.push(err("number", "number_invalid"));
            0
        }
    };
    let age_band = match form.age_band.trim() {
        "" => None,
        band => match AGE_BANDS.iter().find(|(b, _, _)| *b == band) {
            Some((b, _, _)) => Some((*b).to_owned()),
            None => {
                errors.push(err("age_band", "age_band_invalid"));
                None
            }
        },
    };
    let district = match clean_text(&form.district, DISTRICT_MAX) {
        Ok(d) if d.is_empty() => None,
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(err("district", "district_invalid"));
            None
        }
    };
    let known: HashMap<i64, &statement::Model> = accepted.iter().map(|s| (s.id, s)).collect();
    let mut votes = BTreeMap::new();
    for (id, raw) in &form.answers {
        if !known.contains_key(id) {
            errors.push(err("answers", "unknown_statement"));
            break;
        }
        match answer(raw) {
            Some(Some(v)) => {
                votes.insert(*id, v);
            }
            Some(None) => {}
            None => {
                errors.push(err("answers", "impossible_answer"));
                break;
            }
        }
    }
    if votes.is_empty() && !errors.iter().any(|e| e.field == "answers") {
        errors.push(err("answers", "empty"));
    }
    if errors.is_empty() {
        Ok(ValidSheet {
            number,
            age_band,
            district,
            votes,
        })
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Enter one returned sheet: a new participant (channel `paper`) with its
/// votes, in one transaction. A sheet number already entered in this
/// consultation is refused, and nothing is stored.
pub async fn enter(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    form: &SheetForm,
) -> Result<paper_sheet::Model, AppError> {
    let (c, accepted) = sheet(db, actor, slug).await?;
    may_enter(&c)?;
    let valid = validate(form, &accepted)?;
    let duplicate = || AppError::Validation(vec![err("number", "duplicate_number")]);
    let at = now();
    let txn = super::begin_write(db).await?;
    let taken = paper_sheet::Entity::find()
        .filter(paper_sheet::Column::ConsultationId.eq(c.id))
        .filter(paper_sheet::Column::Number.eq(valid.number))
        .count(&txn)
        .await?
        > 0;
    if taken {
        return Err(duplicate());
    }
    let p = participant::ActiveModel {
        consultation_id: Set(c.id),
        user_id: Set(None),
        anon_token_hash: Set(None),
        external_id: Set(None),
        channel: Set(Channel::Paper),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let sheet = paper_sheet::ActiveModel {
        consultation_id: Set(c.id),
        number: Set(valid.number),
        participant_id: Set(p.id),
        age_band: Set(valid.age_band),
        district: Set(valid.district),
        entered_by: Set(Some(actor.id)),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two people entering the same number at once: the unique index decides.
    let sheet = match sheet {
        Ok(s) => s,
        Err(_) => {
            txn.rollback().await?;
            return Err(duplicate());
        }
    };
    for (statement_id, value) in &valid.votes {
        vote::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(*statement_id),
            participant_id: Set(p.id),
            value: Set(*value as i16),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        vote_history::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(*statement_id),
            participant_id: Set(p.id),
            value: Set(*value as i16),
            cast_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        Some(actor.id),
        "paper_sheet.entered",
        "paper_sheet",
        Some(sheet.id),
        &format!("consultation {} sheet {}", c.id, valid.number),
    )
    .await?;
    txn.commit().await?;
    Ok(sheet)
}

/// How many sheets have been entered in the consultation.
pub async fn count(db: &DatabaseConnection, consultation_id: i64) -> Result<u64, AppError> {
    Ok(paper_sheet::Entity::find()
        .filter(paper_sheet::Column::ConsultationId.eq(consultation_id))
        .count(db)
        .await?)
}
