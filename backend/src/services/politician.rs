//! The politician's landing page: every consultation whose report they may read, with where
//! the report stands and the deadlines, so the report is one click from logging in.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::auth::session::CurrentUser;
use crate::domain::Role;
use crate::entities::consultation;
use crate::errors::AppError;

use super::consultations::Status;

/// Where a consultation's report stands for its readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// Open: the report grows as people take part; only politicians and staff see it.
    Growing,
    /// Closed, not yet published: final figures, still internal.
    Internal,
    /// Published (or archived after publishing): everyone can read it.
    Public,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Growing => "growing",
            ReportStatus::Internal => "internal",
            ReportStatus::Public => "public",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OverviewRow {
    pub consultation: consultation::Model,
    pub report: ReportStatus,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
}

/// Whose landing page after login is the overview rather than the account page.
pub fn lands_on_overview(role: Role) -> bool {
    role == Role::Politician
}

/// Consultations whose report `viewer` may read, open ones first (soonest deadline first),
/// then closed, then published. Only for those who read reports early.
pub async fn overview(
    db: &DatabaseConnection,
    viewer: &CurrentUser,
) -> Result<Vec<OverviewRow>, AppError> {
    if !viewer.role.reads_reports_early() {
        return Err(AppError::forbidden());
    }
    let all = consultation::Entity::find()
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await?;
    let mut rows: Vec<OverviewRow> = all
        .into_iter()
        .filter(|c| c.status != Status::Draft && super::report::can_view(Some(viewer), c))
        .map(|c| {
            let report = match c.status {
                Status::Open => ReportStatus::Growing,
                Status::Published => ReportStatus::Public,
                Status::Archived if c.published_at.is_some() => ReportStatus::Public,
                _ => ReportStatus::Internal,
            };
            OverviewRow {
                opens_at: c.opens_at,
                closes_at: c.closes_at,
                report,
                consultation: c,
            }
        })
        .collect();
    let rank = |r: &OverviewRow| match r.report {
        ReportStatus::Growing => 0,
        ReportStatus::Internal => 1,
        ReportStatus::Public => 2,
    };
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.closes_at.cmp(&b.closes_at))
            .then(a.consultation.id.cmp(&b.consultation.id))
    });
    Ok(rows)
}
