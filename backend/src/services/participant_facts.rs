//! What reports know of each participant who logged in with MitID: age band
//! and municipality, from the account while there is one, otherwise from
//! what was kept on the unlinked participant row when the account was
//! deleted (so published reports do not change). Used by "who took part",
//! the cross-tabs and the account deletion.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::entities::{consultation, participant, user};
use crate::errors::AppError;

use super::population::{self, AGE_BANDS};

/// The year ages are counted at in "who took part": the year the
/// consultation opened (or was created, before it opens).
pub fn age_reference_year(c: &consultation::Model) -> i32 {
    c.opens_at.unwrap_or(c.created_at).year()
}

/// What the report knows of one verified (MitID) participant.
pub struct VerifiedFacts {
    /// The account, while there is one.
    pub user_id: Option<i64>,
    pub age_band: Option<&'static str>,
    pub municipality: Option<String>,
}

/// All participants of `c` (how many) and the verified ones by participant
/// id: the facts come from the account while there is one, otherwise from
/// what was kept on the participant row when the account was deleted, so
/// reports do not change when a citizen deletes their account.
pub async fn verified_participants<C: ConnectionTrait>(
    db: &C,
    c: &consultation::Model,
) -> Result<(u64, HashMap<i64, VerifiedFacts>), AppError> {
    type Row = (i64, Option<i64>, bool, Option<String>, Option<String>);
    let rows: Vec<Row> = participant::Entity::find()
        .select_only()
        .column(participant::Column::Id)
        .column(participant::Column::UserId)
        .column(participant::Column::KeptVerified)
        .column(participant::Column::KeptAgeBand)
        .column(participant::Column::KeptMunicipality)
        .filter(participant::Column::ConsultationId.eq(c.id))
        // Only who can be verified: most of a big conversation is anonymous.
        .filter(
            Condition::any()
                .add(participant::Column::UserId.is_not_null())
                .add(participant::Column::KeptVerified.eq(true)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let participants = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .count(db)
        .await?;
    let year = age_reference_year(c);
    let mut facts = HashMap::new();
    let mut user_of = HashMap::new();
    for (id, user_id, kept_verified, kept_band, kept_municipality) in rows {
        match user_id {
            Some(u) => {
                user_of.insert(id, u);
            }
            None if kept_verified => {
                let age_band = kept_band.and_then(|k| {
                    AGE_BANDS
                        .iter()
                        .map(|(band, _, _)| *band)
                        .find(|band| *band == k)
                });
                facts.insert(
                    id,
                    VerifiedFacts {
                        user_id: None,
                        age_band,
                        municipality: kept_municipality,
                    },
                );
            }
            None => {}
        }
    }
    if !user_of.is_empty() {
        let ids: Vec<i64> = user_of
            .values()
            .copied()
            .collect::<HashSet<i64>>()
            .into_iter()
            .collect();
        let mut users: HashMap<i64, user::Model> = HashMap::new();
        // In parts: a database takes a bounded number of parameters.
        for part in ids.chunks(10_000) {
            users.extend(
                user::Entity::find()
                    .filter(user::Column::Id.is_in(part.iter().copied()))
                    .filter(user::Column::IdentityProvider.is_not_null())
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u)),
            );
        }
        for (pid, uid) in user_of {
            if let Some(u) = users.get(&uid) {
                facts.insert(
                    pid,
                    VerifiedFacts {
                        user_id: Some(uid),
                        age_band: u.birth_year.and_then(|b| population::band_of_age(year - b)),
                        municipality: u.municipality_code.clone(),
                    },
                );
            }
        }
    }
    Ok((participants, facts))
}
