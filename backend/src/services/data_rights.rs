//! A citizen's rights over their data (GDPR art. 15, 17 and 20): everything
//! stored about a person as one export, and deletion of the account.
//!
//! Deletion keeps the row of `users` as a tombstone named "Slettet bruger"
//! without any personal datum: ideas, comments and statements keep an author
//! to point to (the public record stays readable), while email, name,
//! password hash, identity, preferences, tokens, notifications, queued mails,
//! follows and sessions are erased. Votes are unlinked from the account
//! (`participants.user_id` is cleared), so they stay as votes of a pseudonym
//! nobody can trace back and published vote counts do not change.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use crate::auth::session::CurrentUser;
use crate::domain::Role;
use crate::domain::comment::CommentStatus;
use crate::domain::idea::IdeaStatus;
use crate::entities::{
    audit_log, comment, comment_flag, complaint, consultation, consultation_follow, email_token,
    idea, idea_follow, idea_support, mail_outbox, moderation_action, notification, participant,
    statement, user, vote,
};
use crate::errors::AppError;
use crate::services::{audit, now, sessions};

/// The name deleted accounts are shown with next to the texts they leave.
pub const DELETED_NAME: &str = "Slettet bruger";

/// Everything stored about one person, as given to them (JSON and HTML).
/// The OpenID subject is never included, only the fact of an identity and
/// its attributes; the password only as "has a password".
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataExport)]
pub struct Export {
    pub generated_at: DateTime<Utc>,
    pub account: Account,
    pub identity: Option<Identity>,
    pub preferences: Preferences,
    pub ideas: Vec<Idea>,
    pub comments: Vec<Comment>,
    pub statements: Vec<Statement>,
    pub supports: Vec<Support>,
    pub votes: Vec<Vote>,
    pub comment_flags: Vec<Flag>,
    pub followed_consultations: Vec<String>,
    pub followed_ideas: Vec<i64>,
    pub notifications: Vec<Notification>,
    pub mails: Vec<Mail>,
    pub audit: Vec<AuditEntry>,
    /// Moderation decisions about my contributions, with the reason given.
    pub decisions: Vec<Decision>,
    pub complaints: Vec<Complaint>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataDecision)]
pub struct Decision {
    pub id: i64,
    pub subject_type: String,
    pub subject_id: i64,
    pub action: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataComplaint)]
pub struct Complaint {
    pub id: i64,
    pub decision_id: Option<i64>,
    pub body: String,
    pub status: String,
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataAccount)]
pub struct Account {
    pub id: i64,
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub has_password: bool,
    pub role: String,
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataIdentity)]
pub struct Identity {
    pub provider: Option<String>,
    pub level_of_assurance: Option<String>,
    pub birth_year: Option<i32>,
    pub municipality_code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataPreferences)]
pub struct Preferences {
    pub mail_notifications: bool,
    pub mail_locale: Option<String>,
    pub mail_idea_updates: bool,
    pub mail_statements: bool,
    pub mail_consultations: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataIdea)]
pub struct Idea {
    pub id: i64,
    pub consultation: String,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub place: Option<String>,
    pub status: String,
    pub support_count: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataComment)]
pub struct Comment {
    pub id: i64,
    pub idea_id: i64,
    pub parent_id: Option<i64>,
    pub body: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataStatement)]
pub struct Statement {
    pub id: i64,
    pub consultation: String,
    pub number: i64,
    pub body: String,
    pub status: String,
    pub moderation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataSupport)]
pub struct Support {
    pub idea_id: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataVote)]
pub struct Vote {
    pub consultation: String,
    pub statement_id: i64,
    /// 1 agree, -1 disagree, 0 pass.
    pub value: i16,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataFlag)]
pub struct Flag {
    pub comment_id: i64,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataNotification)]
pub struct Notification {
    pub kind: String,
    pub subject_type: String,
    pub subject_id: i64,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataMail)]
pub struct Mail {
    pub kind: String,
    /// As sent; `None` for a mail not (yet) sent.
    pub subject: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataAuditEntry)]
pub struct AuditEntry {
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    /// Whether the person did it themselves (otherwise staff did it to them).
    pub by_self: bool,
    pub created_at: DateTime<Utc>,
}

/// Who may export or delete the data of `subject_id`: the person themselves,
/// or an administrator acting on a request made in person or by letter.
pub fn may_handle_data_of(actor: &CurrentUser, subject_id: i64) -> bool {
    actor.id == subject_id || actor.role == Role::Admin
}

/// The slugs of consultations by id, for readable exports.
async fn consultation_slugs<C: ConnectionTrait>(
    db: &C,
) -> Result<std::collections::HashMap<i64, String>, AppError> {
    Ok(consultation::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.slug))
        .collect())
}

/// Everything stored about `subject_id`, for `actor` (themselves or an admin).
pub async fn export(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    subject_id: i64,
) -> Result<Export, AppError> {
    if !may_handle_data_of(actor, subject_id) {
        return Err(AppError::NotFound);
    }
    let u = user::Entity::find_by_id(subject_id)
        .one(db)
        .await?
        .filter(|u| u.deleted_at.is_none())
        .ok_or(AppError::NotFound)?;
    let slugs = consultation_slugs(db).await?;
    let slug = |id: i64| slugs.get(&id).cloned().unwrap_or_default();

    let ideas: Vec<Idea> = idea::Entity::find()
        .filter(idea::Column::AuthorId.eq(u.id))
        .order_by_asc(idea::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| Idea {
            consultation: slug(i.consultation_id),
            id: i.id,
            title: i.title,
            body: i.body,
            category: i.category,
            place: i.place,
            status: i.status.as_str().to_owned(),
            support_count: i.support_count,
            created_at: i.created_at,
            published_at: i.published_at,
        })
        .collect();
    let comments: Vec<Comment> = comment::Entity::find()
        .filter(comment::Column::AuthorId.eq(u.id))
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Comment {
            id: c.id,
            idea_id: c.idea_id,
            parent_id: c.parent_id,
            body: c.body,
            status: c.status.as_str().to_owned(),
            created_at: c.created_at,
            edited_at: c.edited_at,
        })
        .collect();
    let statements: Vec<Statement> = statement::Entity::find()
        .filter(statement::Column::CreatedBy.eq(u.id))
        .order_by_asc(statement::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| Statement {
            consultation: slug(s.consultation_id),
            id: s.id,
            number: s.number,
            body: s.body,
            status: s.status.as_str().to_owned(),
            moderation_reason: s.moderation_reason,
            created_at: s.created_at,
        })
        .collect();
    let supports = idea_support::Entity::find()
        .filter(idea_support::Column::UserId.eq(u.id))
        .order_by_asc(idea_support::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| Support {
            idea_id: s.idea_id,
            created_at: s.created_at,
        })
        .collect();
    let participant_ids: Vec<i64> = participant::Entity::find()
        .filter(participant::Column::UserId.eq(u.id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let votes = if participant_ids.is_empty() {
        Vec::new()
    } else {
        vote::Entity::find()
            .filter(vote::Column::ParticipantId.is_in(participant_ids))
            .order_by_asc(vote::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|v| Vote {
                consultation: slug(v.consultation_id),
                statement_id: v.statement_id,
                value: v.value,
                updated_at: v.updated_at,
            })
            .collect()
    };
    let comment_flags = comment_flag::Entity::find()
        .filter(comment_flag::Column::UserId.eq(u.id))
        .order_by_asc(comment_flag::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|f| Flag {
            comment_id: f.comment_id,
            reason: f.reason,
            created_at: f.created_at,
        })
        .collect();
    let followed_consultations = consultation_follow::Entity::find()
        .filter(consultation_follow::Column::UserId.eq(u.id))
        .order_by_asc(consultation_follow::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|f| slug(f.consultation_id))
        .collect();
    let followed_ideas = idea_follow::Entity::find()
        .filter(idea_follow::Column::UserId.eq(u.id))
        .order_by_asc(idea_follow::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.idea_id)
        .collect();
    let notifications = notification::Entity::find()
        .filter(notification::Column::UserId.eq(u.id))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|n| Notification {
            kind: serde_json::to_value(n.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            subject_type: n.subject_type,
            subject_id: n.subject_id,
            created_at: n.created_at,
            read_at: n.read_at,
        })
        .collect();
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(u.id))
        .order_by_asc(mail_outbox::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Mail {
            kind: m.kind.as_str().to_owned(),
            subject: m.subject,
            status: m.status.as_str().to_owned(),
            created_at: m.created_at,
            sent_at: m.sent_at,
        })
        .collect();
    let audit = audit_log::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(audit_log::Column::ActorId.eq(u.id))
                .add(
                    sea_orm::Condition::all()
                        .add(audit_log::Column::SubjectType.eq("user"))
                        .add(audit_log::Column::SubjectId.eq(u.id)),
                ),
        )
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AuditEntry {
            by_self: a.actor_id == Some(u.id),
            action: a.action,
            subject_type: a.subject_type,
            subject_id: a.subject_id,
            created_at: a.created_at,
        })
        .collect();

    let mut subjects: Vec<(&str, i64)> = Vec::new();
    subjects.extend(ideas.iter().map(|i: &Idea| ("idea", i.id)));
    subjects.extend(comments.iter().map(|c: &Comment| ("comment", c.id)));
    subjects.extend(statements.iter().map(|s: &Statement| ("statement", s.id)));
    let mut decisions = Vec::new();
    for kind in ["idea", "comment", "statement"] {
        let ids: Vec<i64> = subjects
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        decisions.extend(
            moderation_action::Entity::find()
                .filter(moderation_action::Column::SubjectType.eq(kind))
                .filter(moderation_action::Column::SubjectId.is_in(ids))
                .order_by_asc(moderation_action::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .map(|d| Decision {
                    id: d.id,
                    subject_type: d.subject_type,
                    subject_id: d.subject_id,
                    action: d.action,
                    reason: d.reason,
                    created_at: d.created_at,
                }),
        );
    }
    let complaints = complaint::Entity::find()
        .filter(complaint::Column::UserId.eq(u.id))
        .order_by_asc(complaint::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Complaint {
            id: c.id,
            decision_id: c.decision_id,
            body: c.body,
            status: c.status,
            answer: c.answer,
            created_at: c.created_at,
            answered_at: c.answered_at,
        })
        .collect();
    let identity =
        (u.identity_provider.is_some() || u.oidc_subject_hash.is_some()).then(|| Identity {
            provider: u.identity_provider.clone(),
            level_of_assurance: u.loa.clone(),
            birth_year: u.birth_year,
            municipality_code: u.municipality_code.clone(),
        });
    Ok(Export {
        generated_at: now(),
        account: Account {
            id: u.id,
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            has_password: u.password_hash.is_some(),
            role: u.role.as_str().to_owned(),
            locale: u.locale.clone(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            password_changed_at: u.password_changed_at,
        },
        identity,
        preferences: Preferences {
            mail_notifications: u.mail_notifications,
            mail_locale: u.mail_locale.clone(),
            mail_idea_updates: u.mail_idea_updates,
            mail_statements: u.mail_statements,
            mail_consultations: u.mail_consultations,
        },
        ideas,
        comments,
        statements,
        supports,
        votes,
        comment_flags,
        followed_consultations,
        followed_ideas,
        notifications,
        mails,
        audit,
        decisions,
        complaints,
    })
}

/// Who asked for a deletion.
pub enum Requester<'a> {
    /// The person themselves, re-authenticated just before.
    Themselves,
    /// An administrator, for a request made in person or by letter.
    Staff { reason: &'a str },
}

/// What a deletion did, for the audit log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub sessions_ended: u64,
    pub votes_unlinked: u64,
    pub texts_removed: u64,
}

/// Check the reason an administrator gives for deleting someone's account.
pub fn parse_reason(raw: &str) -> Result<String, &'static str> {
    let reason = crate::services::clean_text(raw, 500)?;
    if reason.chars().count() < 5 {
        return Err("reason_required");
    }
    Ok(reason)
}

/// Delete the account `subject_id` in one transaction (nothing is deleted
/// half-way on either database). With `delete_texts`, the person's ideas are
/// withdrawn and emptied and their comments deleted as well; statements in
/// conversations stay (others have voted on them, and they are shown without
/// an author anyway).
pub async fn delete_account(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    subject_id: i64,
    requester: Requester<'_>,
    delete_texts: bool,
) -> Result<Deleted, AppError> {
    if !may_handle_data_of(actor, subject_id) {
        return Err(AppError::NotFound);
    }
    let reason = match &requester {
        Requester::Themselves if actor.id == subject_id => String::new(),
        Requester::Themselves => return Err(AppError::NotFound),
        Requester::Staff { reason } => {
            parse_reason(reason).map_err(|key| AppError::field("reason", key))?
        }
    };
    let detail_of = |done: &Deleted| match &requester {
        Requester::Themselves => format!(
            "by_self; texts_deleted={delete_texts}; votes_unlinked={}",
            done.votes_unlinked
        ),
        Requester::Staff { .. } => format!(
            "by_staff; texts_deleted={delete_texts}; votes_unlinked={}; reason: {reason}",
            done.votes_unlinked
        ),
    };
    let audit_actor = (actor.id != subject_id).then_some(actor.id);
    erase(db, subject_id, audit_actor, delete_texts, now(), detail_of)
        .await?
        .ok_or(AppError::NotFound)
}

/// Erase the account `subject_id` at time `at` in one transaction; `None`
/// when it is gone already (or another request or replica took it first:
/// the deletion is claimed with a conditional update, so it happens once).
/// The audit entry is written by `audit_actor` (none: the person or the
/// system) with the detail `detail_of` gives.
pub async fn erase(
    db: &DatabaseConnection,
    subject_id: i64,
    audit_actor: Option<i64>,
    delete_texts: bool,
    at: DateTime<Utc>,
    detail_of: impl FnOnce(&Deleted) -> String,
) -> Result<Option<Deleted>, AppError> {
    let txn = super::begin_write(db).await?;
    let Some(found) = user::Entity::find_by_id(subject_id)
        .one(&txn)
        .await?
        .filter(|u| u.deleted_at.is_none())
    else {
        return Ok(None);
    };
    // Claim the deletion: only one request (of two racing ones) goes on.
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::DeletedAt, Expr::value(at))
        .filter(user::Column::Id.eq(found.id))
        .filter(user::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let mut done = Deleted {
        sessions_ended: sessions::end_all_for_user(&txn, found.id).await?,
        ..Deleted::default()
    };
    if found.identity_provider.is_some() {
        keep_report_facts(&txn, &found).await?;
    }
    done.votes_unlinked = participant::Entity::update_many()
        .col_expr(
            participant::Column::UserId,
            Expr::value(Option::<i64>::None),
        )
        .filter(participant::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?
        .rows_affected;
    email_token::Entity::delete_many()
        .filter(email_token::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    notification::Entity::delete_many()
        .filter(notification::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    consultation_follow::Entity::delete_many()
        .filter(consultation_follow::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    idea_follow::Entity::delete_many()
        .filter(idea_follow::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    complaint::Entity::delete_many()
        .filter(complaint::Column::UserId.eq(found.id))
        .exec(&txn)
        .await?;
    if delete_texts {
        done.texts_removed += comment::Entity::update_many()
            .col_expr(comment::Column::Body, Expr::value(""))
            .col_expr(
                comment::Column::Status,
                Expr::value(CommentStatus::Deleted.as_str()),
            )
            .filter(comment::Column::AuthorId.eq(found.id))
            .exec(&txn)
            .await?
            .rows_affected;
        done.texts_removed += idea::Entity::update_many()
            .col_expr(idea::Column::Title, Expr::value(DELETED_NAME))
            .col_expr(idea::Column::Body, Expr::value(""))
            .col_expr(idea::Column::Place, Expr::value(Option::<String>::None))
            .col_expr(
                idea::Column::Status,
                Expr::value(IdeaStatus::Withdrawn.as_str()),
            )
            .col_expr(idea::Column::UpdatedAt, Expr::value(at))
            .filter(idea::Column::AuthorId.eq(found.id))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    // The tombstone: the row stays for the texts' authorship, without any
    // personal datum. Email and identity are free to be used again.
    let mut active = found.clone().into_active_model();
    active.display_name = Set(DELETED_NAME.to_owned());
    active.email = Set(None);
    active.password_hash = Set(None);
    active.oidc_subject_hash = Set(None);
    active.role = Set(Role::Citizen);
    active.locale = Set(crate::i18n::Locale::Da.code().to_owned());
    active.email_verified = Set(false);
    active.created_at = Set(at);
    active.last_login_at = Set(None);
    active.deleted_at = Set(Some(at));
    active.identity_provider = Set(None);
    active.loa = Set(None);
    active.birth_year = Set(None);
    active.municipality_code = Set(None);
    active.mail_notifications = Set(false);
    active.mail_locale = Set(None);
    active.mail_idea_updates = Set(false);
    active.mail_statements = Set(false);
    active.mail_consultations = Set(false);
    active.password_changed_at = Set(None);
    active.inactivity_warned_at = Set(None);
    active.update(&txn).await?;
    audit::record(
        &txn,
        audit_actor,
        "user.deleted",
        "user",
        Some(found.id),
        &detail_of(&done),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(user = found.id, texts = delete_texts, "account deleted");
    Ok(Some(done))
}

/// Before a verified person's participant rows are unlinked, keep on them
/// what "who took part" counts (verified, age band as of the consultation,
/// municipality code), so published reports stay as they were. One row per
/// consultation, as the report counts the person once there.
async fn keep_report_facts<C: ConnectionTrait>(
    txn: &C,
    person: &user::Model,
) -> Result<(), AppError> {
    let rows = participant::Entity::find()
        .filter(participant::Column::UserId.eq(person.id))
        .order_by_asc(participant::Column::Id)
        .all(txn)
        .await?;
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        if !seen.insert(row.consultation_id) {
            continue;
        }
        let Some(c) = consultation::Entity::find_by_id(row.consultation_id)
            .one(txn)
            .await?
        else {
            continue;
        };
        let year = super::participant_facts::age_reference_year(&c);
        let band = person
            .birth_year
            .and_then(|b| super::population::band_of_age(year - b));
        participant::Entity::update_many()
            .col_expr(participant::Column::KeptVerified, Expr::value(true))
            .col_expr(participant::Column::KeptAgeBand, Expr::value(band))
            .col_expr(
                participant::Column::KeptMunicipality,
                Expr::value(person.municipality_code.clone()),
            )
            .filter(participant::Column::Id.eq(row.id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// How long a MitID login counts as "just now" for confirming a deletion
/// without a password.
pub const FRESH_LOGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Whether a MitID login at `login_at` is recent enough at `at` to confirm a
/// deletion without a password.
pub fn fresh_identity_login(login_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    login_at.is_some_and(|t| t <= at && at - t <= FRESH_LOGIN)
}

/// The answer to a deletion confirmation.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed,
    /// The password was wrong (or missing).
    WrongPassword,
    /// Too many wrong passwords lately: wait this long.
    Throttled(std::time::Duration),
    /// An account without a password must log in with MitID again first.
    NeedsFreshLogin,
}

/// Re-authentication before a deletion: the password for accounts that have
/// one (through the login's own throttling, so a borrowed session cannot
/// guess it), otherwise a MitID login in the last [`FRESH_LOGIN`].
pub async fn confirm_identity(
    db: &DatabaseConnection,
    client: &crate::services::rate_limits::Client,
    me: &CurrentUser,
    password: &str,
    identity_login_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<Confirmation, AppError> {
    let row = user::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .filter(|u| u.deleted_at.is_none())
        .ok_or(AppError::NotFound)?;
    if row.password_hash.is_none() {
        let fresh = fresh_identity_login(identity_login_at, at);
        return Ok(if fresh && row.oidc_subject_hash.is_some() {
            Confirmation::Confirmed
        } else {
            Confirmation::NeedsFreshLogin
        });
    }
    let Some(email) = row.email.as_deref() else {
        return Ok(Confirmation::WrongPassword);
    };
    use crate::services::users::{Login, authenticate};
    Ok(match authenticate(db, client, email, password).await? {
        Login::Ok(u) if u.id == me.id => Confirmation::Confirmed,
        Login::Ok(_) | Login::Failed => Confirmation::WrongPassword,
        Login::Throttled { wait, .. } => Confirmation::Throttled(wait),
    })
}

/// Whether the account has a password (otherwise MitID confirms a deletion).
pub async fn has_password(db: &DatabaseConnection, me: &CurrentUser) -> Result<bool, AppError> {
    Ok(user::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .is_some_and(|u| u.password_hash.is_some()))
}

/// An account found by its email address, for the staff page.
pub async fn find_by_email(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    email: &str,
) -> Result<Option<user::Model>, AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::NotFound);
    }
    let Ok(address) = crate::services::users::parse_email(email) else {
        return Ok(None);
    };
    Ok(crate::services::users::find_by_email(db, &address)
        .await?
        .filter(|u| u.deleted_at.is_none()))
}

/// My place in one conversation's opinion map ("her står du").
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MyDataMyPlace)]
pub struct MyPlace {
    pub consultation: String,
    pub title: String,
    /// My opinion group (index into the snapshot's groups), if clustered.
    pub group: Option<usize>,
    /// How many groups the conversation has.
    pub groups: usize,
    /// Everyone's position on the map with their group.
    pub points: Vec<([f64; 2], Option<usize>)>,
    /// Mine.
    pub me: [f64; 2],
}

/// For every conversation `me` voted in that has an opinion snapshot: my
/// group and my place among everyone's. Only ever the logged-in person's own.
pub async fn my_places(
    db: &DatabaseConnection,
    me: &CurrentUser,
) -> Result<Vec<MyPlace>, AppError> {
    let mine = participant::Entity::find()
        .filter(participant::Column::UserId.eq(me.id))
        .order_by_asc(participant::Column::Id)
        .all(db)
        .await?;
    let mut places = Vec::new();
    for p in mine {
        let Some((_, snap)) = crate::services::snapshots::latest(db, p.consultation_id).await?
        else {
            continue;
        };
        let Some(result) = snap.participants.get(&p.id) else {
            continue;
        };
        let Some(c) = consultation::Entity::find_by_id(p.consultation_id)
            .one(db)
            .await?
        else {
            continue;
        };
        places.push(MyPlace {
            consultation: c.slug,
            title: c.title,
            group: result.group.filter(|_| snap.k >= 2),
            groups: snap.k,
            points: snap
                .participants
                .values()
                .map(|r| (r.projection, r.group))
                .collect(),
            me: result.projection,
        });
    }
    Ok(places)
}
