//! After a consultation: what staff must know before an irreversible step
//! (items still waiting for moderation or an answer), and the outcome ("Det
//! kom der ud af"): what the council decided and why, published with or
//! after the report and mailed to the followers once.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use crate::auth::session::CurrentUser;
use crate::domain::{IdeaStatus, StatementStatus};
use crate::entities::{consultation, idea, statement};
use crate::errors::{AppError, FieldError};

use super::consultations::{Status, get_for_staff, require_staff};
use super::{audit, clean_text, now};

/// A published outcome as the report, the open data and the API give it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// Markdown: what the council decided, and why.
    pub text: String,
    /// Link to the decision.
    pub url: Option<String>,
    /// YYYY-MM-DD
    pub decided_on: Option<String>,
    /// RFC 3339
    pub published_at: String,
}

/// The outcome, once published (`None` while staff draft it).
pub fn published(c: &consultation::Model) -> Option<Outcome> {
    c.outcome_published_at.as_ref().map(|at| Outcome {
        text: c.outcome_text.clone().unwrap_or_default(),
        url: c.outcome_url.clone(),
        decided_on: c.decided_on.map(|d| d.format("%Y-%m-%d").to_string()),
        published_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

pub const OUTCOME_MAX: usize = 20_000;
pub const URL_MAX: usize = 500;

/// What still waits for staff in a consultation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub ideas_to_moderate: u64,
    pub ideas_to_answer: u64,
    pub statements_to_moderate: u64,
}

impl Pending {
    pub fn any(&self) -> bool {
        self.ideas_to_moderate + self.ideas_to_answer + self.statements_to_moderate > 0
    }
}

pub async fn pending(db: &DatabaseConnection, consultation_id: i64) -> Result<Pending, AppError> {
    let ideas = |status: IdeaStatus| {
        idea::Entity::find()
            .filter(idea::Column::ConsultationId.eq(consultation_id))
            .filter(idea::Column::Status.eq(status))
            .count(db)
    };
    Ok(Pending {
        ideas_to_moderate: ideas(IdeaStatus::Submitted).await?,
        ideas_to_answer: ideas(IdeaStatus::AwaitingAnswer).await?,
        statements_to_moderate: statement::Entity::find()
            .filter(statement::Column::ConsultationId.eq(consultation_id))
            .filter(statement::Column::Status.eq(StatementStatus::Pending))
            .count(db)
            .await?,
    })
}

/// Steps that cannot be undone and so need a confirmation page first.
pub fn needs_confirmation(to: Status) -> bool {
    matches!(to, Status::Closed | Status::Published | Status::Archived)
}

/// What staff type into the outcome form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OutcomeForm {
    #[serde(default)]
    pub outcome_text: String,
    #[serde(default)]
    pub outcome_url: String,
    /// The date of the decision (`2027-03-01`).
    #[serde(default)]
    pub decided_on: String,
    /// Present when staff pressed "publish" rather than "save".
    #[serde(default)]
    pub publish: Option<String>,
}

impl OutcomeForm {
    pub fn from_model(c: &consultation::Model) -> Self {
        OutcomeForm {
            outcome_text: c.outcome_text.clone().unwrap_or_default(),
            outcome_url: c.outcome_url.clone().unwrap_or_default(),
            decided_on: c
                .decided_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            publish: None,
        }
    }
}

/// The outcome may be written once the consultation has closed; it can be
/// published with or after the report.
pub fn may_write(c: &consultation::Model) -> Result<(), AppError> {
    match c.status {
        Status::Closed | Status::Published => Ok(()),
        Status::Archived => Err(AppError::Conflict("errors.consultation_archived")),
        Status::Draft | Status::Open => {
            Err(AppError::Conflict("deadlines.errors.outcome_too_early"))
        }
    }
}

pub fn may_publish(c: &consultation::Model) -> bool {
    c.status == Status::Published && c.outcome_published_at.is_none()
}

/// Save the outcome; with `form.publish`, also publish it and mail the
/// followers (once: claimed with a conditional update in the same
/// transaction as the mails).
pub async fn save(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    form: &OutcomeForm,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    let existing = get_for_staff(db, actor, slug).await?;
    may_write(&existing)?;
    let mut errors = Vec::new();
    let text = clean_text(&form.outcome_text, OUTCOME_MAX).unwrap_or_else(|k| {
        errors.push(FieldError {
            field: "outcome_text",
            key: k,
        });
        String::new()
    });
    let url = match form.outcome_url.trim() {
        "" => None,
        raw => match url::Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && raw.len() <= URL_MAX => {
                Some(u.to_string())
            }
            _ => {
                errors.push(FieldError {
                    field: "outcome_url",
                    key: "deadlines.errors.url_invalid",
                });
                None
            }
        },
    };
    let decided_on = match form.decided_on.trim() {
        "" => None,
        raw => crate::dates::parse_date(raw).or_else(|| {
            errors.push(FieldError {
                field: "decided_on",
                key: "deadlines.errors.date_invalid",
            });
            None
        }),
    };
    let publish = form.publish.is_some();
    if publish && text.is_empty() {
        errors.push(FieldError {
            field: "outcome_text",
            key: "required",
        });
    }
    if publish && existing.status != Status::Published {
        errors.push(FieldError {
            field: "outcome_text",
            key: "deadlines.errors.outcome_needs_report",
        });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let at = now();
    let txn = super::begin_write(db).await?;
    let id = existing.id;
    let mut active = existing.into_active_model();
    active.outcome_text = Set((!text.is_empty()).then_some(text));
    active.outcome_url = Set(url);
    active.decided_on = Set(decided_on);
    active.updated_at = Set(at);
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor.id),
        "consultation.outcome_saved",
        "consultation",
        Some(id),
        "",
    )
    .await?;
    if publish {
        let claimed = consultation::Entity::update_many()
            .col_expr(
                consultation::Column::OutcomePublishedAt,
                Expr::value(Some(at)),
            )
            .filter(consultation::Column::Id.eq(id))
            .filter(consultation::Column::OutcomePublishedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            super::notifications::consultation_status_changed(&txn, &saved, "outcome").await?;
            audit::record(
                &txn,
                Some(actor.id),
                "consultation.outcome_published",
                "consultation",
                Some(id),
                "",
            )
            .await?;
        }
    }
    txn.commit().await?;
    consultation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
