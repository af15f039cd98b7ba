//! Assisted participation at the citizen service desk ("vejlede, ikke
//! ekspedere"): a staff member helps a citizen who is present to take part.
//!
//! The citizen identifies on the desk device (MitID through the normal OIDC
//! flow, or the password of an existing account), or takes part as an
//! anonymous desk participant where anyone may vote. What is entered counts
//! as the citizen's: their participant row (channel "assisted" when it is
//! new), their votes, statements, ideas and comments. The staff member is
//! recorded only in the audit log, which is never shown publicly.
//!
//! Security: the assisted session lives inside the staff member's own
//! (server-side) session under [`SESSION_ASSIST`]; the staff member stays
//! logged in as themselves and the citizen never gets a login of their own
//! on the desk device. The assisted identity ends when the staff member ends
//! it, logs out, after [`IDLE_MINUTES`] without a request, and at the latest
//! [`MAX_MINUTES`] after it began. One assisted session is one participant:
//! the citizen is fixed when it starts, and staff cannot assist themselves.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::auth::session::CurrentUser;
use crate::domain::channel::Channel;
use crate::domain::{Refusal, VotingEligibility};
use crate::entities::{consultation, participant, user};
use crate::errors::AppError;
use crate::opinion::VoteValue;

use super::participants::{self, Visitor};
use super::{audit, comments, ideas, statements, votes};

/// Session key of the running assisted session.
pub const SESSION_ASSIST: &str = "assist";
/// Session key of the receipt of the last ended session (until the next starts).
pub const SESSION_RECEIPT: &str = "assist_receipt";
/// Session key of a verified MitID identity without an account yet, while
/// the citizen chooses a display name at the desk.
pub const SESSION_NEW_IDENTITY: &str = "assist_identity";

/// The assisted identity ends after this long without a request…
pub const IDLE_MINUTES: i64 = 15;
/// …and this long after it began, whatever happens.
pub const MAX_MINUTES: i64 = 120;
/// At most this many lines on a receipt (a long session must not make the
/// staff member's session grow without end).
const RECEIPT_MAX: usize = 300;

/// May this person help citizens at the desk? Council staff (moderators and
/// administrators), the people who staff the citizen service desk; not
/// citizens, not politicians.
pub fn may_assist(staff: &CurrentUser) -> Result<(), Refusal> {
    if staff.role.is_staff() {
        Ok(())
    } else {
        Err(Refusal::NotAllowed)
    }
}

/// How the citizen identified at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    Mitid,
    Account,
    Anonymous,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Mitid => "mitid",
            How::Account => "account",
            How::Anonymous => "anonymous",
        }
    }
}

/// Whose participation this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Citizen {
    /// An account (MitID or local).
    Account { user_id: i64 },
    /// An anonymous desk participant, in one "anyone may vote" consultation.
    /// The token is random and known only to this session.
    Anonymous { token: String, consultation_id: i64 },
}

/// One thing submitted in the session, for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// `vote`, `statement`, `idea` or `comment`.
    pub kind: String,
    pub consultation: String,
    pub text: String,
    /// The vote: `agree`, `disagree` or `pass`.
    pub choice: Option<String>,
    /// Waits for a moderator before it is shown.
    pub pending: bool,
    /// Statement id of a vote (a changed vote replaces its line).
    #[serde(default)]
    pub statement_id: Option<i64>,
}

/// A running assisted session, kept in the staff member's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assist {
    /// Random, to tie the audit entries of one session together.
    pub id: String,
    pub staff_id: i64,
    pub citizen: Citizen,
    pub how: How,
    /// The citizen's display name (or empty for an anonymous participant).
    pub name: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub lines: Vec<Line>,
}

/// What the citizen takes home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub name: String,
    pub how: How,
    pub started_at: i64,
    pub ended_at: i64,
    pub timed_out: bool,
    pub lines: Vec<Line>,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Assist {
    /// Has the assisted identity run out (idle or too long)?
    pub fn expired_at(&self, now: i64) -> bool {
        now - self.last_seen_at > IDLE_MINUTES * 60 || now - self.started_at > MAX_MINUTES * 60
    }

    /// Minutes until the idle timeout, for the page.
    pub fn minutes_left(&self, now: i64) -> i64 {
        let idle = self.last_seen_at + IDLE_MINUTES * 60 - now;
        let total = self.started_at + MAX_MINUTES * 60 - now;
        (idle.min(total).max(0) + 59) / 60
    }

    fn push(&mut self, line: Line) {
        if let Some(id) = line.statement_id
            && let Some(old) = self
                .lines
                .iter_mut()
                .find(|l| l.kind == "vote" && l.statement_id == Some(id))
        {
            *old = line;
            return;
        }
        if self.lines.len() < RECEIPT_MAX {
            self.lines.push(line);
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    hex::encode(bytes)
}

/// Begin an assisted session for an account (after MitID or the citizen's
/// password on the desk device).
pub async fn begin_for_account(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    citizen: &user::Model,
    how: How,
) -> Result<Assist, AppError> {
    may_assist(staff)?;
    if citizen.id == staff.id {
        return Err(AppError::Conflict("assisted.errors.self"));
    }
    if citizen.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let assist = Assist {
        id: random_token()[..16].to_owned(),
        staff_id: staff.id,
        citizen: Citizen::Account {
            user_id: citizen.id,
        },
        how,
        name: citizen.display_name.clone(),
        started_at: now_secs(),
        last_seen_at: now_secs(),
        lines: Vec::new(),
    };
    audit::record(
        db,
        Some(staff.id),
        "assisted.started",
        "user",
        Some(citizen.id),
        &format!("{} session={}", how.as_str(), assist.id),
    )
    .await?;
    Ok(assist)
}

/// May an anonymous desk participant take part in `c`? Only where anyone
/// may vote, while it is open.
pub fn may_begin_anonymous(c: &consultation::Model) -> Result<(), Refusal> {
    if c.status != crate::domain::ConsultationStatus::Open || !c.has_conversation {
        return Err(Refusal::ConsultationNotOpen);
    }
    if c.voting_eligibility != VotingEligibility::Anyone {
        return Err(Refusal::LoginRequired);
    }
    Ok(())
}

/// Consultations where an anonymous desk participant may take part.
pub async fn anonymous_choices(
    db: &DatabaseConnection,
) -> Result<Vec<consultation::Model>, AppError> {
    let open =
        super::consultations::list_public(db, &[crate::domain::ConsultationStatus::Open]).await?;
    Ok(open
        .into_iter()
        .filter(|c| may_begin_anonymous(c).is_ok())
        .collect())
}

pub async fn begin_anonymous(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    slug: &str,
) -> Result<Assist, AppError> {
    may_assist(staff)?;
    let c = super::consultations::get_visible(db, Some(staff), slug).await?;
    may_begin_anonymous(&c)?;
    let assist = Assist {
        id: random_token()[..16].to_owned(),
        staff_id: staff.id,
        citizen: Citizen::Anonymous {
            token: random_token(),
            consultation_id: c.id,
        },
        how: How::Anonymous,
        name: String::new(),
        started_at: now_secs(),
        last_seen_at: now_secs(),
        lines: Vec::new(),
    };
    audit::record(
        db,
        Some(staff.id),
        "assisted.started",
        "consultation",
        Some(c.id),
        &format!("anonymous session={}", assist.id),
    )
    .await?;
    Ok(assist)
}

/// The citizen as the participation services see them. `None` when the
/// account is gone (the session then ends).
pub async fn citizen_visitor(
    db: &DatabaseConnection,
    assist: &Assist,
) -> Result<Option<Visitor>, AppError> {
    Ok(match &assist.citizen {
        Citizen::Account { user_id } => user::Entity::find_by_id(*user_id)
            .one(db)
            .await?
            .filter(|u| u.deleted_at.is_none())
            .map(|u| Visitor {
                user: Some(CurrentUser::from_model(&u)),
                anon_token: None,
                client: None,
            }),
        Citizen::Anonymous { token, .. } => Some(Visitor {
            user: None,
            anon_token: Some(token.clone()),
            client: None,
        }),
    })
}

/// May the session act in `c`? An anonymous desk participant belongs to one
/// consultation only.
pub fn may_act_in(assist: &Assist, c: &consultation::Model) -> Result<(), Refusal> {
    match &assist.citizen {
        Citizen::Anonymous {
            consultation_id, ..
        } if *consultation_id != c.id => Err(Refusal::NotAllowed),
        _ => Ok(()),
    }
}

/// The citizen's participant row in `c`, made with the channel "assisted"
/// when it is new (a citizen who took part online before stays "online").
async fn participant_for(
    db: &DatabaseConnection,
    c: &consultation::Model,
    visitor: &Visitor,
) -> Result<participant::Model, AppError> {
    if let Some(p) = participants::find(db, c.id, visitor).await? {
        return Ok(p);
    }
    let p = participants::find_or_create(db, c, visitor).await?;
    participant::Entity::update_many()
        .col_expr(
            participant::Column::Channel,
            sea_orm::sea_query::Expr::value(Channel::Assisted.as_str()),
        )
        .filter(participant::Column::Id.eq(p.id))
        .exec(db)
        .await?;
    Ok(participant::Model {
        channel: Channel::Assisted,
        ..p
    })
}

async fn audit_act(
    db: &DatabaseConnection,
    assist: &Assist,
    action: &str,
    subject_type: &str,
    subject_id: i64,
) -> Result<(), AppError> {
    audit::record(
        db,
        Some(assist.staff_id),
        action,
        subject_type,
        Some(subject_id),
        &format!("session={}", assist.id),
    )
    .await?;
    Ok(())
}

fn check_staff(staff: &CurrentUser, assist: &Assist) -> Result<(), AppError> {
    may_assist(staff)?;
    if assist.staff_id != staff.id {
        return Err(AppError::forbidden());
    }
    Ok(())
}

/// Votes with the citizen on one statement.
pub async fn vote(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    assist: &mut Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    statement_id: i64,
    value: VoteValue,
) -> Result<(), AppError> {
    check_staff(staff, assist)?;
    may_act_in(assist, c)?;
    votes::may_vote(visitor.user.as_ref(), c)?;
    participant_for(db, c, visitor).await?;
    let outcome = votes::cast(db, c, visitor, statement_id, value).await?;
    audit_act(db, assist, "assisted.vote", "statement", statement_id).await?;
    let body = crate::entities::statement::Entity::find_by_id(statement_id)
        .one(db)
        .await?
        .map(|s| s.body)
        .unwrap_or_default();
    let _ = outcome;
    assist.push(Line {
        kind: "vote".into(),
        consultation: c.title.clone(),
        text: body,
        choice: Some(votes::choice_name(value).to_owned()),
        pending: false,
        statement_id: Some(statement_id),
    });
    Ok(())
}

/// Writes a statement with the citizen.
pub async fn statement(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    assist: &mut Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    raw: &str,
) -> Result<crate::entities::statement::Model, AppError> {
    check_staff(staff, assist)?;
    may_act_in(assist, c)?;
    statements::may_write(visitor.user.as_ref(), c)?;
    participant_for(db, c, visitor).await?;
    let stored = statements::add(db, c, visitor, raw).await?;
    audit_act(db, assist, "assisted.statement", "statement", stored.id).await?;
    assist.push(Line {
        kind: "statement".into(),
        consultation: c.title.clone(),
        text: stored.body.clone(),
        choice: None,
        pending: stored.status == statements::StatementStatus::Pending,
        statement_id: None,
    });
    Ok(stored)
}

fn account(visitor: &Visitor) -> Result<&CurrentUser, AppError> {
    visitor
        .user
        .as_ref()
        .ok_or(AppError::Forbidden(Refusal::LoginRequired))
}

/// Proposes an idea with the citizen (an account is needed).
pub async fn idea(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    assist: &mut Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    form: &ideas::IdeaForm,
) -> Result<crate::entities::idea::Model, AppError> {
    check_staff(staff, assist)?;
    may_act_in(assist, c)?;
    let citizen = account(visitor)?;
    ideas::may_propose(Some(citizen), c)?;
    participant_for(db, c, visitor).await?;
    let stored = ideas::create(db, citizen, &c.slug, form).await?;
    audit_act(db, assist, "assisted.idea", "idea", stored.id).await?;
    assist.push(Line {
        kind: "idea".into(),
        consultation: c.title.clone(),
        text: stored.title.clone(),
        choice: None,
        pending: stored.published_at.is_none(),
        statement_id: None,
    });
    Ok(stored)
}

/// Comments on an idea with the citizen (an account is needed).
pub async fn comment(
    db: &DatabaseConnection,
    staff: &CurrentUser,
    assist: &mut Assist,
    visitor: &Visitor,
    c: &consultation::Model,
    idea_id: i64,
    body: &str,
) -> Result<crate::entities::comment::Model, AppError> {
    check_staff(staff, assist)?;
    may_act_in(assist, c)?;
    let citizen = account(visitor)?;
    let (found, of) = ideas::get_visible(db, Some(citizen), idea_id).await?;
    if of.id != c.id {
        return Err(AppError::NotFound);
    }
    comments::may_comment(Some(citizen), c, &found, None)?;
    participant_for(db, c, visitor).await?;
    let stored = comments::create(db, citizen, idea_id, None, body).await?;
    audit_act(db, assist, "assisted.comment", "comment", stored.id).await?;
    assist.push(Line {
        kind: "comment".into(),
        consultation: c.title.clone(),
        text: stored.body.clone(),
        choice: None,
        pending: stored.status != crate::domain::comment::CommentStatus::Visible,
        statement_id: None,
    });
    Ok(stored)
}

/// End the session: the assisted identity is gone, the receipt remains.
pub async fn end(
    db: &DatabaseConnection,
    assist: Assist,
    timed_out: bool,
) -> Result<Receipt, AppError> {
    let subject = match &assist.citizen {
        Citizen::Account { user_id } => ("user", *user_id),
        Citizen::Anonymous {
            consultation_id, ..
        } => ("consultation", *consultation_id),
    };
    audit::record(
        db,
        Some(assist.staff_id),
        if timed_out {
            "assisted.timed_out"
        } else {
            "assisted.ended"
        },
        subject.0,
        Some(subject.1),
        &format!("session={} lines={}", assist.id, assist.lines.len()),
    )
    .await?;
    Ok(Receipt {
        name: assist.name,
        how: assist.how,
        started_at: assist.started_at,
        ended_at: now_secs(),
        timed_out,
        lines: assist.lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assist(started: i64, seen: i64) -> Assist {
        Assist {
            id: "x".into(),
            staff_id: 1,
            citizen: Citizen::Account { user_id: 2 },
            how: How::Mitid,
            name: "Anna".into(),
            started_at: started,
            last_seen_at: seen,
            lines: Vec::new(),
        }
    }

    #[test]
    fn an_assisted_session_ends_when_idle_and_when_too_long() {
        let a = assist(0, 0);
        assert!(!a.expired_at(IDLE_MINUTES * 60));
        assert!(a.expired_at(IDLE_MINUTES * 60 + 1));
        let busy = assist(0, MAX_MINUTES * 60);
        assert!(!busy.expired_at(MAX_MINUTES * 60));
        assert!(busy.expired_at(MAX_MINUTES * 60 + 1));
        assert_eq!(a.minutes_left(0), IDLE_MINUTES);
    }

    #[test]
    fn a_changed_vote_replaces_its_receipt_line() {
        let mut a = assist(0, 0);
        let line = |choice: &str| Line {
            kind: "vote".into(),
            consultation: "C".into(),
            text: "S".into(),
            choice: Some(choice.into()),
            pending: false,
            statement_id: Some(7),
        };
        a.push(line("agree"));
        a.push(line("disagree"));
        assert_eq!(a.lines.len(), 1);
        assert_eq!(a.lines[0].choice.as_deref(), Some("disagree"));
    }
}
