//! Population figures: residents per age band of a municipality, entered by an
//! administrator (from Danmarks Statistik's tables), so the report can show
//! whether the people who took part resemble the people who live there.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::auth::session::CurrentUser;
use crate::entities::population_figure;
use crate::errors::{AppError, FieldError};

use super::{audit, now};

/// Age bands of the report: (key, first age, last age or `None` for "and older").
pub const AGE_BANDS: [(&str, i32, Option<i32>); 6] = [
    ("15-24", 15, Some(24)),
    ("25-34", 25, Some(34)),
    ("35-49", 35, Some(49)),
    ("50-64", 50, Some(64)),
    ("65-79", 65, Some(79)),
    ("80+", 80, None),
];

/// Form field of a band: `band_15-24` would not be a valid HTML id everywhere
/// we use it, so the digits are joined with an underscore.
pub const BAND_FIELDS: [&str; 6] = [
    "band_15_24",
    "band_25_34",
    "band_35_49",
    "band_50_64",
    "band_65_79",
    "band_80",
];

/// More residents than any Danish municipality has in one band.
pub const RESIDENTS_MAX: i64 = 10_000_000;

/// The band of an age, `None` under 15 (children are not in the report).
pub fn band_of_age(age: i32) -> Option<&'static str> {
    AGE_BANDS
        .iter()
        .find(|(_, from, to)| age >= *from && to.is_none_or(|t| age <= t))
        .map(|(key, _, _)| *key)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidFigures {
    pub municipality_code: String,
    /// Per band key; a band left empty is not stored.
    pub residents: BTreeMap<&'static str, i64>,
}

/// Check what an administrator typed: a municipality code of four digits and
/// per band an empty field or a whole number of residents.
pub fn validate(form: &HashMap<String, String>) -> Result<ValidFigures, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = form
        .get("municipality_code")
        .map(|s| s.trim())
        .unwrap_or_default();
    if code.len() != 4 || !code.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError {
            field: "municipality_code",
            key: "population_municipality_invalid",
        });
    }
    let mut residents = BTreeMap::new();
    for ((band, _, _), field) in AGE_BANDS.iter().zip(BAND_FIELDS) {
        let raw = form.get(field).map(|s| s.trim()).unwrap_or_default();
        if raw.is_empty() {
            continue;
        }
        match raw.replace(['.', ' '], "").parse::<i64>() {
            Ok(n) if (0..=RESIDENTS_MAX).contains(&n) => {
                residents.insert(*band, n);
            }
            _ => errors.push(FieldError {
                field,
                key: "population_residents_invalid",
            }),
        }
    }
    if errors.is_empty() && residents.is_empty() {
        errors.push(FieldError {
            field: BAND_FIELDS[0],
            key: "population_residents_required",
        });
    }
    if errors.is_empty() {
        Ok(ValidFigures {
            municipality_code: code.to_owned(),
            residents,
        })
    } else {
        Err(errors)
    }
}

/// Replace the figures of one municipality. Administrators only.
pub async fn save(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    form: &HashMap<String, String>,
) -> Result<ValidFigures, AppError> {
    if !actor.role.is_admin() {
        return Err(AppError::forbidden());
    }
    let valid = validate(form).map_err(AppError::Validation)?;
    let txn = super::begin_write(db).await?;
    population_figure::Entity::delete_many()
        .filter(population_figure::Column::MunicipalityCode.eq(&valid.municipality_code))
        .exec(&txn)
        .await?;
    let at = now();
    for (band, n) in &valid.residents {
        population_figure::ActiveModel {
            municipality_code: Set(valid.municipality_code.clone()),
            age_band: Set((*band).to_owned()),
            residents: Set(*n),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        Some(actor.id),
        "population.save",
        "population_figures",
        None,
        &valid.municipality_code,
    )
    .await?;
    txn.commit().await?;
    Ok(valid)
}

/// Every stored figure, by municipality code then band order.
pub async fn list(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<String, BTreeMap<String, i64>>, AppError> {
    let rows = population_figure::Entity::find()
        .order_by_asc(population_figure::Column::MunicipalityCode)
        .all(db)
        .await?;
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows {
        out.entry(r.municipality_code)
            .or_default()
            .insert(r.age_band, r.residents);
    }
    Ok(out)
}

/// The municipality a report compares with: the consultation's own, else the
/// first one figures were entered for (a platform serves one municipality).
pub async fn for_report(
    db: &impl ConnectionTrait,
    consultation_municipality: Option<&str>,
) -> Result<Option<(String, BTreeMap<String, i64>)>, AppError> {
    let all = list(db).await?;
    if let Some(code) = consultation_municipality {
        return Ok(Some((
            code.to_owned(),
            all.get(code).cloned().unwrap_or_default(),
        )));
    }
    let first = population_figure::Entity::find()
        .order_by_asc(population_figure::Column::Id)
        .one(db)
        .await?;
    Ok(first.map(|f| {
        let figures = all.get(&f.municipality_code).cloned().unwrap_or_default();
        (f.municipality_code, figures)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_into_bands() {
        assert_eq!(band_of_age(14), None);
        assert_eq!(band_of_age(15), Some("15-24"));
        assert_eq!(band_of_age(34), Some("25-34"));
        assert_eq!(band_of_age(79), Some("65-79"));
        assert_eq!(band_of_age(103), Some("80+"));
    }

    #[test]
    fn figures_are_validated() {
        let form: HashMap<String, String> = [
            ("municipality_code", "751"),
            ("band_15_24", "-3"),
            ("band_25_34", "12.000"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let errors = validate(&form).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["municipality_code", "band_15_24"]);
        let mut ok = form.clone();
        ok.insert("municipality_code".into(), "0751".into());
        ok.insert("band_15_24".into(), "".into());
        let valid = validate(&ok).unwrap();
        assert_eq!(valid.residents.get("25-34"), Some(&12_000));
        assert_eq!(valid.residents.len(), 1);
    }
}
