//! Unsubscribe links from mails: a page with a button (so link scanners that
//! fetch the URL do not unsubscribe anyone), then the change.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::services::mail;

#[derive(Deserialize)]
pub struct Link {
    u: i64,
    t: String,
}

#[get("/mail/unsubscribe")]
pub async fn unsubscribe_form(ctx: Ctx, link: web::Query<Link>) -> Result<HttpResponse, AppError> {
    if !mail::unsubscribe_token_valid(&ctx.state, link.u, &link.t) {
        return Err(AppError::BadRequest("mail.invalid_link"));
    }
    ctx.render(
        "mail_unsubscribe",
        &ctx.t("mail.unsubscribe_heading"),
        json!({ "u": link.u, "t": link.t, "done": false }),
    )
}

#[post("/mail/unsubscribe")]
pub async fn unsubscribe(ctx: Ctx, link: web::Form<Link>) -> Result<HttpResponse, AppError> {
    if !mail::unsubscribe_token_valid(&ctx.state, link.u, &link.t) {
        return Err(AppError::BadRequest("mail.invalid_link"));
    }
    mail::unsubscribe(&ctx.state, link.u).await?;
    ctx.render(
        "mail_unsubscribe",
        &ctx.t("mail.unsubscribe_heading"),
        json!({ "done": true }),
    )
}
