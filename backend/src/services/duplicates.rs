//! Duplicates: similar statements and ideas are suggested while a citizen
//! writes ("Er det det samme som …?"), and moderators mark a duplicate of
//! another. A duplicate is kept — its votes and supports count and are
//! reported — but it is no longer offered to voters or listed among ideas.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::session::CurrentUser;
use crate::domain::IdeaStatus;
use crate::domain::similarity;
use crate::entities::{consultation, idea, statement};
use crate::errors::AppError;

use super::consultations::require_staff;
use super::workbench::{ItemKind, ItemRef};
use super::{moderation, statements};

/// At most this many suggestions while writing.
pub const SUGGESTIONS: usize = 3;
/// At most this many originals offered to a moderator.
const ORIGINALS: usize = 10;

/// Accepted statements of `c` like `text` (duplicates left out).
pub async fn similar_statements(
    db: &DatabaseConnection,
    c: &consultation::Model,
    text: &str,
) -> Result<Vec<statement::Model>, AppError> {
    let list = statements::list_accepted(db, c.id).await?;
    // The very same text is refused when it is sent (with its own message).
    let same = statements::normalize(text);
    if list.iter().any(|s| s.normalized == same) {
        return Ok(Vec::new());
    }
    let found = similarity::most_similar(
        text,
        list.iter().map(|s| (s.id, s.body.as_str())),
        SUGGESTIONS,
    );
    Ok(found
        .into_iter()
        .filter_map(|(id, _)| list.iter().find(|s| s.id == id).cloned())
        .collect())
}

fn idea_text(title: &str, body: &str) -> String {
    format!("{title} {body}")
}

async fn listed_ideas(
    db: &DatabaseConnection,
    consultation_id: i64,
) -> Result<Vec<idea::Model>, AppError> {
    Ok(idea::Entity::find()
        .filter(idea::Column::ConsultationId.eq(consultation_id))
        .filter(idea::Column::PublishedAt.is_not_null())
        .filter(idea::Column::Status.ne(IdeaStatus::Withdrawn))
        .filter(idea::Column::DuplicateOf.is_null())
        .all(db)
        .await?)
}

/// Public ideas of `c` like the one being written (duplicates left out).
pub async fn similar_ideas(
    db: &DatabaseConnection,
    c: &consultation::Model,
    title: &str,
    body: &str,
) -> Result<Vec<idea::Model>, AppError> {
    let list = listed_ideas(db, c.id).await?;
    let texts: Vec<(i64, String)> = list
        .iter()
        .map(|i| (i.id, idea_text(&i.title, &i.body)))
        .collect();
    let found = similarity::most_similar(
        &idea_text(title, body),
        texts.iter().map(|(id, t)| (*id, t.as_str())),
        SUGGESTIONS,
    );
    Ok(found
        .into_iter()
        .filter_map(|(id, _)| list.iter().find(|i| i.id == id).cloned())
        .collect())
}

/// An item a moderator may name as the original.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Original {
    pub id: i64,
    pub text: String,
}

/// The item's consultation and text, and whether it is already a duplicate.
async fn item_of(
    db: &DatabaseConnection,
    item: ItemRef,
) -> Result<(i64, String, Option<i64>), AppError> {
    match item.kind {
        ItemKind::Statement => {
            let s = statement::Entity::find_by_id(item.id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((s.consultation_id, s.body, s.duplicate_of))
        }
        ItemKind::Idea => {
            let i = idea::Entity::find_by_id(item.id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((
                i.consultation_id,
                idea_text(&i.title, &i.body),
                i.duplicate_of,
            ))
        }
        ItemKind::Comment => Err(AppError::NotFound),
    }
}

/// May `actor` mark `item` as a duplicate? Staff, statements and ideas only.
pub fn may_mark(actor: &CurrentUser, item: ItemRef) -> Result<(), AppError> {
    require_staff(actor)?;
    if item.kind == ItemKind::Comment {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Candidates for the original of `item`, most alike first, with the
/// original it is marked with now (if any).
pub async fn originals(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    item: ItemRef,
) -> Result<(Vec<Original>, Option<i64>), AppError> {
    may_mark(actor, item)?;
    let (consultation_id, text, current) = item_of(db, item).await?;
    let pool: Vec<(i64, String)> = match item.kind {
        ItemKind::Statement => statements::list_accepted(db, consultation_id)
            .await?
            .into_iter()
            .map(|s| (s.id, s.body))
            .collect(),
        _ => listed_ideas(db, consultation_id)
            .await?
            .into_iter()
            .map(|i| (i.id, i.title))
            .collect(),
    };
    let pool: Vec<(i64, String)> = pool.into_iter().filter(|(id, _)| *id != item.id).collect();
    let ranked = similarity::ranked(&text, pool.iter().map(|(id, t)| (*id, t.as_str())));
    Ok((
        ranked
            .into_iter()
            .take(ORIGINALS)
            .filter_map(|(id, _)| {
                pool.iter().find(|(p, _)| *p == id).map(|(id, t)| Original {
                    id: *id,
                    text: t.clone(),
                })
            })
            .collect(),
        current,
    ))
}

/// Mark `item` as a duplicate of `of` (same kind and consultation, not
/// itself, and `of` no duplicate). Recorded in the moderation log.
pub async fn mark(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    item: ItemRef,
    of: i64,
) -> Result<(), AppError> {
    may_mark(actor, item)?;
    if of == item.id {
        return Err(AppError::field(
            "of",
            "workbench.errors.duplicate_of_itself",
        ));
    }
    let (consultation_id, _, _) = item_of(db, item).await?;
    let original = item_of(
        db,
        ItemRef {
            kind: item.kind,
            id: of,
        },
    )
    .await
    .map_err(|_| AppError::field("of", "workbench.errors.duplicate_unknown"))?;
    if original.0 != consultation_id || original.2.is_some() {
        return Err(AppError::field("of", "workbench.errors.duplicate_unknown"));
    }
    let txn = super::begin_write(db).await?;
    match item.kind {
        ItemKind::Statement => {
            statement::Entity::update(statement::ActiveModel {
                id: Set(item.id),
                duplicate_of: Set(Some(of)),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        _ => {
            idea::Entity::update(idea::ActiveModel {
                id: Set(item.id),
                duplicate_of: Set(Some(of)),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
    }
    moderation::record(
        &txn,
        Some(actor.id),
        item.kind.as_str(),
        item.id,
        "duplicate",
        &format!("{} {of}", item.kind.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
