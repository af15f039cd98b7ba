use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use crate::errors::AppError;
use crate::i18n::Locale;
use crate::routes::context::{Ctx, CurrentUser, LoggedIn};
use crate::routes::see_other;
use crate::routes::views::{date, field_errors};
use crate::services::users;
use sea_orm::EntityTrait;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(update)
        .service(preferences)
        .service(save_preferences);
}

async fn account_page(
    ctx: &Ctx,
    status: StatusCode,
    display_name: Option<&str>,
    errors: serde_json::Value,
    me: &CurrentUser,
) -> Result<HttpResponse, AppError> {
    let row = crate::entities::user::Entity::find_by_id(me.id)
        .one(&ctx.state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let role_label = ctx.t(&format!("roles.{}", row.role));
    let locales: Vec<_> = Locale::ALL
        .iter()
        .map(|l| json!({ "code": l.code(), "label": ctx.t(&format!("language.{}", l.code())), "selected": row.locale == l.code() }))
        .collect();
    ctx.render_status(
        status,
        "account",
        &ctx.t("account.title"),
        json!({
            "display_name": display_name.unwrap_or(&row.display_name),
            "email": row.email,
            "role": role_label,
            "created_at": date(ctx.locale, &row.created_at),
            "locales": locales,
            "errors": errors,
            "providers": providers(ctx, "link=1"),
            "has_identity": row.oidc_subject_hash.is_some()
                && !crate::services::oidc::is_staff_identity(
                    &ctx.state.settings,
                    row.identity_provider.as_deref(),
                ),
        }),
    )
}

/// Configured citizen providers (MitID) for login and linking buttons.
/// `query` is appended to each start link (already URL-encoded).
pub fn providers(ctx: &Ctx, query: &str) -> Vec<serde_json::Value> {
    crate::services::oidc::citizen_providers(&ctx.state.settings)
        .into_iter()
        .map(|(name, label)| {
            json!({ "label": label, "href": format!("/auth/oidc/{name}/start?{query}") })
        })
        .collect()
}

#[get("/account")]
pub async fn show(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    account_page(&ctx, StatusCode::OK, None, json!({}), &me).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    locale: String,
}

#[post("/account")]
pub async fn update(
    form: web::Form<ProfileForm>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    let locale = Locale::parse(&form.locale);
    match users::update_profile(&ctx.state.db, &me, &form.display_name, locale).await {
        Ok(_) => {
            ctx.flash("success", "account.saved");
            Ok(see_other("/account"))
        }
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&ctx.state.catalogs, ctx.locale, &errors);
            account_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&form.display_name),
                errors,
                &me,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

fn preferences_page(
    ctx: &Ctx,
    row: &crate::entities::user::Model,
) -> Result<HttpResponse, AppError> {
    let current = crate::services::mail::mail_locale(row);
    let locales: Vec<_> = Locale::ALL
        .iter()
        .map(|l| json!({ "code": l.code(), "label": ctx.t(&format!("language.{}", l.code())), "selected": *l == current }))
        .collect();
    ctx.render(
        "preferences",
        &ctx.t("preferences.title"),
        json!({
            "idea_updates": row.mail_notifications && row.mail_idea_updates,
            "statements": row.mail_notifications && row.mail_statements,
            "consultations": row.mail_notifications && row.mail_consultations,
            "locales": locales,
        }),
    )
}

#[get("/account/preferences")]
pub async fn preferences(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    let row = crate::entities::user::Entity::find_by_id(me.id)
        .one(&ctx.state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    preferences_page(&ctx, &row)
}

#[post("/account/preferences")]
pub async fn save_preferences(
    form: web::Form<crate::services::mail::Preferences>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    crate::services::mail::save_preferences(&ctx.state.db, &me, &form).await?;
    ctx.flash("success", "preferences.saved");
    Ok(see_other("/account/preferences"))
}
