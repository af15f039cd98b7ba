//! Unsubscribe links from mails. The link (GET) shows a page with a button,
//! so link scanners that fetch the URL unsubscribe nobody. Mail clients that
//! support RFC 8058 POST `List-Unsubscribe=One-Click` to the same URL, which
//! carries the signed token; that POST needs no session and no CSRF token.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::services::mail;

/// The path that the CSRF guard lets through without a token.
pub use crate::auth::csrf::ONE_CLICK_UNSUBSCRIBE_PATH as ONE_CLICK_PATH;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(unsubscribe_form).service(unsubscribe);
}

#[derive(Deserialize)]
pub struct Link {
    u: i64,
    t: String,
}

/// `u` and `t` in the query (the header's URL) or in the form (older links).
#[derive(Deserialize, Default)]
pub struct MaybeLink {
    u: Option<i64>,
    t: Option<String>,
}

#[derive(Serialize)]
struct UnsubscribePage<'a> {
    u: Option<i64>,
    t: Option<&'a str>,
    done: bool,
}

#[get("/mail/unsubscribe")]
pub async fn unsubscribe_form(ctx: Ctx, link: web::Query<Link>) -> Result<HttpResponse, AppError> {
    if !mail::unsubscribe_token_valid(&ctx.state.mail_context(), link.u, &link.t) {
        return Err(AppError::BadRequest("mail.invalid_link"));
    }
    ctx.render(
        "mail_unsubscribe",
        &ctx.t("mail.unsubscribe_heading"),
        UnsubscribePage {
            u: Some(link.u),
            t: Some(&link.t),
            done: false,
        },
    )
}

#[post("/mail/unsubscribe")]
pub async fn unsubscribe(
    ctx: Ctx,
    query: web::Query<MaybeLink>,
    form: Option<web::Form<MaybeLink>>,
) -> Result<HttpResponse, AppError> {
    let form = form.map(web::Form::into_inner).unwrap_or_default();
    let (Some(u), Some(t)) = (query.u.or(form.u), query.t.clone().or(form.t)) else {
        return Err(AppError::BadRequest("mail.invalid_link"));
    };
    if !mail::unsubscribe_token_valid(&ctx.state.mail_context(), u, &t) {
        return Err(AppError::BadRequest("mail.invalid_link"));
    }
    mail::unsubscribe(&ctx.state.mail_context(), u).await?;
    ctx.render(
        "mail_unsubscribe",
        &ctx.t("mail.unsubscribe_heading"),
        UnsubscribePage {
            u: None,
            t: None,
            done: true,
        },
    )
}
