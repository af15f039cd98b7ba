//! Shaping records for templates: dates in the reader's language, statuses
//! with their labels, Markdown made safe.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::entities::consultation;
use crate::errors::FieldError;
use crate::i18n::{Catalogs, Locale};
use crate::markdown;
use crate::services::consultations::{self, Status};

/// The day of an instant in Danish time, written out ("2. december 2026"), so a
/// citizen never reads a bare "02.12.2026" or a UTC date that is a day off after 23.00.
pub fn date(locale: Locale, at: &chrono::DateTime<chrono::Utc>) -> String {
    crate::dates::format_date(*at, locale)
}

pub fn status_label(catalogs: &Catalogs, locale: Locale, status: Status) -> String {
    catalogs.text(locale, &format!("status.{}", status.as_str()))
}

/// A consultation in a list.
#[derive(Serialize)]
pub struct ConsultationCard {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// A CSS class token for the badge; decisions use the booleans.
    pub status: &'static str,
    pub status_label: String,
    pub is_open: bool,
    pub is_draft: bool,
    /// Closed, published or archived: participation has ended.
    pub is_over: bool,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    /// `<time datetime>` of the deadline.
    pub closes_at_iso: Option<String>,
    /// "3 dage tilbage" / "Lukker i dag kl. 12.00" while open.
    pub deadline: Option<String>,
    pub published_at: Option<String>,
    pub updated_at: String,
}

pub fn consultation_card(
    catalogs: &Catalogs,
    locale: Locale,
    c: &consultation::Model,
) -> ConsultationCard {
    let status = c.status;
    let now = chrono::Utc::now();
    ConsultationCard {
        is_open: status == crate::domain::ConsultationStatus::Open,
        is_draft: status == Status::Draft,
        is_over: matches!(
            status,
            Status::Closed | Status::Published | Status::Archived
        ),
        closes_at_iso: c.closes_at.map(crate::dates::to_iso_local),
        deadline: c
            .closes_at
            .filter(|_| status == Status::Open)
            .and_then(|t| crate::dates::deadline_phrase(t, now, locale)),
        slug: c.slug.clone(),
        title: c.title.clone(),
        summary: c.summary.clone(),
        status: status.as_str(),
        status_label: status_label(catalogs, locale, status),
        opens_at: c.opens_at.map(|d| crate::dates::format_datetime(d, locale)),
        closes_at: c
            .closes_at
            .map(|d| crate::dates::format_datetime(d, locale)),
        published_at: c.published_at.as_ref().map(|d| date(locale, d)),
        updated_at: date(locale, &c.updated_at),
    }
}

/// A consultation on its own page.
#[derive(Serialize)]
pub struct ConsultationDetail {
    #[serde(flatten)]
    pub card: ConsultationCard,
    pub body_html: String,
    pub categories: Vec<String>,
    pub accepts_ideas: bool,
    pub has_conversation: bool,
    pub moderation_mode: crate::domain::ModerationMode,
    pub moderation_label: String,
    pub timeline: Vec<TimelineStep>,
    pub contact: Option<ContactView>,
    /// "Det kom der ud af", once staff have published it.
    pub outcome: Option<OutcomeView>,
}

/// One step of a consultation's life, for an ordered list.
#[derive(Serialize)]
pub struct TimelineStep {
    pub label: String,
    /// Empty when the step has no date yet.
    pub date: String,
    pub done: bool,
    pub current: bool,
}

#[derive(Serialize)]
pub struct ContactView {
    pub name: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize)]
pub struct OutcomeView {
    pub html: String,
    pub url: Option<String>,
    pub decided_on: Option<String>,
    pub published_at: String,
}

/// The steps drafted → opens → closes → report → decision, each with its
/// date (planned or actual) and the current one marked.
pub fn timeline(catalogs: &Catalogs, locale: Locale, c: &consultation::Model) -> Vec<TimelineStep> {
    use crate::dates::{format_datetime, format_naive_date};
    let t = |key: &str| catalogs.text(locale, &format!("deadlines.timeline.{key}"));
    let at = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| format_datetime(d, locale)).unwrap_or_default()
    };
    let decided = c.outcome_published_at.is_some();
    // How far the consultation has come: 0 drafted … 4 decision taken.
    let reached = match c.status {
        Status::Draft => 0,
        Status::Open => 1,
        Status::Closed => 2,
        Status::Published => 3,
        Status::Archived if c.published_at.is_some() => 3,
        Status::Archived => 2,
    };
    let reached = if decided { 4 } else { reached };
    let decision = if decided {
        (
            t("decision_taken"),
            c.decided_on
                .map(|d| format_naive_date(d, locale))
                .unwrap_or_else(|| at(c.outcome_published_at)),
        )
    } else {
        (
            t("decision_expected"),
            c.decision_expected_on
                .map(|d| format_naive_date(d, locale))
                .unwrap_or_default(),
        )
    };
    let steps = [
        (
            t("drafted"),
            crate::dates::format_date(c.created_at, locale),
        ),
        (t("opens"), at(c.opens_at)),
        (t("closes"), at(c.closes_at)),
        (t("report"), at(c.published_at)),
        decision,
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (label, date))| TimelineStep {
            label,
            date,
            done: i < reached,
            current: i == reached,
        })
        .collect()
}

pub fn consultation_detail(
    catalogs: &Catalogs,
    locale: Locale,
    c: &consultation::Model,
) -> ConsultationDetail {
    ConsultationDetail {
        card: consultation_card(catalogs, locale, c),
        body_html: markdown::to_safe_html(&c.body),
        categories: consultations::categories(c),
        accepts_ideas: c.accepts_ideas,
        has_conversation: c.has_conversation,
        moderation_mode: c.moderation_mode,
        moderation_label: catalogs.text(locale, &format!("moderation.{}", c.moderation_mode)),
        timeline: timeline(catalogs, locale, c),
        contact: (c.contact_name.is_some()
            || c.contact_department.is_some()
            || c.contact_email.is_some()
            || c.contact_phone.is_some())
        .then(|| ContactView {
            name: c.contact_name.clone(),
            department: c.contact_department.clone(),
            email: c.contact_email.clone(),
            phone: c.contact_phone.clone(),
        }),
        outcome: outcome_view(locale, c),
    }
}

/// The published outcome, if any.
pub fn outcome_view(locale: Locale, c: &consultation::Model) -> Option<OutcomeView> {
    let published_at = c.outcome_published_at?;
    Some(OutcomeView {
        html: markdown::to_safe_html(c.outcome_text.as_deref().unwrap_or_default()),
        url: c.outcome_url.clone(),
        decided_on: c
            .decided_on
            .map(|d| crate::dates::format_naive_date(d, locale)),
        published_at: crate::dates::format_datetime(published_at, locale),
    })
}

/// The consultation a page belongs to, for its heading and links back.
#[derive(Serialize)]
pub struct ConsultationRef {
    pub slug: String,
    pub title: String,
    /// The deadline of an open consultation, for pages where people take part.
    pub deadline: Option<DeadlineView>,
}

#[derive(Serialize)]
pub struct DeadlineView {
    pub closes_at: String,
    pub closes_at_iso: String,
    /// "3 dage tilbage" / "Lukker i dag kl. 12.00".
    pub left: Option<String>,
}

impl ConsultationRef {
    pub fn of(c: &consultation::Model) -> Self {
        ConsultationRef {
            slug: c.slug.clone(),
            title: c.title.clone(),
            deadline: None,
        }
    }

    /// With the deadline while the consultation is open.
    pub fn with_deadline(c: &consultation::Model, locale: Locale) -> Self {
        let deadline = c
            .closes_at
            .filter(|_| c.status == Status::Open)
            .map(|t| DeadlineView {
                closes_at: crate::dates::format_datetime(t, locale),
                closes_at_iso: crate::dates::to_iso_local(t),
                left: crate::dates::deadline_phrase(t, chrono::Utc::now(), locale),
            });
        ConsultationRef {
            deadline,
            ..ConsultationRef::of(c)
        }
    }
}

/// One option of a select or radio group.
#[derive(Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// One option whose label is its value (categories).
#[derive(Serialize)]
pub struct ValueChoice {
    pub value: String,
    pub selected: bool,
}

/// A status a record can be moved to.
#[derive(Serialize)]
pub struct Transition {
    pub value: &'static str,
    pub label: String,
}

/// Field → translated message (the first per field), for re-rendering a form
/// next to its inputs. Serialises as an object keyed by field name.
#[derive(Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The first message of all, for forms with one place to show it.
    pub fn first(&self) -> Option<&str> {
        self.0.first().map(|(_, m)| m.as_str())
    }
}

impl Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, message) in &self.0 {
            map.serialize_entry(field, message)?;
        }
        map.end()
    }
}

pub fn field_errors(catalogs: &Catalogs, locale: Locale, errors: &[FieldError]) -> FieldErrors {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for e in errors {
        if !out.iter().any(|(f, _)| *f == e.field) {
            // Keys of newer features name their own section ("deadlines.errors.…").
            let key = if e.key.contains('.') {
                e.key.to_owned()
            } else {
                format!("errors.{}", e.key)
            };
            out.push((e.field, catalogs.text(locale, &key)));
        }
    }
    FieldErrors(out)
}

/// "Is it the same as …?": similar statements or ideas found after a citizen
/// sent one (the way it works without JavaScript); the form sends it anyway.
#[derive(Serialize)]
pub struct SimilarPage {
    pub action: String,
    pub back: String,
    pub items: Vec<SimilarItem>,
    /// A statement's text, editable; empty for ideas (sent in `hidden`).
    pub body: String,
    pub hidden: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
pub struct SimilarItem {
    pub href: String,
    pub text: String,
}
