//! Shaping records for templates: dates in the reader's language, statuses
//! with their labels, Markdown made safe.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::entities::consultation;
use crate::errors::FieldError;
use crate::i18n::{Catalogs, Locale};
use crate::markdown;
use crate::services::consultations::{self, Status};

pub fn date(locale: Locale, at: &chrono::DateTime<chrono::Utc>) -> String {
    match locale {
        Locale::Da => at.format("%d.%m.%Y").to_string(),
        Locale::En => at.format("%-d %b %Y").to_string(),
    }
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
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub published_at: Option<String>,
    pub updated_at: String,
}

pub fn consultation_card(
    catalogs: &Catalogs,
    locale: Locale,
    c: &consultation::Model,
) -> ConsultationCard {
    let status = c.status;
    ConsultationCard {
        is_open: status == crate::domain::ConsultationStatus::Open,
        slug: c.slug.clone(),
        title: c.title.clone(),
        summary: c.summary.clone(),
        status: status.as_str(),
        status_label: status_label(catalogs, locale, status),
        opens_at: c.opens_at.as_ref().map(|d| date(locale, d)),
        closes_at: c.closes_at.as_ref().map(|d| date(locale, d)),
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
    }
}

/// The consultation a page belongs to, for its heading and links back.
#[derive(Serialize)]
pub struct ConsultationRef {
    pub slug: String,
    pub title: String,
}

impl ConsultationRef {
    pub fn of(c: &consultation::Model) -> Self {
        ConsultationRef {
            slug: c.slug.clone(),
            title: c.title.clone(),
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
            out.push((e.field, catalogs.text(locale, &format!("errors.{}", e.key))));
        }
    }
    FieldErrors(out)
}
