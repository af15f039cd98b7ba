//! Consultations and their life cycle:
//! draft → open → closed → published → archived (closed may also be archived
//! without a published report). Only staff create, edit and move them; the
//! public never sees drafts.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::{AppError, FieldError};

use super::{audit, clean_text, now};
pub use crate::domain::consultation::{ModerationMode, Status};
use crate::domain::{EligibilityRules, Participation, VotingEligibility};

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 500;
pub const BODY_MAX: usize = 20_000;
pub const SLUG_MAX: usize = 80;
pub const CATEGORY_MAX: usize = 40;
pub const CATEGORIES_MAX: usize = 20;
/// Deliberation: the statement length limit staff may choose.
pub const STATEMENT_MAX_CHARS_DEFAULT: i32 = 200;
pub const STATEMENT_MIN_LIMIT: i32 = 50;
pub const STATEMENT_MAX_LIMIT: i32 = 1000;
/// Highest per-consultation limit on new participants per client per hour.
pub const NEW_PARTICIPANTS_MAX: i32 = 100_000;

/// What staff type into the consultation form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ConsultationForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub moderation_mode: String,
    /// Checkbox: present ("on") when ticked.
    #[serde(default)]
    pub accepts_ideas: Option<String>,
    #[serde(default)]
    pub has_conversation: Option<String>,
    #[serde(default)]
    pub support_threshold: String,
    /// Checkbox: authors may support their own ideas.
    #[serde(default)]
    pub allow_self_support: Option<String>,
    /// How many different people must flag a comment before it is hidden.
    #[serde(default)]
    pub comment_flag_threshold: String,
    /// One category per line (or comma separated).
    #[serde(default)]
    pub categories: String,
    /// Deliberation: who may vote (anyone | logged_in | verified).
    #[serde(default)]
    pub voting_eligibility: String,
    /// Deliberation: statement length limit in characters.
    #[serde(default)]
    pub statement_max_chars: String,
    /// Who may take part: `account` or `mitid`.
    #[serde(default)]
    pub eligibility: String,
    /// Minimum MitID level of assurance: empty, `low`, `substantial` or `high`.
    #[serde(default)]
    pub min_loa: String,
    /// Minimum age in years, empty for none.
    #[serde(default)]
    pub min_age: String,
    /// Residents of this municipality only (code, e.g. 0751), empty for all.
    #[serde(default)]
    pub municipality_code: String,
    /// New anonymous participants per client per hour; empty for the
    /// server's default.
    #[serde(default)]
    pub new_participants_per_hour: String,
    /// Planned opening, local time (`2027-01-15T12:00`); empty = by hand.
    #[serde(default)]
    pub opens_at: String,
    /// The deadline ("høringsfrist"), local time; empty = by hand.
    #[serde(default)]
    pub closes_at: String,
    /// When the council is expected to decide (`2027-03-01`), optional.
    #[serde(default)]
    pub decision_expected_on: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_department: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidConsultation {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub moderation_mode: ModerationMode,
    pub accepts_ideas: bool,
    pub has_conversation: bool,
    pub support_threshold: i32,
    pub allow_self_support: bool,
    pub comment_flag_threshold: i32,
    pub categories: Vec<String>,
    pub voting_eligibility: VotingEligibility,
    pub statement_max_chars: i32,
    pub eligibility: EligibilityRules,
    pub new_participants_per_hour: Option<i32>,
    pub opens_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closes_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decision_expected_on: Option<chrono::NaiveDate>,
    pub contact: Contact,
}

/// The person citizens may ask about a consultation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub name: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub const CONTACT_MAX: usize = 200;

/// A URL-safe slug from a title: Danish letters spelled out, anything else
/// folded to hyphens.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'é' | 'è' | 'ê' => out.push('e'),
            'ü' => out.push('u'),
            'ö' => out.push('o'),
            'ä' => out.push('a'),
            _ => {
                if !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(SLUG_MAX).collect();
    trimmed.trim_end_matches('-').to_owned()
}

fn valid_slug(slug: &str) -> bool {
    (3..=SLUG_MAX).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

impl ConsultationForm {
    pub fn validate(&self) -> Result<ValidConsultation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &'static str, key: &'static str| errors.push(FieldError { field, key });

        let title = clean_text(&self.title, TITLE_MAX).unwrap_or_else(|k| {
            err("title", k);
            String::new()
        });
        if title.chars().count() < 3 && !self.title.trim().is_empty() {
            err("title", "title_short");
        } else if self.title.trim().is_empty() {
            err("title", "required");
        }
        let slug = if self.slug.trim().is_empty() {
            slugify(&title)
        } else {
            self.slug.trim().to_owned()
        };
        if !title.is_empty() && !valid_slug(&slug) {
            err("slug", "slug_invalid");
        }
        let summary = clean_text(&self.summary, SUMMARY_MAX).unwrap_or_else(|k| {
            err("summary", k);
            String::new()
        });
        if self.summary.trim().is_empty() {
            err("summary", "required");
        }
        let body = clean_text(&self.body, BODY_MAX).unwrap_or_else(|k| {
            err("body", k);
            String::new()
        });
        let moderation_mode = match self.moderation_mode.as_str() {
            "pre" => ModerationMode::Pre,
            "post" | "" => ModerationMode::Post,
            _ => {
                err("moderation_mode", "invalid_choice");
                ModerationMode::Post
            }
        };
        let support_threshold = match self.support_threshold.trim() {
            "" => 50,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => {
                    err("support_threshold", "number_range");
                    50
                }
            },
        };
        let comment_flag_threshold = match self.comment_flag_threshold.trim() {
            "" => 3,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    err("comment_flag_threshold", "flag_threshold_range");
                    3
                }
            },
        };
        let mut categories: Vec<String> = Vec::new();
        for raw in self.categories.split(['\n', ',']) {
            let c = raw.trim();
            if c.is_empty() {
                continue;
            }
            if c.chars().count() > CATEGORY_MAX || c.chars().any(char::is_control) {
                err("categories", "category_invalid");
                break;
            }
            if !categories.iter().any(|x| x.eq_ignore_ascii_case(c)) {
                categories.push(c.to_owned());
            }
        }
        if categories.len() > CATEGORIES_MAX {
            err("categories", "too_many_categories");
        }
        let voting_eligibility = match self.voting_eligibility.as_str() {
            "" => VotingEligibility::Anyone,
            raw => VotingEligibility::parse(raw).unwrap_or_else(|| {
                err("voting_eligibility", "invalid_choice");
                VotingEligibility::Anyone
            }),
        };
        let statement_max_chars = match self.statement_max_chars.trim() {
            "" => STATEMENT_MAX_CHARS_DEFAULT,
            raw => match raw.parse::<i32>() {
                Ok(n) if (STATEMENT_MIN_LIMIT..=STATEMENT_MAX_LIMIT).contains(&n) => n,
                _ => {
                    err("statement_max_chars", "statement_limit_range");
                    STATEMENT_MAX_CHARS_DEFAULT
                }
            },
        };
        let mitid = match self.eligibility.as_str() {
            "" | "account" => false,
            "mitid" => true,
            _ => {
                err("eligibility", "invalid_choice");
                false
            }
        };
        let min_loa = match self.min_loa.as_str() {
            "" => None,
            v @ ("low" | "substantial" | "high") => Some(v.to_owned()),
            _ => {
                err("min_loa", "invalid_choice");
                None
            }
        };
        let min_age = match self.min_age.trim() {
            "" => None,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=120).contains(&n) => Some(n),
                _ => {
                    err("min_age", "age_range");
                    None
                }
            },
        };
        let municipality_code = match self.municipality_code.trim() {
            "" => None,
            raw => match super::oidc::parse_municipality(raw) {
                Some(code) => Some(code),
                None => {
                    err("municipality_code", "municipality_invalid");
                    None
                }
            },
        };
        let new_participants_per_hour = match self.new_participants_per_hour.trim() {
            "" => None,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=NEW_PARTICIPANTS_MAX).contains(&n) => Some(n),
                _ => {
                    err("new_participants_per_hour", "participants_per_hour_range");
                    None
                }
            },
        };
        // Level of assurance, age and residence are only known from MitID.
        if !mitid && (min_loa.is_some() || min_age.is_some() || municipality_code.is_some()) {
            err("eligibility", "eligibility_needs_mitid");
        }
        let mut moment = |field: &'static str, raw: &str| match raw.trim() {
            "" => None,
            raw => crate::dates::parse_local(raw).or_else(|| {
                err(field, "deadlines.errors.datetime_invalid");
                None
            }),
        };
        let opens_at = moment("opens_at", &self.opens_at);
        let closes_at = moment("closes_at", &self.closes_at);
        if let (Some(o), Some(c)) = (opens_at, closes_at)
            && c <= o
        {
            err("closes_at", "deadlines.errors.closes_before_opens");
        }
        let decision_expected_on = match self.decision_expected_on.trim() {
            "" => None,
            raw => crate::dates::parse_date(raw).or_else(|| {
                err("decision_expected_on", "deadlines.errors.date_invalid");
                None
            }),
        };
        let mut optional = |field: &'static str, raw: &str| match clean_text(raw, CONTACT_MAX) {
            Ok(v) if v.is_empty() => None,
            Ok(v) if v.contains('\n') => {
                err(field, "invalid_characters");
                None
            }
            Ok(v) => Some(v),
            Err(k) => {
                err(field, k);
                None
            }
        };
        let contact = Contact {
            name: optional("contact_name", &self.contact_name),
            department: optional("contact_department", &self.contact_department),
            email: optional("contact_email", &self.contact_email),
            phone: optional("contact_phone", &self.contact_phone),
        };
        if let Some(e) = &contact.email
            && let Err(k) = super::users::parse_email(e)
        {
            err("contact_email", k);
        }
        if let Some(p) = &contact.phone
            && !p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
        {
            err("contact_phone", "deadlines.errors.phone_invalid");
        }
        if errors.is_empty() {
            Ok(ValidConsultation {
                title,
                slug,
                summary,
                body,
                moderation_mode,
                accepts_ideas: self.accepts_ideas.is_some(),
                has_conversation: self.has_conversation.is_some(),
                support_threshold,
                allow_self_support: self.allow_self_support.is_some(),
                comment_flag_threshold,
                categories,
                voting_eligibility,
                statement_max_chars,
                eligibility: EligibilityRules {
                    mitid,
                    min_loa,
                    min_age,
                    municipality_code,
                },
                new_participants_per_hour,
                opens_at,
                closes_at,
                decision_expected_on,
                contact,
            })
        } else {
            Err(errors)
        }
    }

    pub fn from_model(m: &consultation::Model) -> Self {
        ConsultationForm {
            title: m.title.clone(),
            slug: m.slug.clone(),
            summary: m.summary.clone(),
            body: m.body.clone(),
            moderation_mode: m.moderation_mode.as_str().to_owned(),
            accepts_ideas: m.accepts_ideas.then(|| "on".into()),
            has_conversation: m.has_conversation.then(|| "on".into()),
            support_threshold: m.support_threshold.to_string(),
            allow_self_support: m.allow_self_support.then(|| "on".into()),
            comment_flag_threshold: m.comment_flag_threshold.to_string(),
            categories: categories(m).join("\n"),
            voting_eligibility: m.voting_eligibility.as_str().to_owned(),
            statement_max_chars: m.statement_max_chars.to_string(),
            eligibility: m.eligibility.as_str().to_owned(),
            min_loa: m.min_loa.clone().unwrap_or_default(),
            min_age: m.min_age.map(|a| a.to_string()).unwrap_or_default(),
            municipality_code: m.municipality_code.clone().unwrap_or_default(),
            new_participants_per_hour: m
                .new_participants_per_hour
                .map(|n| n.to_string())
                .unwrap_or_default(),
            opens_at: m
                .opens_at
                .map(crate::dates::to_local_input)
                .unwrap_or_default(),
            closes_at: m
                .closes_at
                .map(crate::dates::to_local_input)
                .unwrap_or_default(),
            decision_expected_on: m
                .decision_expected_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            contact_name: m.contact_name.clone().unwrap_or_default(),
            contact_department: m.contact_department.clone().unwrap_or_default(),
            contact_email: m.contact_email.clone().unwrap_or_default(),
            contact_phone: m.contact_phone.clone().unwrap_or_default(),
        }
    }
}

/// The planned times against the clock: a consultation that has not opened
/// may not be planned to open in the past, and one that has not closed may
/// not get a deadline in the past (that would close it at once). Times that
/// are already stored and unchanged pass, and once a step has happened its
/// time is history and cannot be edited.
pub fn check_schedule(
    valid: &mut ValidConsultation,
    existing: Option<&consultation::Model>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Vec<FieldError>> {
    let status = existing.map_or(Status::Draft, |c| c.status);
    let mut errors = Vec::new();
    if status != Status::Draft {
        valid.opens_at = existing.and_then(|c| c.opens_at);
    }
    if !matches!(status, Status::Draft | Status::Open) {
        valid.closes_at = existing.and_then(|c| c.closes_at);
    }
    let unchanged =
        |new: Option<chrono::DateTime<chrono::Utc>>,
         old: fn(&consultation::Model) -> Option<chrono::DateTime<chrono::Utc>>| {
            existing.is_some_and(|c| old(c) == new)
        };
    if status == Status::Draft
        && let Some(o) = valid.opens_at
        && o < now
        && !unchanged(valid.opens_at, |c| c.opens_at)
    {
        errors.push(FieldError {
            field: "opens_at",
            key: "deadlines.errors.opens_in_past",
        });
    }
    if matches!(status, Status::Draft | Status::Open)
        && let Some(c) = valid.closes_at
        && c <= now
        && !unchanged(valid.closes_at, |m| m.closes_at)
    {
        errors.push(FieldError {
            field: "closes_at",
            key: "deadlines.errors.closes_in_past",
        });
    }
    if let (Some(o), Some(c)) = (valid.opens_at, valid.closes_at)
        && c <= o
        && !errors.iter().any(|e| e.field == "closes_at")
    {
        errors.push(FieldError {
            field: "closes_at",
            key: "deadlines.errors.closes_before_opens",
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub fn categories(m: &consultation::Model) -> Vec<String> {
    serde_json::from_str(&m.categories).unwrap_or_default()
}

pub fn eligibility_rules(m: &consultation::Model) -> EligibilityRules {
    EligibilityRules {
        mitid: m.eligibility == Participation::Mitid,
        min_loa: m.min_loa.clone(),
        min_age: m.min_age,
        municipality_code: m.municipality_code.clone(),
    }
}

pub(crate) fn require_staff(actor: &CurrentUser) -> Result<(), AppError> {
    if actor.role.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

async fn slug_taken(
    db: &impl sea_orm::ConnectionTrait,
    slug: &str,
    except: Option<i64>,
) -> Result<bool, AppError> {
    let mut q = consultation::Entity::find().filter(consultation::Column::Slug.eq(slug));
    if let Some(id) = except {
        q = q.filter(consultation::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    form: &ConsultationForm,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    let mut valid = form.validate().map_err(AppError::Validation)?;
    check_schedule(&mut valid, None, now()).map_err(AppError::Validation)?;
    let txn = super::begin_write(db).await?;
    if slug_taken(&txn, &valid.slug, None).await? {
        return Err(AppError::field("slug", "slug_taken"));
    }
    let at = now();
    let model = consultation::ActiveModel {
        slug: Set(valid.slug),
        title: Set(valid.title),
        summary: Set(valid.summary),
        body: Set(valid.body),
        status: Set(Status::Draft),
        moderation_mode: Set(valid.moderation_mode),
        accepts_ideas: Set(valid.accepts_ideas),
        has_conversation: Set(valid.has_conversation),
        support_threshold: Set(valid.support_threshold),
        allow_self_support: Set(valid.allow_self_support),
        comment_flag_threshold: Set(valid.comment_flag_threshold),
        categories: Set(serde_json::to_string(&valid.categories).map_err(anyhow::Error::from)?),
        voting_eligibility: Set(valid.voting_eligibility),
        statement_max_chars: Set(valid.statement_max_chars),
        eligibility: Set(if valid.eligibility.mitid {
            Participation::Mitid
        } else {
            Participation::Account
        }),
        min_loa: Set(valid.eligibility.min_loa),
        min_age: Set(valid.eligibility.min_age),
        municipality_code: Set(valid.eligibility.municipality_code),
        new_participants_per_hour: Set(valid.new_participants_per_hour),
        opens_at: Set(valid.opens_at),
        closes_at: Set(valid.closes_at),
        decision_expected_on: Set(valid.decision_expected_on),
        contact_name: Set(valid.contact.name),
        contact_department: Set(valid.contact.department),
        contact_email: Set(valid.contact.email),
        contact_phone: Set(valid.contact.phone),
        created_by: Set(Some(actor.id)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(actor.id),
        "consultation.created",
        "consultation",
        Some(model.id),
        &model.slug,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    form: &ConsultationForm,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    let existing = find(db, slug).await?.ok_or(AppError::NotFound)?;
    if existing.status == Status::Archived {
        return Err(AppError::Conflict("errors.consultation_archived"));
    }
    let mut valid = form.validate().map_err(AppError::Validation)?;
    check_schedule(&mut valid, Some(&existing), now()).map_err(AppError::Validation)?;
    let txn = super::begin_write(db).await?;
    // The address of a consultation that the public has seen stays stable.
    let slug = if existing.status == Status::Draft {
        if slug_taken(&txn, &valid.slug, Some(existing.id)).await? {
            return Err(AppError::field("slug", "slug_taken"));
        }
        valid.slug
    } else {
        existing.slug.clone()
    };
    let id = existing.id;
    let mut active = existing.into_active_model();
    active.slug = Set(slug);
    active.title = Set(valid.title);
    active.summary = Set(valid.summary);
    active.body = Set(valid.body);
    active.moderation_mode = Set(valid.moderation_mode);
    active.accepts_ideas = Set(valid.accepts_ideas);
    active.has_conversation = Set(valid.has_conversation);
    active.support_threshold = Set(valid.support_threshold);
    active.allow_self_support = Set(valid.allow_self_support);
    active.comment_flag_threshold = Set(valid.comment_flag_threshold);
    active.categories = Set(serde_json::to_string(&valid.categories).map_err(anyhow::Error::from)?);
    active.voting_eligibility = Set(valid.voting_eligibility);
    active.statement_max_chars = Set(valid.statement_max_chars);
    active.eligibility = Set(if valid.eligibility.mitid {
        Participation::Mitid
    } else {
        Participation::Account
    });
    active.min_loa = Set(valid.eligibility.min_loa);
    active.min_age = Set(valid.eligibility.min_age);
    active.municipality_code = Set(valid.eligibility.municipality_code);
    active.new_participants_per_hour = Set(valid.new_participants_per_hour);
    // A new deadline gets its own reminder.
    if active.closes_at.as_ref() != &valid.closes_at {
        active.reminder_sent_at = Set(None);
    }
    active.opens_at = Set(valid.opens_at);
    active.closes_at = Set(valid.closes_at);
    active.decision_expected_on = Set(valid.decision_expected_on);
    active.contact_name = Set(valid.contact.name);
    active.contact_department = Set(valid.contact.department);
    active.contact_email = Set(valid.contact.email);
    active.contact_phone = Set(valid.contact.phone);
    active.updated_at = Set(now());
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor.id),
        "consultation.updated",
        "consultation",
        Some(id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// By address, whatever its state (command-line tools).
pub async fn find_by_slug(
    db: &DatabaseConnection,
    slug: &str,
) -> Result<Option<consultation::Model>, AppError> {
    find(db, slug).await
}

async fn find(
    db: &DatabaseConnection,
    slug: &str,
) -> Result<Option<consultation::Model>, AppError> {
    Ok(consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// A consultation as `viewer` may see it: drafts exist only for staff.
pub async fn get_visible(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    let found = find(db, slug).await?.ok_or(AppError::NotFound)?;
    let staff = viewer.is_some_and(|u| u.role.is_staff());
    if found.status.is_public() || staff {
        Ok(found)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn get_for_staff(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    require_staff(actor)?;
    find(db, slug).await?.ok_or(AppError::NotFound)
}

/// Publicly visible consultations, newest first, optionally of some states.
pub async fn list_public(
    db: &DatabaseConnection,
    only: &[Status],
) -> Result<Vec<consultation::Model>, AppError> {
    let states: Vec<&str> = Status::PUBLIC
        .iter()
        .filter(|s| only.is_empty() || only.contains(s))
        .map(|s| s.as_str())
        .collect();
    Ok(consultation::Entity::find()
        .filter(consultation::Column::Status.is_in(states))
        .order_by_desc(consultation::Column::CreatedAt)
        .order_by_desc(consultation::Column::Id)
        .all(db)
        .await?)
}

/// Drafts whose planned opening time has come.
pub async fn due_to_open(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<consultation::Model>, AppError> {
    Ok(consultation::Entity::find()
        .filter(consultation::Column::Status.eq(Status::Draft))
        .filter(consultation::Column::OpensAt.lte(now))
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await?)
}

/// Open consultations whose deadline has passed.
pub async fn due_to_close(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<consultation::Model>, AppError> {
    Ok(consultation::Entity::find()
        .filter(consultation::Column::Status.eq(Status::Open))
        .filter(consultation::Column::ClosesAt.lte(now))
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await?)
}

/// Open consultations closing after `now` and by `until` whose followers
/// have not had a reminder.
pub async fn due_for_reminder(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<consultation::Model>, AppError> {
    Ok(consultation::Entity::find()
        .filter(consultation::Column::Status.eq(Status::Open))
        .filter(consultation::Column::ClosesAt.gt(now))
        .filter(consultation::Column::ClosesAt.lte(until))
        .filter(consultation::Column::ReminderSentAt.is_null())
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await?)
}

pub async fn list_all(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<Vec<consultation::Model>, AppError> {
    require_staff(actor)?;
    Ok(consultation::Entity::find()
        .order_by_desc(consultation::Column::UpdatedAt)
        .order_by_desc(consultation::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_spell_out_danish_letters() {
        assert_eq!(
            slugify("Grønne områder på Århus Ø!"),
            "groenne-omraader-paa-aarhus-oe"
        );
        assert_eq!(slugify("  --Cykel  stier-- "), "cykel-stier");
    }

    #[test]
    fn life_cycle_only_moves_forward() {
        assert_eq!(Status::Draft.next(), &[Status::Open]);
        assert!(Status::Open.next().contains(&Status::Closed));
        assert!(!Status::Open.next().contains(&Status::Published));
        assert!(Status::Archived.next().is_empty());
        assert!(!Status::Draft.is_public());
    }

    fn form() -> ConsultationForm {
        ConsultationForm {
            title: "Ny bypark".into(),
            summary: "Hvad skal parken kunne?".into(),
            body: "Fortæl os det.".into(),
            categories: "Natur\nLeg, natur\n".into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_form_gets_defaults() {
        let v = form().validate().unwrap();
        assert_eq!(v.slug, "ny-bypark");
        assert_eq!(v.support_threshold, 50);
        assert_eq!(v.moderation_mode, ModerationMode::Post);
        assert_eq!(v.categories, vec!["Natur".to_string(), "Leg".to_string()]);
    }

    #[test]
    fn invalid_form_names_each_field() {
        let mut f = form();
        f.title = String::new();
        f.summary = "x".repeat(SUMMARY_MAX + 1);
        f.support_threshold = "-3".into();
        f.moderation_mode = "sometimes".into();
        let errors = f.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert!(fields.contains(&"title"));
        assert!(fields.contains(&"summary"));
        assert!(fields.contains(&"support_threshold"));
        assert!(fields.contains(&"moderation_mode"));
    }
}
