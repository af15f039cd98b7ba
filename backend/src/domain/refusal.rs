//! Why an action is refused, in words the person can act on.

use super::eligibility::{ConversationRefusal, Ineligible};

/// The reason a person may not do something. Every page that offers an action
/// asks the service's `may_…` function, which answers with one of these; the
/// page shows the reason instead of the button, and the action refuses with the
/// same reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not allowed for this person's role; nothing they can do about it.
    NotAllowed,
    /// Only the author may do this.
    NotAuthor,
    /// Anonymous; logging in may help.
    LoginRequired,
    ConsultationNotOpen,
    /// The consultation's rules for taking part (MitID, age, residence, a verified address).
    Ineligible(Ineligible),
    /// The conversation's rules for voting and writing statements.
    Conversation(ConversationRefusal),
    IdeasNotAccepted,
    IdeaNotPublic,
    IdeaWithdrawn,
    IdeaNotSupportable,
    OwnIdea,
    AlreadySupported,
    NotSupported,
    IdeaNotEditable,
    IdeaHasSupports,
    IdeaNotWithdrawable,
    ReplyToRemoved,
    ReplyTooDeep,
    CommentNotEditable,
    CommentAlreadyDeleted,
    CannotFlagOwn,
    CommentNotFlaggable,
    AlreadyFlagged,
}

impl Refusal {
    /// Translation key of the reason.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::NotAllowed | Refusal::NotAuthor => "errors.forbidden",
            Refusal::LoginRequired => "errors.login_to_take_part",
            Refusal::ConsultationNotOpen => "errors.consultation_not_open",
            Refusal::Ineligible(reason) => reason.key(),
            Refusal::Conversation(reason) => reason.key(),
            Refusal::IdeasNotAccepted => "errors.ideas_not_accepted",
            Refusal::IdeaNotPublic => "errors.idea_not_public",
            Refusal::IdeaWithdrawn => "errors.idea_withdrawn",
            Refusal::IdeaNotSupportable => "errors.idea_not_supportable",
            Refusal::OwnIdea => "errors.cannot_support_own",
            Refusal::AlreadySupported => "errors.already_supported",
            Refusal::NotSupported => "errors.not_supported",
            Refusal::IdeaNotEditable => "errors.idea_not_editable",
            Refusal::IdeaHasSupports => "errors.idea_has_supports",
            Refusal::IdeaNotWithdrawable => "errors.idea_not_withdrawable",
            Refusal::ReplyToRemoved => "errors.reply_to_removed",
            Refusal::ReplyTooDeep => "errors.reply_too_deep",
            Refusal::CommentNotEditable => "errors.comment_not_editable",
            Refusal::CommentAlreadyDeleted => "errors.comment_already_deleted",
            Refusal::CannotFlagOwn => "errors.cannot_flag_own",
            Refusal::CommentNotFlaggable => "errors.comment_not_flaggable",
            Refusal::AlreadyFlagged => "errors.already_flagged",
        }
    }

    /// HTTP status of the refused action: 403 when the person's role or
    /// authorship rules it out, 409 when the state of things does (the
    /// consultation is closed, the idea already supported, the address not yet
    /// verified), which may change.
    pub fn status(self) -> u16 {
        match self {
            Refusal::NotAllowed | Refusal::NotAuthor | Refusal::LoginRequired => 403,
            _ => 409,
        }
    }
}
