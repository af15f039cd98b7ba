//! Mail that is never lost. A change that causes a mail writes an outbox row
//! in its own transaction (`enqueue`); the sender job (`run_sender`) renders
//! it in the recipient's language and delivers it, retrying with exponential
//! backoff while the SMTP server is unreachable, so a restart or an SMTP
//! outage delays mail but never drops it. After `MAX_ATTEMPTS` a mail is
//! marked `failed` with its last error, for admins to see.
//!
//! Transports: SMTP (`SAMSKAB_MAIL__SMTP_URL`) or, by default, `.eml` files
//! in a folder (`SAMSKAB_MAIL__DIR`, default `{data_dir}/mail`).

use hmac::{Hmac, Mac};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::domain::{MailKind, MailStatus};
use crate::entities::{mail_outbox, user};
use crate::i18n::Locale;

use std::sync::Arc;

use crate::configuration::Settings;
use crate::i18n::Catalogs;
use crate::views::Views;

use super::now;

/// What rendering and sending mail needs; the server builds it from its state.
/// (A struct of its own so this service does not depend on the HTTP layer.)
#[derive(Clone)]
pub struct MailContext {
    pub db: DatabaseConnection,
    pub views: Arc<Views>,
    pub catalogs: Arc<Catalogs>,
    pub settings: Arc<Settings>,
}

pub const KIND_IDEA_STATUS: MailKind = MailKind::IdeaStatus;
pub const KIND_VERIFY_EMAIL: MailKind = MailKind::VerifyEmail;
pub const KIND_PASSWORD_RESET: MailKind = MailKind::PasswordReset;
pub const KIND_STATEMENT: MailKind = MailKind::StatementModerated;
pub const KIND_CONSULTATION: MailKind = MailKind::ConsultationStatus;
pub const KIND_REGISTRATION_ATTEMPT: MailKind = MailKind::RegistrationAttempt;

/// Mails about the account itself: always sent, without an unsubscribe link,
/// and their data (the token) is wiped once the mail is out.
fn is_account_mail(kind: MailKind) -> bool {
    kind.is_account_mail()
}

/// Whether `recipient` wants mails of `kind` (preferences and unsubscribe).
fn wanted(kind: MailKind, recipient: &user::Model) -> bool {
    if is_account_mail(kind) {
        return true;
    }
    // Notifications go only to addresses proved to be the person's own, so
    // nobody can make Samskab mail a stranger's inbox.
    let proved = recipient.email_verified || recipient.password_hash.is_none();
    let kind_on = match kind {
        KIND_IDEA_STATUS => recipient.mail_idea_updates,
        KIND_STATEMENT => recipient.mail_statements,
        KIND_CONSULTATION => recipient.mail_consultations,
        _ => true,
    };
    proved && recipient.mail_notifications && kind_on
}

/// The language of mails to `recipient`.
pub fn mail_locale(recipient: &user::Model) -> Locale {
    recipient
        .mail_locale
        .as_deref()
        .and_then(Locale::parse)
        .or_else(|| Locale::parse(&recipient.locale))
        .unwrap_or(Locale::Da)
}
pub const MAX_ATTEMPTS: i32 = 10;
const BATCH: u64 = 20;

/// Queue a mail to `user_id`, in the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    kind: MailKind,
    data: &Value,
) -> Result<(), sea_orm::DbErr> {
    let at = now();
    mail_outbox::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        data: Set(data.to_string()),
        status: Set(MailStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(at),
        last_error: Set(None),
        created_at: Set(at),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(PathBuf),
}

impl Transport {
    pub fn from_settings(settings: &crate::configuration::Settings) -> anyhow::Result<Self> {
        match &settings.mail.smtp_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret().trim())
                        .map_err(|_| {
                            anyhow::anyhow!("SAMSKAB_MAIL__SMTP_URL is not a valid SMTP URL")
                        })?
                        .timeout(Some(std::time::Duration::from_secs(10)))
                        .build();
                Ok(Transport::Smtp(transport))
            }
            _ => Ok(Transport::Dir(
                settings
                    .mail
                    .dir
                    .clone()
                    .unwrap_or_else(|| settings.data_dir.join("mail")),
            )),
        }
    }

    async fn send(&self, id: i64, message: Message) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
                Ok(())
            }
            Transport::Dir(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                tokio::fs::write(dir.join(format!("{id:08}.eml")), message.formatted()).await?;
                Ok(())
            }
        }
    }
}

/// Seconds to wait after `attempts` failed tries: 2, 4, 8, … up to an hour.
pub fn backoff_seconds(attempts: i32) -> i64 {
    2i64.saturating_pow(attempts.clamp(1, 12) as u32).min(3600)
}

/// The token in unsubscribe links: an HMAC of the user id.
pub fn unsubscribe_token(state: &MailContext, user_id: i64) -> anyhow::Result<String> {
    let secret = state.settings.hmac_secret()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret)
        .map_err(|e| anyhow::anyhow!("HMAC key: {e}"))?;
    mac.update(format!("unsubscribe:{user_id}").as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

pub fn unsubscribe_token_valid(state: &MailContext, user_id: i64, token: &str) -> bool {
    // Constant time: a byte-by-byte comparison that stops early would let
    // someone find the token of any user id one character at a time.
    unsubscribe_token(state, user_id)
        .is_ok_and(|t| subtle::ConstantTimeEq::ct_eq(t.as_bytes(), token.as_bytes()).into())
}

pub fn public_url(state: &MailContext) -> String {
    state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.settings.bind))
        .trim_end_matches('/')
        .to_owned()
}

/// Subject, text and HTML of one outbox row for `recipient`.
fn render(
    state: &MailContext,
    row: &mail_outbox::Model,
    recipient: &user::Model,
    unsubscribe_url: Option<&str>,
) -> anyhow::Result<(String, String, String)> {
    let locale = mail_locale(recipient);
    let data: Value = serde_json::from_str(&row.data)?;
    let base = public_url(state);
    let text_of = |key: &str| state.catalogs.text(locale, key);
    let str_of = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    let mut context = json!({
        "t": state.catalogs.catalog(locale),
        "lang": locale.code(),
        "name": recipient.display_name,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": format!("{base}/account/preferences"),
        "data": data,
    });
    let subject = match row.kind {
        KIND_IDEA_STATUS => {
            let status = str_of("status");
            context["status_label"] = json!(text_of(&format!("idea_status.{status}")));
            context["url"] = json!(format!("{base}/ideas/{}", data["idea_id"]));
            text_of("mail.idea_status.subject").replace("{title}", &str_of("title"))
        }
        KIND_VERIFY_EMAIL => {
            context["url"] = json!(format!("{base}/verify-email?token={}", str_of("token")));
            text_of("mail.verify_email.subject")
        }
        KIND_PASSWORD_RESET => {
            context["url"] = json!(format!("{base}/reset-password?token={}", str_of("token")));
            text_of("mail.password_reset.subject")
        }
        KIND_REGISTRATION_ATTEMPT => {
            context["login_url"] = json!(format!("{base}/login"));
            context["reset_url"] = json!(format!("{base}/forgot-password"));
            text_of("mail.registration_attempt.subject")
        }
        MailKind::ComplaintAnswered => {
            context["url"] = json!(format!("{base}/account/data#complaints"));
            context["answer"] = json!(str_of("answer"));
            text_of("complaints.mail_subject")
        }
        MailKind::InactiveAccount => {
            context["url"] = json!(format!("{base}/login"));
            context["intro"] = json!(
                text_of("data_rights.mail_inactive_intro")
                    .replace("{days}", &data["days"].to_string())
            );
            text_of("data_rights.mail_inactive_subject")
        }
        KIND_STATEMENT => {
            let accepted = data["accepted"].as_bool().unwrap_or(false);
            context["accepted"] = json!(accepted);
            context["url"] = json!(format!("{base}/consultations/{}", str_of("slug")));
            let key = if accepted {
                "mail.statement.subject_accepted"
            } else {
                "mail.statement.subject_rejected"
            };
            text_of(key).replace("{title}", &str_of("title"))
        }
        KIND_CONSULTATION => {
            let status = str_of("status");
            let slug = str_of("slug");
            let url = if status == "published" {
                format!("{base}/consultations/{slug}/report")
            } else {
                format!("{base}/consultations/{slug}")
            };
            context["url"] = json!(url);
            // Reminders and outcomes came later; their texts have their own section.
            let section = match status.as_str() {
                "reminder" | "outcome" => "deadlines.mail",
                _ => "mail.consultation",
            };
            let deadline = chrono::DateTime::parse_from_rfc3339(&str_of("closes_at"))
                .map(|t| crate::dates::format_datetime(t.with_timezone(&chrono::Utc), locale))
                .unwrap_or_default();
            context["intro"] = json!(
                text_of(&format!("{section}.intro_{status}")).replace("{deadline}", &deadline)
            );
            text_of(&format!("{section}.subject_{status}")).replace("{title}", &str_of("title"))
        }
    };
    let text = state
        .views
        .render(&format!("mail/{}_text", row.kind), &context)?;
    let html = state
        .views
        .render(&format!("mail/{}_html", row.kind), &context)?;
    Ok((subject, text, html))
}

enum Outcome {
    /// Sent with this subject.
    Sent(String),
    Skipped,
}

async fn deliver(
    state: &MailContext,
    transport: &Transport,
    row: &mail_outbox::Model,
) -> anyhow::Result<Outcome> {
    let Some(recipient) = user::Entity::find_by_id(row.user_id).one(&state.db).await? else {
        return Ok(Outcome::Skipped);
    };
    let (Some(email), true, None) = (
        recipient.email.clone(),
        wanted(row.kind, &recipient),
        recipient.deleted_at,
    ) else {
        return Ok(Outcome::Skipped);
    };
    let unsubscribe_url = if is_account_mail(row.kind) {
        None
    } else {
        let token = unsubscribe_token(state, recipient.id)?;
        Some(format!(
            "{}/mail/unsubscribe?u={}&t={token}",
            public_url(state),
            recipient.id
        ))
    };
    let (subject, text, html) = render(state, row, &recipient, unsubscribe_url.as_deref())?;
    let mut builder = Message::builder()
        .from(state.settings.mail.from.parse()?)
        .to(Mailbox::new(
            Some(recipient.display_name.clone()),
            email.parse()?,
        ))
        .subject(subject.clone());
    if let Some(url) = &unsubscribe_url {
        // RFC 2369 link plus RFC 8058 one-click: mail clients POST
        // `List-Unsubscribe=One-Click` to the URL, which carries the signed token.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let message = builder.multipart(MultiPart::alternative_plain_html(text, html))?;
    transport.send(row.id, message).await?;
    Ok(Outcome::Sent(subject))
}

/// How long a sender's claim on a mail keeps other replicas away from it.
const CLAIM_SECONDS: i64 = 300;

/// Deliver every due mail once. Returns how many were sent.
pub async fn deliver_due(state: &MailContext, transport: &Transport) -> anyhow::Result<usize> {
    let due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Pending))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now()))
        .order_by_asc(mail_outbox::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for row in due {
        // Several replicas look at the outbox: a mail is sent by the one whose
        // conditional update moves its next attempt out of the others' view.
        // Should the process die before the result is stored, the mail is
        // tried again when the claim runs out.
        let claimed = mail_outbox::Entity::update_many()
            .col_expr(
                mail_outbox::Column::NextAttemptAt,
                sea_orm::sea_query::Expr::value(now() + chrono::Duration::seconds(CLAIM_SECONDS)),
            )
            .filter(mail_outbox::Column::Id.eq(row.id))
            .filter(mail_outbox::Column::Status.eq(MailStatus::Pending))
            .filter(mail_outbox::Column::NextAttemptAt.lte(now()))
            .exec(&state.db)
            .await?
            .rows_affected
            == 1;
        if !claimed {
            continue;
        }
        let outcome = deliver(state, transport, &row).await;
        let attempts = row.attempts + 1;
        let mut active = row.clone().into_active_model();
        active.attempts = Set(attempts);
        match outcome {
            Ok(Outcome::Sent(subject)) => {
                sent += 1;
                active.status = Set(MailStatus::Sent);
                active.subject = Set(Some(subject.chars().take(300).collect()));
                active.sent_at = Set(Some(now()));
                active.last_error = Set(None);
            }
            Ok(Outcome::Skipped) => active.status = Set(MailStatus::Skipped),
            Err(e) => {
                // The error names the server or the address problem, never credentials.
                let error: String = e.to_string().chars().take(500).collect();
                tracing::warn!(mail = row.id, attempts, error = %error, "mail not delivered");
                crate::metrics::mail_delivery_failed();
                active.last_error = Set(Some(error));
                if attempts >= MAX_ATTEMPTS {
                    active.status = Set(MailStatus::Failed);
                } else {
                    active.next_attempt_at =
                        Set(now() + chrono::Duration::seconds(backoff_seconds(attempts)));
                }
            }
        }
        // The token of an account mail is needed only until it is out (or given up).
        let finished = *active.status.as_ref() != MailStatus::Pending;
        if is_account_mail(row.kind) && finished {
            active.data = Set("{}".into());
        }
        active.update(&state.db).await?;
    }
    Ok(sent)
}

/// The sender job: look at the outbox every `poll_seconds` for as long as the
/// process runs.
pub async fn run_sender(state: MailContext, mut stop: tokio::sync::watch::Receiver<bool>) {
    let transport = match Transport::from_settings(&state.settings) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "mail sender not started");
            return;
        }
    };
    let pause = std::time::Duration::from_secs(state.settings.mail.poll_seconds.max(1));
    // A round that has begun is finished before the sender stops (shutdown).
    while !*stop.borrow() {
        if let Err(e) = deliver_due(&state, &transport).await {
            tracing::warn!(error = %e, "mail sender round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Mails given up on after `MAX_ATTEMPTS`, newest first, for admins.
pub async fn failed(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::auth::session::CurrentUser,
) -> Result<Vec<mail_outbox::Model>, crate::errors::AppError> {
    if !actor.role.is_admin() {
        return Err(crate::errors::AppError::forbidden());
    }
    Ok(mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Failed))
        .order_by_desc(mail_outbox::Column::Id)
        .limit(100)
        .all(db)
        .await?)
}

/// Switch every notification mail off for a person (unsubscribe link);
/// mails about the account itself (verification, password reset) still go out.
pub async fn unsubscribe(state: &MailContext, user_id: i64) -> Result<(), sea_orm::DbErr> {
    if let Some(found) = user::Entity::find_by_id(user_id).one(&state.db).await? {
        let mut active = found.into_active_model();
        active.mail_notifications = Set(false);
        active.mail_idea_updates = Set(false);
        active.mail_statements = Set(false);
        active.mail_consultations = Set(false);
        active.update(&state.db).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Deserialize, Default)]
pub struct Preferences {
    #[serde(default)]
    pub idea_updates: Option<String>,
    #[serde(default)]
    pub statements: Option<String>,
    #[serde(default)]
    pub consultations: Option<String>,
    #[serde(default)]
    pub locale: String,
}

/// Save the person's mail preferences (checkboxes send a value only when ticked).
pub async fn save_preferences(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::auth::session::CurrentUser,
    prefs: &Preferences,
) -> Result<user::Model, crate::errors::AppError> {
    let locale = Locale::parse(&prefs.locale)
        .ok_or(crate::errors::AppError::field("locale", "invalid_input"))?;
    let found = user::Entity::find_by_id(actor.id)
        .one(db)
        .await?
        .ok_or(crate::errors::AppError::NotFound)?;
    let mut active = found.into_active_model();
    let (ideas, statements, consultations) = (
        prefs.idea_updates.is_some(),
        prefs.statements.is_some(),
        prefs.consultations.is_some(),
    );
    active.mail_idea_updates = Set(ideas);
    active.mail_statements = Set(statements);
    active.mail_consultations = Set(consultations);
    // Ticking a kind again undoes an earlier one-click unsubscribe.
    active.mail_notifications = Set(ideas || statements || consultations);
    active.mail_locale = Set(Some(locale.code().to_owned()));
    Ok(active.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_seconds(1), 2);
        assert_eq!(backoff_seconds(3), 8);
        assert_eq!(backoff_seconds(40), 3600);
    }
}
