//! The staff workbench: one moderation queue across consultations (pending
//! statements, ideas waiting for moderation, hidden comments not yet
//! decided), decisions on one or many items with one reason, the staff
//! landing page's overview and the moderation log.
//!
//! Adding a kind of item (complaints, say) means: a variant of [`ItemKind`],
//! its loader in [`queue`] and [`count`], and its conditional update in
//! [`decide_one`]. Every decision is a conditional update on the state the
//! item had in the queue, so an item someone else decided meanwhile is
//! refused instead of overwritten.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::auth::session::CurrentUser;
use crate::domain::{CommentStatus, IdeaStatus, StatementStatus};
use crate::entities::{comment, consultation, idea, moderation_action, statement, user};
use crate::errors::AppError;

use super::consultations::require_staff;
use super::{audit, clean_text, ideas, mail, moderation, notifications, now, statements};

pub const REASON_MAX: usize = 500;
/// The log page shows this many decisions; the CSV has them all.
pub const LOG_PAGE_MAX: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Statement,
    Idea,
    Comment,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [ItemKind::Statement, ItemKind::Idea, ItemKind::Comment];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Statement => "statement",
            ItemKind::Idea => "idea",
            ItemKind::Comment => "comment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One item of the queue, named in forms as `kind-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemRef {
    pub kind: ItemKind,
    pub id: i64,
}

impl ItemRef {
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once('-')?;
        Some(ItemRef {
            kind: ItemKind::parse(kind)?,
            id: id.parse().ok().filter(|n| *n > 0)?,
        })
    }

    pub fn key(self) -> String {
        format!("{}-{}", self.kind.as_str(), self.id)
    }
}

/// Which part of the queue to show.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub consultation: Option<String>,
    pub kind: Option<ItemKind>,
    /// Only items waiting at least this many days.
    pub min_age_days: Option<i64>,
}

/// What the queue shows about an item.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub item: String,
    pub kind: ItemKind,
    pub id: i64,
    pub consultation_slug: String,
    pub consultation_title: String,
    /// A title (ideas) above the text.
    pub title: Option<String>,
    pub text: String,
    /// The author as the public sees them: a participant number in a
    /// conversation, the display name on ideas and comments.
    pub author: Option<String>,
    pub participant: Option<i64>,
    /// Votes so far: agree / disagree / pass for statements, supports for
    /// ideas, flags for comments.
    pub agree: u32,
    pub disagree: u32,
    pub pass: u32,
    pub supports: i32,
    pub flags: i32,
    /// The idea a comment belongs to.
    pub idea_id: Option<i64>,
    pub waiting_since: DateTime<Utc>,
}

fn cutoff(filter: &QueueFilter, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    filter
        .min_age_days
        .filter(|d| *d > 0)
        .map(|d| now - chrono::Duration::days(d))
}

async fn consultations_by_id(
    db: &DatabaseConnection,
) -> Result<HashMap<i64, consultation::Model>, AppError> {
    Ok(consultation::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The queue, oldest first. `now` decides the age filter.
pub async fn queue(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    filter: &QueueFilter,
    now: DateTime<Utc>,
) -> Result<Vec<QueueItem>, AppError> {
    require_staff(actor)?;
    let consultations = consultations_by_id(db).await?;
    let only = match &filter.consultation {
        Some(slug) => Some(
            consultations
                .values()
                .find(|c| &c.slug == slug)
                .map(|c| c.id)
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let before = cutoff(filter, now);
    let wants = |k: ItemKind| filter.kind.is_none_or(|f| f == k);
    let mut items = Vec::new();

    if wants(ItemKind::Statement) {
        let mut q = statement::Entity::find()
            .filter(statement::Column::Status.eq(StatementStatus::Pending));
        if let Some(id) = only {
            q = q.filter(statement::Column::ConsultationId.eq(id));
        }
        if let Some(t) = before {
            q = q.filter(statement::Column::CreatedAt.lte(t));
        }
        let found = q.all(db).await?;
        let ids: Vec<i64> = found.iter().map(|s| s.id).collect();
        let votes = statements::vote_counts(db, &ids).await?;
        for s in found {
            let Some(c) = consultations.get(&s.consultation_id) else {
                continue;
            };
            let (agree, disagree, pass) = votes.get(&s.id).copied().unwrap_or_default();
            items.push(QueueItem {
                item: ItemRef {
                    kind: ItemKind::Statement,
                    id: s.id,
                }
                .key(),
                kind: ItemKind::Statement,
                id: s.id,
                consultation_slug: c.slug.clone(),
                consultation_title: c.title.clone(),
                title: None,
                text: s.body,
                author: None,
                participant: s.participant_id,
                agree,
                disagree,
                pass,
                supports: 0,
                flags: 0,
                idea_id: None,
                waiting_since: s.created_at,
            });
        }
    }

    let mut idea_rows = Vec::new();
    if wants(ItemKind::Idea) {
        let mut q = idea::Entity::find().filter(idea::Column::Status.eq(IdeaStatus::Submitted));
        if let Some(id) = only {
            q = q.filter(idea::Column::ConsultationId.eq(id));
        }
        if let Some(t) = before {
            q = q.filter(idea::Column::UpdatedAt.lte(t));
        }
        idea_rows = q.all(db).await?;
    }
    let mut comment_rows = Vec::new();
    let mut comment_ideas: HashMap<i64, idea::Model> = HashMap::new();
    if wants(ItemKind::Comment) {
        let mut q = comment::Entity::find()
            .filter(comment::Column::Status.eq(CommentStatus::Hidden))
            .filter(comment::Column::Moderated.eq(false));
        if let Some(t) = before {
            q = q.filter(comment::Column::CreatedAt.lte(t));
        }
        comment_rows = q.all(db).await?;
        let idea_ids: Vec<i64> = comment_rows.iter().map(|c| c.idea_id).collect();
        if !idea_ids.is_empty() {
            comment_ideas = idea::Entity::find()
                .filter(idea::Column::Id.is_in(idea_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|i| (i.id, i))
                .collect();
        }
        if let Some(id) = only {
            comment_rows.retain(|cm| {
                comment_ideas
                    .get(&cm.idea_id)
                    .is_some_and(|i| i.consultation_id == id)
            });
        }
    }
    let names = ideas::display_names(
        db,
        idea_rows
            .iter()
            .filter_map(|i| i.author_id)
            .chain(comment_rows.iter().filter_map(|c| c.author_id)),
    )
    .await?;
    for i in idea_rows {
        let Some(c) = consultations.get(&i.consultation_id) else {
            continue;
        };
        items.push(QueueItem {
            item: ItemRef {
                kind: ItemKind::Idea,
                id: i.id,
            }
            .key(),
            kind: ItemKind::Idea,
            id: i.id,
            consultation_slug: c.slug.clone(),
            consultation_title: c.title.clone(),
            title: Some(i.title),
            text: i.body,
            author: i.author_id.and_then(|a| names.get(&a).cloned()),
            participant: None,
            agree: 0,
            disagree: 0,
            pass: 0,
            supports: i.support_count,
            flags: 0,
            idea_id: Some(i.id),
            waiting_since: i.updated_at,
        });
    }
    for cm in comment_rows {
        let Some(c) = comment_ideas
            .get(&cm.idea_id)
            .and_then(|i| consultations.get(&i.consultation_id))
        else {
            continue;
        };
        items.push(QueueItem {
            item: ItemRef {
                kind: ItemKind::Comment,
                id: cm.id,
            }
            .key(),
            kind: ItemKind::Comment,
            id: cm.id,
            consultation_slug: c.slug.clone(),
            consultation_title: c.title.clone(),
            title: None,
            text: cm.body,
            author: cm.author_id.and_then(|a| names.get(&a).cloned()),
            participant: None,
            agree: 0,
            disagree: 0,
            pass: 0,
            supports: 0,
            flags: cm.flag_count,
            idea_id: Some(cm.idea_id),
            waiting_since: cm.created_at,
        });
    }
    items.sort_by_key(|a| (a.waiting_since, a.kind, a.id));
    Ok(items)
}

/// How many items wait, for the staff navigation.
pub async fn count(db: &DatabaseConnection, actor: &CurrentUser) -> Result<u64, AppError> {
    require_staff(actor)?;
    let statements = statement::Entity::find()
        .filter(statement::Column::Status.eq(StatementStatus::Pending))
        .count(db)
        .await?;
    let ideas = idea::Entity::find()
        .filter(idea::Column::Status.eq(IdeaStatus::Submitted))
        .count(db)
        .await?;
    let comments = comment::Entity::find()
        .filter(comment::Column::Status.eq(CommentStatus::Hidden))
        .filter(comment::Column::Moderated.eq(false))
        .count(db)
        .await?;
    let complaints = complaints_waiting(db, actor).await?;
    Ok(statements + ideas + comments + complaints)
}

/// Complaints not answered yet (issue 14's `/staff/complaints` handles them;
/// the queue shows their count and links there).
pub async fn complaints_waiting(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<u64, AppError> {
    require_staff(actor)?;
    use crate::entities::complaint;
    Ok(complaint::Entity::find()
        .filter(complaint::Column::Status.ne(super::complaints::ANSWERED))
        .count(db)
        .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Verdict::Approve),
            "reject" => Some(Verdict::Reject),
            _ => None,
        }
    }
}

/// The reason of a decision: typed text wins over a chosen template; the
/// template must be one of the configured ones. Rejecting needs a reason.
pub fn reason(
    verdict: Verdict,
    template: &str,
    typed: &str,
    templates: &[String],
) -> Result<String, AppError> {
    let typed = clean_text(typed, REASON_MAX).map_err(|k| AppError::field("reason", k))?;
    let chosen = if !typed.is_empty() {
        typed
    } else if template.trim().is_empty() {
        String::new()
    } else {
        templates
            .iter()
            .find(|t| t.as_str() == template.trim())
            .cloned()
            .ok_or(AppError::field("reason_template", "invalid_choice"))?
    };
    if verdict == Verdict::Reject && chosen.is_empty() {
        return Err(AppError::field("reason", "reason_required"));
    }
    Ok(chosen)
}

/// Decide `items` with one verdict and one reason, all or nothing: if any
/// item was decided by someone else meanwhile, nothing is changed and the
/// decision is refused.
pub async fn decide(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    items: &[ItemRef],
    verdict: Verdict,
    reason: &str,
) -> Result<usize, AppError> {
    require_staff(actor)?;
    if items.is_empty() {
        return Err(AppError::BadRequest("workbench.errors.nothing_selected"));
    }
    let mut unique = items.to_vec();
    unique.sort_by_key(|i| (i.kind, i.id));
    unique.dedup();
    let txn = super::begin_write(db).await?;
    for item in &unique {
        if !decide_one(&txn, actor, *item, verdict, reason).await? {
            // Dropping the transaction rolls back what was decided so far.
            txn.rollback().await?;
            return Err(AppError::Conflict("workbench.errors.already_decided"));
        }
    }
    txn.commit().await?;
    Ok(unique.len())
}

/// One decision inside the caller's transaction. `false` when the item is
/// no longer waiting (decided by someone else, or gone).
async fn decide_one<C: ConnectionTrait>(
    txn: &C,
    actor: &CurrentUser,
    item: ItemRef,
    verdict: Verdict,
    reason: &str,
) -> Result<bool, AppError> {
    let at = now();
    let approve = verdict == Verdict::Approve;
    match item.kind {
        ItemKind::Statement => {
            let Some(s) = statement::Entity::find_by_id(item.id).one(txn).await? else {
                return Ok(false);
            };
            let to = if approve {
                StatementStatus::Accepted
            } else {
                StatementStatus::Rejected
            };
            let res = statement::Entity::update_many()
                .col_expr(statement::Column::Status, Expr::value(to))
                .col_expr(
                    statement::Column::ModerationReason,
                    Expr::value((!reason.is_empty()).then(|| reason.to_owned())),
                )
                .col_expr(statement::Column::ModeratedBy, Expr::value(Some(actor.id)))
                .col_expr(statement::Column::ModeratedAt, Expr::value(Some(at)))
                .filter(statement::Column::Id.eq(item.id))
                .filter(statement::Column::Status.eq(StatementStatus::Pending))
                .exec(txn)
                .await?;
            if res.rows_affected == 0 {
                return Ok(false);
            }
            let name = if approve {
                "statement.accepted"
            } else {
                "statement.rejected"
            };
            audit::record(txn, Some(actor.id), name, "statement", Some(s.id), reason).await?;
            moderation::record(txn, Some(actor.id), "statement", s.id, name, reason).await?;
            if let Some(author) = s.created_by.filter(|a| *a != actor.id) {
                let c = consultation::Entity::find_by_id(s.consultation_id)
                    .one(txn)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let data = serde_json::json!({
                    "slug": c.slug,
                    "title": c.title,
                    "body": s.body,
                    "accepted": approve,
                    "reason": reason,
                });
                mail::enqueue(txn, author, mail::KIND_STATEMENT, &data).await?;
            }
        }
        ItemKind::Idea => {
            let Some(found) = idea::Entity::find_by_id(item.id).one(txn).await? else {
                return Ok(false);
            };
            let to = if approve {
                IdeaStatus::Published
            } else {
                IdeaStatus::Rejected
            };
            let mut update = idea::Entity::update_many()
                .col_expr(idea::Column::Status, Expr::value(to))
                .col_expr(idea::Column::UpdatedAt, Expr::value(at));
            if approve && found.published_at.is_none() {
                update = update.col_expr(idea::Column::PublishedAt, Expr::value(Some(at)));
            }
            let res = update
                .filter(idea::Column::Id.eq(item.id))
                .filter(idea::Column::Status.eq(IdeaStatus::Submitted))
                .exec(txn)
                .await?;
            if res.rows_affected == 0 {
                return Ok(false);
            }
            ideas::record_status(
                txn,
                found.id,
                Some(IdeaStatus::Submitted),
                to,
                Some(actor.id),
                reason,
            )
            .await?;
            notifications::idea_status_changed(txn, &found, to.as_str(), Some(actor.id)).await?;
            audit::record(
                txn,
                Some(actor.id),
                "idea.status_changed",
                "idea",
                Some(found.id),
                &format!("{} -> {}", IdeaStatus::Submitted.as_str(), to.as_str()),
            )
            .await?;
            let action = if approve { "publish" } else { "reject" };
            moderation::record(txn, Some(actor.id), "idea", found.id, action, reason).await?;
        }
        ItemKind::Comment => {
            let mut update = comment::Entity::update_many()
                .col_expr(comment::Column::Moderated, Expr::value(true));
            if approve {
                update = update.col_expr(
                    comment::Column::Status,
                    Expr::value(CommentStatus::Visible.as_str()),
                );
            }
            let res = update
                .filter(comment::Column::Id.eq(item.id))
                .filter(comment::Column::Status.eq(CommentStatus::Hidden))
                .filter(comment::Column::Moderated.eq(false))
                .exec(txn)
                .await?;
            if res.rows_affected == 0 {
                return Ok(false);
            }
            let action = if approve { "restore" } else { "hide" };
            moderation::record(txn, Some(actor.id), "comment", item.id, action, reason).await?;
        }
    }
    Ok(true)
}

/// A consultation on the staff landing page.
#[derive(Debug, Clone, Serialize)]
pub struct MyConsultation {
    pub slug: String,
    pub title: String,
    pub status: String,
    pub closes_at: Option<DateTime<Utc>>,
    pub waiting: usize,
    pub has_conversation: bool,
}

/// The staff landing page: the consultations I created (open ones by
/// deadline first), what waits in the queue per consultation, and ideas
/// waiting for the council's answer.
pub struct Overview {
    pub mine: Vec<MyConsultation>,
    pub waiting_total: usize,
    pub waiting_by_consultation: BTreeMap<String, (String, usize)>,
    pub awaiting_answer: u64,
}

pub async fn overview(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Overview, AppError> {
    let all = queue(db, actor, &QueueFilter::default(), now).await?;
    let mut by: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for i in &all {
        by.entry(i.consultation_slug.clone())
            .or_insert_with(|| (i.consultation_title.clone(), 0))
            .1 += 1;
    }
    let mut mine: Vec<MyConsultation> = consultation::Entity::find()
        .filter(consultation::Column::CreatedBy.eq(actor.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| MyConsultation {
            waiting: by.get(&c.slug).map_or(0, |w| w.1),
            status: c.status.as_str().to_owned(),
            has_conversation: c.has_conversation,
            slug: c.slug,
            title: c.title,
            closes_at: c.closes_at,
        })
        .collect();
    // Running consultations with the nearest deadline first, then the rest.
    mine.sort_by_key(|c| {
        (
            c.closes_at.is_none_or(|t| t < now),
            c.closes_at,
            c.slug.clone(),
        )
    });
    let awaiting_answer = idea::Entity::find()
        .filter(idea::Column::Status.eq(IdeaStatus::AwaitingAnswer))
        .count(db)
        .await?;
    Ok(Overview {
        mine,
        waiting_total: all.len(),
        waiting_by_consultation: by,
        awaiting_answer,
    })
}

/// One line of the moderation log.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who decided; None when the system did (a comment hidden after flags).
    pub actor: Option<String>,
    pub subject_type: String,
    pub subject_id: i64,
    pub action: String,
    pub reason: String,
    /// How the item's author took part (`online`, `assisted`, `paper`);
    /// None for staff's own items and items whose author is gone.
    pub channel: Option<String>,
}

/// An item whose channel is looked up: kind, id, its participant (a
/// statement) or its consultation and author (an idea or comment).
type Wanted = (String, i64, Option<i64>, Option<(i64, i64)>);

/// The channel of each decided item's author, by (kind, id): a statement's
/// participant, or the participant row of an idea's or comment's author in
/// the consultation.
async fn channels(
    db: &DatabaseConnection,
    rows: &[moderation_action::Model],
) -> Result<HashMap<(String, i64), String>, AppError> {
    use crate::entities::participant;
    let ids = |kind: &str| -> Vec<i64> {
        rows.iter()
            .filter(|r| r.subject_type == kind)
            .map(|r| r.subject_id)
            .collect()
    };
    let mut out = HashMap::new();
    // (kind, id, participant filter): statements name their participant;
    // ideas and comments their author and (through the idea) consultation.
    let mut wanted: Vec<Wanted> = Vec::new();
    let statement_ids = ids("statement");
    if !statement_ids.is_empty() {
        for s in statement::Entity::find()
            .filter(statement::Column::Id.is_in(statement_ids))
            .all(db)
            .await?
        {
            wanted.push(("statement".into(), s.id, s.participant_id, None));
        }
    }
    let idea_ids = ids("idea");
    let comment_ids = ids("comment");
    let comments = if comment_ids.is_empty() {
        Vec::new()
    } else {
        comment::Entity::find()
            .filter(comment::Column::Id.is_in(comment_ids))
            .all(db)
            .await?
    };
    let mut all_ideas = idea_ids.clone();
    all_ideas.extend(comments.iter().map(|c| c.idea_id));
    let ideas_by_id: HashMap<i64, idea::Model> = if all_ideas.is_empty() {
        HashMap::new()
    } else {
        idea::Entity::find()
            .filter(idea::Column::Id.is_in(all_ideas))
            .all(db)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect()
    };
    for id in idea_ids {
        if let Some(i) = ideas_by_id.get(&id)
            && let Some(author) = i.author_id
        {
            wanted.push(("idea".into(), id, None, Some((i.consultation_id, author))));
        }
    }
    for c in &comments {
        if let (Some(i), Some(author)) = (ideas_by_id.get(&c.idea_id), c.author_id) {
            wanted.push((
                "comment".into(),
                c.id,
                None,
                Some((i.consultation_id, author)),
            ));
        }
    }
    for (kind, id, participant_id, author) in wanted {
        let q = participant::Entity::find();
        let found = match (participant_id, author) {
            (Some(pid), _) => q.filter(participant::Column::Id.eq(pid)).one(db).await?,
            (None, Some((cid, uid))) => {
                q.filter(participant::Column::ConsultationId.eq(cid))
                    .filter(participant::Column::UserId.eq(uid))
                    .one(db)
                    .await?
            }
            _ => None,
        };
        // An author of an idea or comment with no participant row took part online.
        let channel = match (found, author) {
            (Some(p), _) => Some(p.channel.as_str().to_owned()),
            (None, Some(_)) => Some("online".to_owned()),
            (None, None) => None,
        };
        if let Some(channel) = channel {
            out.insert((kind, id), channel);
        }
    }
    Ok(out)
}

async fn log_entries(
    db: &DatabaseConnection,
    subject: Option<ItemRef>,
    limit: Option<u64>,
) -> Result<Vec<LogEntry>, AppError> {
    let mut q = moderation_action::Entity::find()
        .order_by_desc(moderation_action::Column::CreatedAt)
        .order_by_desc(moderation_action::Column::Id);
    if let Some(s) = subject {
        q = q
            .filter(moderation_action::Column::SubjectType.eq(s.kind.as_str()))
            .filter(moderation_action::Column::SubjectId.eq(s.id));
    }
    if let Some(n) = limit {
        q = q.limit(n);
    }
    let rows = q.all(db).await?;
    let actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
    let names: HashMap<i64, String> = if actor_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::DisplayName)
            .filter(user::Column::Id.is_in(actor_ids))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let channels = channels(db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|r| LogEntry {
            channel: channels
                .get(&(r.subject_type.clone(), r.subject_id))
                .cloned(),
            id: r.id,
            at: r.created_at,
            actor: r.actor_id.and_then(|a| names.get(&a).cloned()),
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            action: r.action,
            reason: r.reason,
        })
        .collect())
}

/// The latest decisions (staff only); `limit` None gives all of them.
pub async fn log(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    limit: Option<u64>,
) -> Result<Vec<LogEntry>, AppError> {
    require_staff(actor)?;
    log_entries(db, None, limit).await
}

/// Who decided what about one item, and when (staff only), oldest first.
pub async fn history(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    item: ItemRef,
) -> Result<Vec<LogEntry>, AppError> {
    require_staff(actor)?;
    let mut entries = log_entries(db, Some(item), None).await?;
    entries.reverse();
    Ok(entries)
}

/// The moderation log as CSV (staff only), through the open-data CSV writer
/// so a cell cannot become a spreadsheet formula.
pub fn log_csv(entries: &[LogEntry]) -> Result<Vec<u8>, AppError> {
    use crate::open_csv::{Cell, CsvWriter};
    let csv_error = |e: crate::open_csv::CsvError| AppError::Unexpected(anyhow::anyhow!("{e:?}"));
    let mut w = CsvWriter::new();
    w.row(
        [
            "id",
            "time",
            "moderator",
            "item_kind",
            "item_id",
            "action",
            "reason",
            "channel",
        ]
        .map(Cell::name),
    )
    .map_err(csv_error)?;
    for e in entries {
        w.row([
            Cell::int(e.id),
            Cell::owned_text(e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            e.actor.as_deref().map_or(Cell::empty(), Cell::text),
            Cell::text(&e.subject_type),
            Cell::int(e.subject_id),
            Cell::text(&e.action),
            Cell::text(&e.reason),
            e.channel.as_deref().map_or(Cell::empty(), Cell::text),
        ])
        .map_err(csv_error)?;
    }
    w.finish().map_err(csv_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_refs_parse_and_print() {
        let r = ItemRef::parse("statement-12").unwrap();
        assert_eq!(r.kind, ItemKind::Statement);
        assert_eq!(r.id, 12);
        assert_eq!(r.key(), "statement-12");
        assert_eq!(ItemRef::parse("idea-0"), None);
        assert_eq!(ItemRef::parse("complaint-3"), None);
        assert_eq!(ItemRef::parse("comment-x"), None);
    }

    #[test]
    fn typed_reasons_win_and_templates_must_be_known() {
        let templates = vec!["Handler ikke om emnet.".to_string()];
        assert_eq!(
            reason(Verdict::Reject, "Handler ikke om emnet.", "", &templates).unwrap(),
            "Handler ikke om emnet."
        );
        assert_eq!(
            reason(
                Verdict::Reject,
                "Handler ikke om emnet.",
                " Egen grund ",
                &templates
            )
            .unwrap(),
            "Egen grund"
        );
        assert!(reason(Verdict::Reject, "Noget andet", "", &templates).is_err());
        assert!(reason(Verdict::Reject, "", "", &templates).is_err());
        assert_eq!(reason(Verdict::Approve, "", "", &templates).unwrap(), "");
    }
}
