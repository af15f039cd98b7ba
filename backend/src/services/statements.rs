//! Short statements in a consultation's conversation: seed statements from
//! staff, statements from participants (length limit, duplicates, flooding),
//! and moderation (pre- or post-moderation, reasons, meta statements).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::auth::session::CurrentUser;
use crate::domain::Refusal;
pub use crate::domain::StatementStatus;
use crate::entities::{consultation, statement};
use crate::errors::AppError;

use super::consultations::{self, ModerationMode, Status};
use super::participants::{self, Visitor};
use super::{audit, clean_text, eligibility, now};

/// Default and upper bound of a consultation's statement length limit.
pub const DEFAULT_MAX_CHARS: i32 = 200;
/// Flooding: at most this many statements per participant per window.
pub const RATE_LIMIT_COUNT: u64 = 5;
pub const RATE_LIMIT_WINDOW_MINUTES: i64 = 10;
pub const REASON_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationAction {
    Accept,
    Reject,
    MarkMeta,
    UnmarkMeta,
}

impl ModerationAction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accept" => Some(Self::Accept),
            "reject" => Some(Self::Reject),
            "meta" => Some(Self::MarkMeta),
            "not_meta" => Some(Self::UnmarkMeta),
            _ => None,
        }
    }
}

/// For duplicate detection: case, whitespace and punctuation do not make a
/// statement new.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

pub fn max_chars(c: &consultation::Model) -> usize {
    usize::try_from(c.statement_max_chars.clamp(1, 1000)).unwrap_or(200)
}

/// Checks the text against the consultation's limit; returns it cleaned.
fn validate_text(c: &consultation::Model, raw: &str) -> Result<String, AppError> {
    let text = clean_text(raw, max_chars(c)).map_err(|k| AppError::field("body", k))?;
    if text.is_empty() {
        return Err(AppError::field("body", "required"));
    }
    // Statements are one line; line breaks become spaces.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if normalize(&text).is_empty() {
        return Err(AppError::field("body", "statement_no_words"));
    }
    Ok(text)
}

/// The consultation behind `slug` if it is visible and runs a conversation.
pub async fn conversation(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    let c = consultations::get_visible(db, viewer, slug).await?;
    if c.has_conversation {
        Ok(c)
    } else {
        Err(AppError::NotFound)
    }
}

async fn duplicate_exists(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    normalized: &str,
) -> Result<bool, AppError> {
    Ok(statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .filter(statement::Column::Normalized.eq(normalized))
        .count(db)
        .await?
        > 0)
}

/// Next per-consultation number. Callers run inside a transaction and retry
/// on a unique-index conflict (two statements added at the same moment).
async fn next_number(db: &impl ConnectionTrait, consultation_id: i64) -> Result<i64, AppError> {
    let max: Option<i64> = statement::Entity::find()
        .select_only()
        .column_as(statement::Column::Number.max(), "max")
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(max.map_or(0, |m| m + 1))
}

struct NewStatement {
    consultation_id: i64,
    participant_id: Option<i64>,
    created_by: Option<i64>,
    body: String,
    status: StatementStatus,
    is_seed: bool,
}

async fn insert(
    db: &DatabaseConnection,
    new: NewStatement,
    actor: Option<i64>,
) -> Result<statement::Model, AppError> {
    let normalized = normalize(&new.body);
    let mut last_err = None;
    for _ in 0..5 {
        let txn = super::begin_write(db).await?;
        if duplicate_exists(&txn, new.consultation_id, &normalized).await? {
            return Err(AppError::field("body", "statement_duplicate"));
        }
        let number = next_number(&txn, new.consultation_id).await?;
        let result = statement::ActiveModel {
            consultation_id: Set(new.consultation_id),
            number: Set(number),
            participant_id: Set(new.participant_id),
            created_by: Set(new.created_by),
            body: Set(new.body.clone()),
            normalized: Set(normalized.clone()),
            status: Set(new.status),
            is_meta: Set(false),
            is_seed: Set(new.is_seed),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match result {
            Ok(model) => {
                audit::record(
                    &txn,
                    actor,
                    "statement.created",
                    "statement",
                    Some(model.id),
                    model.status.as_str(),
                )
                .await?;
                txn.commit().await?;
                return Ok(model);
            }
            // Another statement took the number: try the next one.
            Err(e) => {
                let _ = txn.rollback().await;
                last_err = Some(e);
            }
        }
    }
    Err(last_err.map_or_else(
        || AppError::Unexpected(anyhow::anyhow!("statement insert failed")),
        AppError::from,
    ))
}

/// May `viewer` write a statement in `c`'s conversation? Same rule as voting;
/// the statement form is shown exactly when this is `Ok` (flooding limits are
/// checked when one is sent).
pub fn may_write(viewer: Option<&CurrentUser>, c: &consultation::Model) -> Result<(), Refusal> {
    eligibility::may_join_conversation(c, viewer)
}

/// A participant writes a statement. Pre-moderation: it waits in the queue;
/// post-moderation: it is shown at once and can be rejected later.
pub async fn add(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
    raw: &str,
) -> Result<statement::Model, AppError> {
    may_write(visitor.user.as_ref(), c)?;
    let body = validate_text(c, raw)?;
    let participant = participants::find_or_create(db, c, visitor).await?;
    let since = now() - chrono::Duration::minutes(RATE_LIMIT_WINDOW_MINUTES);
    let recent = statement::Entity::find()
        .filter(statement::Column::ParticipantId.eq(participant.id))
        .filter(statement::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    if recent >= RATE_LIMIT_COUNT {
        return Err(AppError::field("body", "statement_rate_limited"));
    }
    // Personal data other than a CPR number (masked already) waits for a
    // moderator, whatever the consultation's moderation mode.
    let pre = c.moderation_mode == ModerationMode::Pre
        || crate::domain::personal_data::needs_review(&body);
    let stored = insert(
        db,
        NewStatement {
            consultation_id: c.id,
            participant_id: Some(participant.id),
            created_by: visitor.user.as_ref().map(|u| u.id),
            body,
            status: if pre {
                StatementStatus::Pending
            } else {
                StatementStatus::Accepted
            },
            is_seed: false,
        },
        visitor.user.as_ref().map(|u| u.id),
    )
    .await?;
    crate::metrics::statement_written();
    Ok(stored)
}

/// Staff add a seed statement (accepted at once), before or during the consultation.
pub async fn add_seed(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    raw: &str,
) -> Result<statement::Model, AppError> {
    let c = consultations::get_for_staff(db, actor, slug).await?;
    if !matches!(c.status, Status::Draft | Status::Open) {
        return Err(AppError::Forbidden(Refusal::ConsultationNotOpen));
    }
    let body = validate_text(&c, raw)?;
    insert(
        db,
        NewStatement {
            consultation_id: c.id,
            participant_id: None,
            created_by: Some(actor.id),
            body,
            status: StatementStatus::Accepted,
            is_seed: true,
        },
        Some(actor.id),
    )
    .await
}

/// Accept, reject (a reason is required) or (un)mark as meta.
pub async fn moderate(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    statement_id: i64,
    action: ModerationAction,
    reason: &str,
) -> Result<statement::Model, AppError> {
    let c = consultations::get_for_staff(db, actor, slug).await?;
    let reason = clean_text(reason, REASON_MAX).map_err(|k| AppError::field("reason", k))?;
    if action == ModerationAction::Reject && reason.is_empty() {
        return Err(AppError::field("reason", "reason_required"));
    }
    let txn = super::begin_write(db).await?;
    let s = statement::Entity::find_by_id(statement_id)
        .filter(statement::Column::ConsultationId.eq(c.id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let id = s.id;
    let status_before = s.status;
    let mut active = s.into_active_model();
    let (name, detail) = match action {
        ModerationAction::Accept => {
            active.status = Set(StatementStatus::Accepted);
            active.moderation_reason = Set((!reason.is_empty()).then(|| reason.clone()));
            ("statement.accepted", reason.clone())
        }
        ModerationAction::Reject => {
            active.status = Set(StatementStatus::Rejected);
            active.moderation_reason = Set(Some(reason.clone()));
            ("statement.rejected", reason.clone())
        }
        ModerationAction::MarkMeta => {
            active.is_meta = Set(true);
            ("statement.meta", String::new())
        }
        ModerationAction::UnmarkMeta => {
            active.is_meta = Set(false);
            ("statement.not_meta", String::new())
        }
    };
    active.moderated_by = Set(Some(actor.id));
    active.moderated_at = Set(Some(now()));
    let updated = active.update(&txn).await?;
    audit::record(&txn, Some(actor.id), name, "statement", Some(id), &detail).await?;
    // The moderation log is where moderators' decisions on all content are kept.
    super::moderation::record(&txn, Some(actor.id), "statement", id, name, &reason).await?;
    // The author hears the decision (and the reason) by mail, queued with it.
    let decided = matches!(action, ModerationAction::Accept | ModerationAction::Reject)
        && status_before != updated.status;
    if let (true, Some(author)) = (decided, updated.created_by)
        && author != actor.id
    {
        let data = serde_json::json!({
            "slug": c.slug,
            "title": c.title,
            "body": updated.body,
            "accepted": action == ModerationAction::Accept,
            "reason": reason,
        });
        super::mail::enqueue(&txn, author, super::mail::KIND_STATEMENT, &data).await?;
        super::notifications::statement_moderated(
            &txn,
            author,
            id,
            &c.slug,
            action == ModerationAction::Accept,
            &reason,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Statements shown to participants (accepted), by number.
pub async fn list_accepted(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Vec<statement::Model>, AppError> {
    Ok(statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .filter(statement::Column::Status.eq(StatementStatus::Accepted))
        // A duplicate keeps its votes but is no longer offered.
        .filter(statement::Column::DuplicateOf.is_null())
        .order_by_asc(statement::Column::Number)
        .all(db)
        .await?)
}

/// Every statement of the consultation, by number.
pub async fn list_all(
    db: &impl ConnectionTrait,
    consultation_id: i64,
) -> Result<Vec<statement::Model>, AppError> {
    Ok(statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .order_by_asc(statement::Column::Number)
        .all(db)
        .await?)
}

/// Staff's moderation view: the queue first, then the rest.
pub async fn list_for_moderation(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
) -> Result<(consultation::Model, Vec<statement::Model>), AppError> {
    let c = consultations::get_for_staff(db, actor, slug).await?;
    let mut all = list_all(db, c.id).await?;
    all.sort_by_key(|s| (s.status != StatementStatus::Pending, s.number));
    Ok((c, all))
}

/// What a participant wrote, with the moderation outcome.
pub async fn list_by_participant(
    db: &DatabaseConnection,
    participant_id: i64,
) -> Result<Vec<statement::Model>, AppError> {
    Ok(statement::Entity::find()
        .filter(statement::Column::ParticipantId.eq(participant_id))
        .order_by_desc(statement::Column::Id)
        .all(db)
        .await?)
}

/// Current agree / disagree / pass counts of the statements `statement_ids`
/// (by statement id; absent: no votes). It reads every vote of those
/// statements, through the (statement, participant) index: fine for a few
/// statements in moderation, not for a whole big conversation, whose counts
/// come from its snapshot (see `routes::api_deliberation`).
pub async fn vote_counts(
    db: &impl ConnectionTrait,
    statement_ids: &[i64],
) -> Result<std::collections::HashMap<i64, (u32, u32, u32)>, AppError> {
    if statement_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, i16, i64)> = crate::entities::vote::Entity::find()
        .select_only()
        .column(crate::entities::vote::Column::StatementId)
        .column(crate::entities::vote::Column::Value)
        .column_as(crate::entities::vote::Column::Id.count(), "n")
        .filter(crate::entities::vote::Column::StatementId.is_in(statement_ids.iter().copied()))
        .group_by(crate::entities::vote::Column::StatementId)
        .group_by(crate::entities::vote::Column::Value)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: std::collections::HashMap<i64, (u32, u32, u32)> = Default::default();
    for (statement_id, value, n) in rows {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let entry = out.entry(statement_id).or_default();
        match value {
            1 => entry.0 = n,
            -1 => entry.1 = n,
            _ => entry.2 = n,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_whitespace_and_punctuation() {
        assert_eq!(
            normalize("  Flere  CYKELSTIER, tak!! "),
            normalize("flere cykelstier tak")
        );
        assert_eq!(normalize("Æbler og Ørred."), "æbler og ørred");
        assert_ne!(normalize("flere cykelstier"), normalize("færre cykelstier"));
        assert_eq!(normalize("?!…"), "");
    }

    #[test]
    fn moderation_actions_parse() {
        assert_eq!(
            ModerationAction::parse("reject"),
            Some(ModerationAction::Reject)
        );
        assert_eq!(ModerationAction::parse("delete"), None);
    }
}
