//! Shaping records for templates: dates in the reader's language, statuses
//! with their labels, Markdown made safe.

use serde_json::{Value, json};

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

pub fn consultation_card(catalogs: &Catalogs, locale: Locale, c: &consultation::Model) -> Value {
    let status = c.status;
    json!({
        "slug": c.slug,
        "title": c.title,
        "summary": c.summary,
        "status": status.as_str(),
        "status_label": status_label(catalogs, locale, status),
        "opens_at": c.opens_at.as_ref().map(|d| date(locale, d)),
        "closes_at": c.closes_at.as_ref().map(|d| date(locale, d)),
        "published_at": c.published_at.as_ref().map(|d| date(locale, d)),
        "updated_at": date(locale, &c.updated_at),
    })
}

pub fn consultation_detail(catalogs: &Catalogs, locale: Locale, c: &consultation::Model) -> Value {
    let mut card = consultation_card(catalogs, locale, c);
    card["body_html"] = json!(markdown::to_safe_html(&c.body));
    card["categories"] = json!(consultations::categories(c));
    card["accepts_ideas"] = json!(c.accepts_ideas);
    card["has_conversation"] = json!(c.has_conversation);
    card["moderation_mode"] = json!(c.moderation_mode);
    card["moderation_label"] =
        json!(catalogs.text(locale, &format!("moderation.{}", c.moderation_mode)));
    card
}

/// Field → translated message, for re-rendering a form next to its inputs.
pub fn field_errors(catalogs: &Catalogs, locale: Locale, errors: &[FieldError]) -> Value {
    let mut map = serde_json::Map::new();
    for e in errors {
        map.entry(e.field)
            .or_insert_with(|| json!(catalogs.text(locale, &format!("errors.{}", e.key))));
    }
    Value::Object(map)
}
