//! A person's notifications: changes to the ideas and consultations they
//! follow.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use serde_json::Value;

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
    title: String,
    status_label: String,
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
            NotificationItem {
                href: format!("/ideas/{}", n.subject_id),
                title: data["title"].as_str().unwrap_or_default().to_owned(),
                status_label: data["status"]
                    .as_str()
                    .and_then(IdeaStatus::parse)
                    .map(|s| status_label(&ctx, s))
                    .unwrap_or_default(),
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
