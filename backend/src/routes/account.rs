use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::i18n::Locale;
use crate::routes::context::{Ctx, CurrentUser, LoggedIn};
use crate::routes::see_other;
use crate::routes::views::{FieldErrors, date};
use crate::services::{sessions, users};
use sea_orm::EntityTrait;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(update)
        .service(log_out_everywhere)
        .service(preferences)
        .service(save_preferences);
}

/// A language to choose.
#[derive(Serialize)]
struct LocaleChoice {
    code: &'static str,
    label: String,
    selected: bool,
}

fn locale_choices(ctx: &Ctx, selected: impl Fn(Locale) -> bool) -> Vec<LocaleChoice> {
    Locale::ALL
        .iter()
        .map(|l| LocaleChoice {
            code: l.code(),
            label: ctx.t(&format!("language.{}", l.code())),
            selected: selected(*l),
        })
        .collect()
}

#[derive(Serialize)]
struct AccountPage<'a> {
    display_name: &'a str,
    email: Option<String>,
    role: String,
    created_at: String,
    locales: Vec<LocaleChoice>,
    errors: FieldErrors,
    providers: Vec<ProviderLink>,
    has_identity: bool,
    /// Live sessions of the person (this one included) and whether there
    /// are others.
    session_count: u64,
    other_sessions: bool,
}

/// The account page; after a rejected form the caller answers 422.
async fn account_page(
    ctx: &Ctx,
    me: &CurrentUser,
    display_name: Option<&str>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let row = crate::entities::user::Entity::find_by_id(me.id)
        .one(&ctx.state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let session_count = sessions::count_for_user(&ctx.state.db, me.id).await?.max(1);
    let page = AccountPage {
        display_name: display_name.unwrap_or(&row.display_name),
        email: row.email.clone(),
        role: ctx.t(&format!("roles.{}", row.role)),
        created_at: date(ctx.locale, &row.created_at),
        locales: locale_choices(ctx, |l| row.locale == l.code()),
        errors,
        providers: providers(ctx, "link=1"),
        has_identity: row.oidc_subject_hash.is_some()
            && !crate::services::oidc::is_staff_identity(
                &ctx.state.settings,
                row.identity_provider.as_deref(),
            ),
        session_count,
        other_sessions: session_count > 1,
    };
    ctx.render("account", &ctx.t("account.title"), page)
}

/// A login or linking button.
#[derive(Serialize)]
pub struct ProviderLink {
    pub label: String,
    pub href: String,
}

/// Configured citizen providers (MitID) for login and linking buttons.
/// `query` is appended to each start link (already URL-encoded).
pub fn providers(ctx: &Ctx, query: &str) -> Vec<ProviderLink> {
    crate::services::oidc::citizen_providers(&ctx.state.settings)
        .into_iter()
        .map(|(name, label)| ProviderLink {
            label,
            href: format!("/auth/oidc/{name}/start?{query}"),
        })
        .collect()
}

#[get("/account")]
pub async fn show(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    account_page(&ctx, &me, None, FieldErrors::default()).await
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
    let saved = users::update_profile(&ctx.state.db, &me, &form.display_name, locale).await;
    ctx.form_result(
        saved,
        |_| {
            ctx.flash("success", "account.saved");
            ctx.tell_about_personal_data(&[&form.display_name], &[]);
            Ok(see_other("/account"))
        },
        async |errors| account_page(&ctx, &me, Some(&form.display_name), errors).await,
    )
    .await
}

/// "Log out on all devices": every session of the person ends, this one too;
/// the login page says so.
#[post("/account/log-out-everywhere")]
pub async fn log_out_everywhere(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    sessions::end_all_for_user(&ctx.state.db, me.id).await?;
    // This browser goes on without login, with a new key, to carry the message.
    ctx.session.remove(crate::auth::session::SESSION_USER);
    ctx.session.renew();
    ctx.flash("success", "account.logged_out_everywhere");
    Ok(see_other("/login"))
}

#[derive(Serialize)]
struct PreferencesPage {
    idea_updates: bool,
    statements: bool,
    consultations: bool,
    locales: Vec<LocaleChoice>,
}

fn preferences_page(
    ctx: &Ctx,
    row: &crate::entities::user::Model,
) -> Result<HttpResponse, AppError> {
    let current = crate::services::mail::mail_locale(row);
    let page = PreferencesPage {
        idea_updates: row.mail_notifications && row.mail_idea_updates,
        statements: row.mail_notifications && row.mail_statements,
        consultations: row.mail_notifications && row.mail_consultations,
        locales: locale_choices(ctx, |l| l == current),
    };
    ctx.render("preferences", &ctx.t("preferences.title"), page)
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
