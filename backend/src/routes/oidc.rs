//! Login with OpenID Connect providers (MitID): start, callback and the
//! first-login page where a new citizen picks a display name.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::auth::session;
use crate::errors::AppError;
use crate::local_path::LocalPath;
use crate::routes::context::Ctx;
use crate::routes::see_other;
use crate::routes::views::FieldErrors;
use crate::services::oidc::{self, Callback, Identity, OidcError, PendingLogin};
use crate::services::users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(callback)
        .service(welcome_form)
        .service(welcome);
}

#[derive(Deserialize, Default)]
pub struct StartQuery {
    next: Option<String>,
    /// `1`: link the identity to the logged-in account instead of logging in.
    link: Option<String>,
}

#[derive(Serialize)]
struct ErrorPage {
    message: String,
    linking: bool,
}

#[derive(Serialize)]
struct WelcomePage<'a> {
    display_name: &'a str,
    errors: FieldErrors,
    staff: bool,
}

fn error_page(ctx: &Ctx, error: OidcError) -> Result<HttpResponse, AppError> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    ctx.render_status(
        status,
        "oidc_error",
        &ctx.t("oidc.error_title"),
        ErrorPage {
            message: ctx.t(error.key()),
            linking: ctx.user.is_some(),
        },
    )
}

fn session_error(e: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {e}"))
}

/// A plain link: `/auth/oidc/mitid/start` sends the browser to the provider.
#[get("/auth/oidc/{provider}/start")]
pub async fn start(
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let next = LocalPath::or(query.next.as_deref(), "/account");
    let link_user = match (&ctx.user, query.link.as_deref()) {
        (Some(user), Some("1")) => Some(user.id),
        _ => None,
    };
    match oidc::start(
        &ctx.state.settings,
        &ctx.state.oidc_metadata,
        &name,
        next,
        link_user,
    )
    .await
    {
        Ok((url, pending)) => {
            ctx.session
                .insert(oidc::SESSION_PENDING, pending)
                .map_err(session_error)?;
            Ok(see_other(&url))
        }
        Err(e) => error_page(&ctx, e),
    }
}

#[get("/auth/oidc/{provider}/callback")]
pub async fn callback(
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    // Taken out before anything is checked: a pending login is used once.
    let pending: Option<PendingLogin> = ctx
        .session
        .remove_as(oidc::SESSION_PENDING)
        .and_then(Result::ok);
    let next = pending
        .as_ref()
        .map(|p| p.next.clone())
        .unwrap_or_else(|| LocalPath::or(None, "/account"));
    let link_user = pending.as_ref().and_then(|p| p.link_user);
    let assist = pending.as_ref().is_some_and(|p| p.assist);
    let identity = match oidc::finish(
        &ctx.state.settings,
        &ctx.state.oidc_metadata,
        &name,
        pending,
        query.into_inner(),
    )
    .await
    {
        Ok(identity) => identity,
        Err(e) => return error_page(&ctx, e),
    };
    if assist {
        // A citizen at the service desk: the staff member stays logged in.
        return super::staff::desk::mitid_returned(&ctx, identity).await;
    }
    if let Some(user_id) = link_user.filter(|id| ctx.user.as_ref().is_some_and(|u| u.id == *id)) {
        return match users::link_identity(&ctx.state.db, user_id, &identity).await {
            Ok(_) => {
                ctx.flash("success", "oidc.linked");
                Ok(see_other("/account"))
            }
            Err(AppError::Conflict(key)) => ctx.render_status(
                StatusCode::CONFLICT,
                "oidc_error",
                &ctx.t("oidc.error_title"),
                ErrorPage {
                    message: ctx.t(key),
                    linking: true,
                },
            ),
            Err(e) => Err(e),
        };
    }
    match users::log_in_with_identity(&ctx.state.db, &identity).await? {
        Some(user) => {
            session::log_in(&ctx.session, user.id).map_err(session_error)?;
            mark_identity_login(&ctx)?;
            Ok(see_other(super::politician::landing(
                next.as_str(),
                user.role,
            )))
        }
        None => {
            // First login: keep the verified identity until a name is chosen.
            ctx.session.renew();
            ctx.session
                .insert(oidc::SESSION_NEW_IDENTITY, (identity, next))
                .map_err(session_error)?;
            Ok(see_other("/auth/oidc/welcome"))
        }
    }
}

fn new_identity(ctx: &Ctx) -> Option<(Identity, LocalPath)> {
    ctx.session
        .get::<(Identity, LocalPath)>(oidc::SESSION_NEW_IDENTITY)
        .ok()
        .flatten()
}

#[get("/auth/oidc/welcome")]
pub async fn welcome_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let Some((identity, _)) = new_identity(&ctx) else {
        return error_page(&ctx, OidcError::NoPendingLogin);
    };
    ctx.render(
        "oidc_welcome",
        &ctx.t("oidc.welcome_title"),
        WelcomePage {
            display_name: "",
            errors: FieldErrors::default(),
            staff: !identity.citizen,
        },
    )
}

#[derive(Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    display_name: String,
}

/// Remember when this session logged in with an identity provider: a fresh
/// MitID login confirms deleting an account without a password.
fn mark_identity_login(ctx: &Ctx) -> Result<(), AppError> {
    ctx.session
        .insert(
            crate::routes::data_rights::SESSION_IDENTITY_LOGIN_AT,
            chrono::Utc::now().timestamp(),
        )
        .map_err(session_error)
}

#[post("/auth/oidc/welcome")]
pub async fn welcome(ctx: Ctx, form: web::Form<WelcomeForm>) -> Result<HttpResponse, AppError> {
    let Some((identity, next)) = new_identity(&ctx) else {
        return error_page(&ctx, OidcError::NoPendingLogin);
    };
    let created =
        users::create_from_identity(&ctx.state.db, &identity, &form.display_name, ctx.locale).await;
    ctx.form_result(
        created,
        |user| {
            ctx.session.remove(oidc::SESSION_NEW_IDENTITY);
            session::log_in(&ctx.session, user.id).map_err(session_error)?;
            mark_identity_login(&ctx)?;
            ctx.flash("success", "register.welcome");
            ctx.tell_about_personal_data(&[&form.display_name], &[]);
            Ok(see_other(next.as_str()))
        },
        async |errors| {
            let page = WelcomePage {
                display_name: &form.display_name,
                errors,
                staff: !identity.citizen,
            };
            ctx.render("oidc_welcome", &ctx.t("oidc.welcome_title"), page)
        },
    )
    .await
}
