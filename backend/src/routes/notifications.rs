//! A person's notifications: changes to the ideas and consultations they
//! follow, moderation of their statements and replies to their comments.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use serde_json::Value;

use crate::domain::NotificationKind;
use crate::errors::AppError;
use crate::routes::context::LoggedIn;
use crate::routes::ideas::status_label;
use crate::routes::see_other;
use crate::routes::views::date;
use crate::services::ideas::IdeaStatus;
use crate::services::notifications;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(notification_list).service(notifications_read);
}

#[derive(Serialize)]
struct NotificationItem {
    href: String,
    /// What happened, in words.
    text: String,
    /// The link's words.
    link: String,
    title: String,
    date: String,
    unread: bool,
}

#[derive(Serialize)]
struct NotificationsPage {
    items: Vec<NotificationItem>,
    has_unread: bool,
}

#[get("/notifications")]
pub async fn notification_list(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    let list = notifications::list(&ctx.state.db, &me).await?;
    let items = list
        .iter()
        .map(|n| {
            // The notification's own record of what changed.
            let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
            let title = data["title"].as_str().unwrap_or_default().to_owned();
            let (href, text, link) = match n.kind {
                NotificationKind::IdeaStatus => {
                    let status = data["status"]
                        .as_str()
                        .and_then(IdeaStatus::parse)
                        .map(|s| status_label(&ctx, s))
                        .unwrap_or_default();
                    (
                        format!("/ideas/{}", n.subject_id),
                        ctx.t("notifications.idea_status")
                            .replace("{title}", &title)
                            .replace("{status}", &status),
                        ctx.t("notifications.open"),
                    )
                }
                NotificationKind::StatementModerated => {
                    let slug = data["slug"].as_str().unwrap_or_default();
                    let reason = data["reason"].as_str().unwrap_or_default();
                    let key = if data["accepted"].as_bool().unwrap_or(false) {
                        "complaints.notification_accepted"
                    } else {
                        "complaints.notification_rejected"
                    };
                    (
                        format!("/consultations/{slug}"),
                        ctx.t(key).replace("{reason}", reason),
                        ctx.t("complaints.notification_open_conversation"),
                    )
                }
                NotificationKind::CommentReply => (
                    format!("/ideas/{}#comment-{}", data["idea_id"], n.subject_id),
                    ctx.t("complaints.notification_reply")
                        .replace("{title}", &title),
                    ctx.t("complaints.notification_open_reply"),
                ),
            };
            NotificationItem {
                href,
                text,
                link,
                title,
                date: date(ctx.locale, &n.created_at),
                unread: n.read_at.is_none(),
            }
        })
        .collect();
    let page = NotificationsPage {
        items,
        has_unread: ctx.unread_notifications > 0,
    };
    ctx.render("notifications", &ctx.t("notifications.title"), page)
}

#[post("/notifications/read")]
pub async fn notifications_read(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    notifications::mark_all_read(&ctx.state.db, &me).await?;
    ctx.flash("success", "notifications.marked_read");
    Ok(see_other("/notifications"))
}
