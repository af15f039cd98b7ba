use sea_orm::entity::prelude::*;

use crate::domain::{ConsultationStatus, ModerationMode, Participation, VotingEligibility};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: ConsultationStatus,
    pub moderation_mode: ModerationMode,
    pub accepts_ideas: bool,
    pub has_conversation: bool,
    pub support_threshold: i32,
    pub comment_flag_threshold: i32,
    pub allow_self_support: bool,
    #[sea_orm(column_type = "Text")]
    pub categories: String,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Who may vote and write statements: anyone | logged_in | verified.
    pub voting_eligibility: VotingEligibility,
    pub statement_max_chars: i32,
    /// Who may take part: `account` (any account) or `mitid` (an OIDC citizen login).
    pub eligibility: Participation,
    /// Minimum level of assurance when `eligibility` is `mitid`.
    pub min_loa: Option<String>,
    pub min_age: Option<i32>,
    /// Residents of this municipality only (4-digit code), when set.
    pub municipality_code: Option<String>,
    /// How many new anonymous participants one connection may add per hour;
    /// `None` = the server's default.
    pub new_participants_per_hour: Option<i32>,
    /// When the council is expected to decide (a local calendar date).
    pub decision_expected_on: Option<Date>,
    /// When the council decided (a local calendar date).
    pub decided_on: Option<Date>,
    /// "Det kom der ud af": what was decided and why, Markdown.
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome_text: Option<String>,
    /// A link to the decision (e.g. the council's minutes).
    pub outcome_url: Option<String>,
    /// When the outcome was made public; `None` while staff draft it.
    pub outcome_published_at: Option<DateTimeUtc>,
    pub contact_name: Option<String>,
    pub contact_department: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// When the scheduler mailed followers that the deadline is near.
    pub reminder_sent_at: Option<DateTimeUtc>,
    /// Moves (by a database trigger) with every change to the consultation's
    /// statements: the marker of the statements kept in memory for its pages.
    pub statements_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
