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
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::entities::{mail_outbox, user};
use crate::i18n::Locale;
use crate::state::AppState;

use super::now;

pub const KIND_IDEA_STATUS: &str = "idea_status";
pub const MAX_ATTEMPTS: i32 = 10;
const BATCH: u64 = 20;

/// Queue a mail to `user_id`, in the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    kind: &str,
    data: &Value,
) -> Result<(), sea_orm::DbErr> {
    let at = now();
    mail_outbox::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        data: Set(data.to_string()),
        status: Set("pending".into()),
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
pub fn unsubscribe_token(state: &AppState, user_id: i64) -> anyhow::Result<String> {
    let secret = state.settings.hmac_secret()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret)
        .map_err(|e| anyhow::anyhow!("HMAC key: {e}"))?;
    mac.update(format!("unsubscribe:{user_id}").as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

pub fn unsubscribe_token_valid(state: &AppState, user_id: i64, token: &str) -> bool {
    unsubscribe_token(state, user_id)
        .is_ok_and(|t| t.len() == token.len() && t.bytes().zip(token.bytes()).all(|(a, b)| a == b))
}

fn public_url(state: &AppState) -> String {
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
    state: &AppState,
    row: &mail_outbox::Model,
    recipient: &user::Model,
    unsubscribe_url: &str,
) -> anyhow::Result<(String, String, String)> {
    let locale = Locale::parse(&recipient.locale).unwrap_or(Locale::Da);
    let data: Value = serde_json::from_str(&row.data)?;
    let base = public_url(state);
    let mut context = json!({
        "t": state.catalogs.catalog(locale),
        "lang": locale.code(),
        "name": recipient.display_name,
        "unsubscribe_url": unsubscribe_url,
        "data": data,
    });
    let subject = match row.kind.as_str() {
        KIND_IDEA_STATUS => {
            let status = data["status"].as_str().unwrap_or_default();
            let label = state
                .catalogs
                .text(locale, &format!("idea_status.{status}"));
            context["status_label"] = json!(label);
            context["url"] = json!(format!("{base}/ideas/{}", data["idea_id"]));
            state
                .catalogs
                .text(locale, "mail.idea_status.subject")
                .replace("{title}", data["title"].as_str().unwrap_or_default())
        }
        other => anyhow::bail!("unknown mail kind {other}"),
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
    Sent,
    Skipped,
}

async fn deliver(
    state: &AppState,
    transport: &Transport,
    row: &mail_outbox::Model,
) -> anyhow::Result<Outcome> {
    let Some(recipient) = user::Entity::find_by_id(row.user_id).one(&state.db).await? else {
        return Ok(Outcome::Skipped);
    };
    let (Some(email), true, None) = (
        recipient.email.clone(),
        recipient.mail_notifications,
        recipient.deleted_at,
    ) else {
        return Ok(Outcome::Skipped);
    };
    let token = unsubscribe_token(state, recipient.id)?;
    let unsubscribe_url = format!(
        "{}/mail/unsubscribe?u={}&t={token}",
        public_url(state),
        recipient.id
    );
    let (subject, text, html) = render(state, row, &recipient, &unsubscribe_url)?;
    let message = Message::builder()
        .from(state.settings.mail.from.parse()?)
        .to(Mailbox::new(
            Some(recipient.display_name.clone()),
            email.parse()?,
        ))
        .subject(subject)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{unsubscribe_url}>"),
        ))
        .multipart(MultiPart::alternative_plain_html(text, html))?;
    transport.send(row.id, message).await?;
    Ok(Outcome::Sent)
}

/// Deliver every due mail once. Returns how many were sent.
pub async fn deliver_due(state: &AppState, transport: &Transport) -> anyhow::Result<usize> {
    let due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq("pending"))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now()))
        .order_by_asc(mail_outbox::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for row in due {
        let outcome = deliver(state, transport, &row).await;
        let attempts = row.attempts + 1;
        let mut active = row.clone().into_active_model();
        active.attempts = Set(attempts);
        match outcome {
            Ok(Outcome::Sent) => {
                sent += 1;
                active.status = Set("sent".into());
                active.sent_at = Set(Some(now()));
                active.last_error = Set(None);
            }
            Ok(Outcome::Skipped) => active.status = Set("skipped".into()),
            Err(e) => {
                // The error names the server or the address problem, never credentials.
                let error: String = e.to_string().chars().take(500).collect();
                tracing::warn!(mail = row.id, attempts, error = %error, "mail not delivered");
                active.last_error = Set(Some(error));
                if attempts >= MAX_ATTEMPTS {
                    active.status = Set("failed".into());
                } else {
                    active.next_attempt_at =
                        Set(now() + chrono::Duration::seconds(backoff_seconds(attempts)));
                }
            }
        }
        active.update(&state.db).await?;
    }
    Ok(sent)
}

/// The sender job: look at the outbox every `poll_seconds` for as long as the
/// process runs.
pub async fn run_sender(state: AppState) {
    let transport = match Transport::from_settings(&state.settings) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "mail sender not started");
            return;
        }
    };
    let pause = std::time::Duration::from_secs(state.settings.mail.poll_seconds.max(1));
    loop {
        if let Err(e) = deliver_due(&state, &transport).await {
            tracing::warn!(error = %e, "mail sender round failed");
        }
        tokio::time::sleep(pause).await;
    }
}

/// Mails given up on after `MAX_ATTEMPTS`, newest first, for admins.
pub async fn failed(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::auth::session::CurrentUser,
) -> Result<Vec<mail_outbox::Model>, crate::errors::ServiceError> {
    if !actor.role.is_admin() {
        return Err(crate::errors::ServiceError::Forbidden);
    }
    Ok(mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq("failed"))
        .order_by_desc(mail_outbox::Column::Id)
        .limit(100)
        .all(db)
        .await?)
}

/// Switch mail off for a person (unsubscribe link or preferences).
pub async fn unsubscribe(state: &AppState, user_id: i64) -> Result<(), sea_orm::DbErr> {
    if let Some(found) = user::Entity::find_by_id(user_id).one(&state.db).await? {
        let mut active = found.into_active_model();
        active.mail_notifications = Set(false);
        active.update(&state.db).await?;
    }
    Ok(())
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
