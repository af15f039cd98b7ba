//! A person's notifications: changes to the ideas and consultations they
//! follow.

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::routes::ideas::status_label;
use crate::routes::see_other;
use crate::routes::views::date;
use crate::services::ideas::IdeaStatus;
use crate::services::notifications;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(notification_list).service(notifications_read);
}

#[get("/notifications")]
pub async fn notification_list(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?;
    let list = notifications::list(&ctx.state.db, me).await?;
    let items: Vec<_> = list
        .iter()
        .map(|n| {
            let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
            let status = data["status"]
                .as_str()
                .and_then(IdeaStatus::parse)
                .map(|s| status_label(&ctx, s))
                .unwrap_or_default();
            json!({
                "href": format!("/ideas/{}", n.subject_id),
                "title": data["title"].as_str().unwrap_or_default(),
                "status_label": status,
                "date": date(ctx.locale, &n.created_at),
                "unread": n.read_at.is_none(),
            })
        })
        .collect();
    ctx.render(
        "notifications",
        &ctx.t("notifications.title"),
        json!({ "items": items, "has_unread": ctx.unread_notifications > 0 }),
    )
}

#[post("/notifications/read")]
pub async fn notifications_read(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_user()?.clone();
    notifications::mark_all_read(&ctx.state.db, &me).await?;
    ctx.flash("success", "notifications.marked_read");
    Ok(see_other("/notifications"))
}
