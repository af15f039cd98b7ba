//! Mails, notifications and single-use mail links: their stored kinds and states.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Stored in `mail_outbox.kind`; also names the mail's templates
/// (`mail/{kind}_text`, `mail/{kind}_html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum MailKind {
    IdeaStatus,
    VerifyEmail,
    PasswordReset,
    StatementModerated,
    ConsultationStatus,
    /// Someone tried to register an account with an address that has one.
    RegistrationAttempt,
    /// The account will be deleted for inactivity unless the person logs in.
    InactiveAccount,
    /// A complaint of the person's was answered.
    ComplaintAnswered,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::IdeaStatus => "idea_status",
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::StatementModerated => "statement_moderated",
            MailKind::ConsultationStatus => "consultation_status",
            MailKind::RegistrationAttempt => "registration_attempt",
            MailKind::InactiveAccount => "inactive_account",
            MailKind::ComplaintAnswered => "complaint_answered",
        }
    }

    /// Mails about the account itself, sent whatever the person's mail
    /// preferences say, and without an unsubscribe link.
    pub fn is_account_mail(self) -> bool {
        matches!(
            self,
            MailKind::VerifyEmail
                | MailKind::PasswordReset
                | MailKind::RegistrationAttempt
                | MailKind::InactiveAccount
                | MailKind::ComplaintAnswered
        )
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored in `mail_outbox.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum MailStatus {
    /// Waiting for its (next) delivery attempt.
    Pending,
    Sent,
    /// Not sent: the recipient does not want mails of this kind (any more).
    Skipped,
    /// Given up after the last attempt; the error is kept for admins.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Skipped => "skipped",
            MailStatus::Failed => "failed",
        }
    }
}

/// Stored in `notifications.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum NotificationKind {
    /// A followed idea changed status.
    IdeaStatus,
    /// A moderator accepted or rejected the person's statement.
    StatementModerated,
    /// Someone replied to the person's comment.
    CommentReply,
}

/// Stored in `email_tokens.purpose`: what a single-use mail link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum TokenPurpose {
    /// Proves the address (email verification).
    Verify,
    /// Sets a new password.
    Reset,
}
