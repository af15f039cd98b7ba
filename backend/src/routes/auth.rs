use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::auth::session;
use crate::errors::AppError;
use crate::local_path::LocalPath;
use crate::routes::account::ProviderLink;
use crate::routes::context::{Ctx, LoggedIn};
use crate::routes::see_other;
use crate::routes::views::FieldErrors;
use crate::services::rate_limits::Client;
use crate::services::users::{self, Login, Registration, Throttle};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form)
        .service(login)
        .service(register_form)
        .service(register)
        .service(register_sent)
        .service(logout)
        .service(verify_email)
        .service(resend_verification)
        .service(forgot_form)
        .service(forgot)
        .service(reset_form)
        .service(reset);
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

fn providers(ctx: &Ctx, next: &str) -> Vec<ProviderLink> {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    crate::routes::account::providers(ctx, &query)
}

/// Staff directory logins: a plain link each, labelled with the configured
/// label or "Staff login".
fn staff_links(ctx: &Ctx, next: &str) -> Vec<ProviderLink> {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    crate::services::oidc::staff_providers(&ctx.state.settings)
        .into_iter()
        .map(|(name, label)| ProviderLink {
            label: label.unwrap_or_else(|| ctx.t("oidc.staff_login")),
            href: format!("/auth/oidc/{name}/start?{query}"),
        })
        .collect()
}

#[derive(Serialize)]
struct LoginPage<'a> {
    next: &'a str,
    email: &'a str,
    failed: bool,
    /// Minutes to wait after too many failed attempts from this client.
    throttled: Option<String>,
    /// Minutes password login for this address pauses after failures from
    /// many places.
    throttled_address: Option<String>,
    providers: Vec<ProviderLink>,
    staff_providers: Option<Vec<ProviderLink>>,
}

impl<'a> LoginPage<'a> {
    fn new(ctx: &Ctx, next: &'a str, email: &'a str) -> Self {
        LoginPage {
            next,
            email,
            failed: false,
            throttled: None,
            throttled_address: None,
            providers: providers(ctx, next),
            staff_providers: Some(staff_links(ctx, next)),
        }
    }

    fn failed(mut self) -> Self {
        self.failed = true;
        self
    }
}

#[derive(Serialize)]
struct RegisterPage<'a> {
    form: &'a Registration,
    has_errors: bool,
    errors: FieldErrors,
}

#[derive(Serialize)]
struct VerifyPage {
    done: bool,
    problem: Option<String>,
}

#[derive(Serialize)]
struct ForgotPage {
    sent: bool,
}

#[derive(Serialize)]
struct ResetPage<'a> {
    problem: Option<String>,
    token: &'a str,
    has_errors: bool,
    errors: FieldErrors,
}

/// Where to go after logging in: `next` if it stays on this site, else the account page.
fn safe_next(next: Option<&str>) -> LocalPath {
    LocalPath::or(next, "/account")
}

#[get("/login")]
pub async fn login_form(ctx: Ctx, query: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    if ctx.user.is_some() {
        return Ok(see_other(safe_next(query.next.as_deref()).as_str()));
    }
    let next = safe_next(query.next.as_deref());
    let page = LoginPage::new(&ctx, next.as_str(), "");
    ctx.render("login", &ctx.t("login.title"), page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

#[post("/login")]
pub async fn login(
    ctx: Ctx,
    client: Client,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    if form.password.chars().count() > users::PASSWORD_MAX
        || form.email.chars().count() > users::EMAIL_MAX
    {
        return ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "login",
            &ctx.t("login.title"),
            LoginPage::new(&ctx, next.as_str(), "").failed(),
        );
    }
    let attempt = users::authenticate(&ctx.state.db, &client, &form.email, &form.password).await?;
    match attempt {
        Login::Ok(user) => {
            session::log_in(&ctx.session, user.id)
                .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session: {e}")))?;
            Ok(see_other(super::politician::landing(
                next.as_str(),
                user.role,
            )))
        }
        Login::Failed => ctx.render_status(
            StatusCode::UNAUTHORIZED,
            "login",
            &ctx.t("login.title"),
            LoginPage::new(&ctx, next.as_str(), form.email.trim()).failed(),
        ),
        Login::Throttled { wait, by } => {
            let minutes = crate::errors::wait_minutes(wait).to_string();
            let (throttled, throttled_address) = match by {
                Throttle::Client => (Some(minutes), None),
                Throttle::Address => (None, Some(minutes)),
            };
            let mut response = ctx.render_status(
                StatusCode::TOO_MANY_REQUESTS,
                "login",
                &ctx.t("login.title"),
                LoginPage {
                    throttled,
                    throttled_address,
                    staff_providers: None,
                    ..LoginPage::new(&ctx, next.as_str(), form.email.trim())
                },
            )?;
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(
                &crate::errors::retry_after_secs(wait),
            ) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

#[get("/register")]
pub async fn register_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    if ctx.user.is_some() {
        return Ok(see_other("/account"));
    }
    ctx.render(
        "register",
        &ctx.t("register.title"),
        RegisterPage {
            form: &Registration::default(),
            has_errors: false,
            errors: FieldErrors::default(),
        },
    )
}

/// The answer does not tell whether the address already had an account:
/// both go on to "check your inbox" (see `users::register`), so nobody is
/// logged in here; the new account logs in with its password.
#[post("/register")]
pub async fn register(
    ctx: Ctx,
    client: Client,
    form: web::Form<Registration>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let registered = users::register(&ctx.state.db, &form, ctx.locale, &client).await;
    ctx.form_result(
        registered,
        |()| Ok(see_other("/register/sent")),
        async |errors| {
            let page = RegisterPage {
                form: &form,
                has_errors: true,
                errors,
            };
            ctx.render("register", &ctx.t("register.title"), page)
        },
    )
    .await
}

#[get("/register/sent")]
pub async fn register_sent(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.render("register_sent", &ctx.t("register.sent_title"), ())
}

#[post("/logout")]
pub async fn logout(ctx: Ctx) -> Result<HttpResponse, AppError> {
    session::log_out(&ctx.session);
    Ok(see_other("/"))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The link in the verification mail. A GET does the work: the link only
/// proves that whoever holds the mail owns the address, which is what a
/// link scanner fetching it would prove too.
#[get("/verify-email")]
pub async fn verify_email(
    mut ctx: Ctx,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    match users::verify_email(&ctx.state.db, &query.token).await {
        Ok(verified) => {
            // The person was loaded before the change: show the page as it is now.
            if let Some(me) = ctx.user.as_mut().filter(|me| me.id == verified.id) {
                me.email_unverified = false;
            }
            ctx.render(
                "verify_email",
                &ctx.t("verify.heading"),
                VerifyPage {
                    done: true,
                    problem: None,
                },
            )
        }
        Err(AppError::Conflict(key)) => ctx.render_status(
            StatusCode::BAD_REQUEST,
            "verify_email",
            &ctx.t("verify.heading"),
            VerifyPage {
                done: false,
                problem: Some(ctx.t(key)),
            },
        ),
        Err(e) => Err(e),
    }
}

#[post("/verify-email/resend")]
pub async fn resend_verification(LoggedIn(ctx, me): LoggedIn) -> Result<HttpResponse, AppError> {
    match users::resend_verification(&ctx.state.db, &me).await {
        Ok(()) => ctx.flash("success", "verify.sent"),
        Err(AppError::Conflict(key)) => ctx.flash("error", key),
        Err(e) => return Err(e),
    }
    Ok(see_other("/account"))
}

#[get("/forgot-password")]
pub async fn forgot_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.render(
        "forgot_password",
        &ctx.t("reset.forgot_heading"),
        ForgotPage { sent: false },
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether or not the address has an account.
#[post("/forgot-password")]
pub async fn forgot(
    ctx: Ctx,
    client: Client,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    if form.email.chars().count() <= users::EMAIL_MAX {
        users::request_password_reset(&ctx.state.db, &client, &form.email).await?;
    }
    ctx.render(
        "forgot_password",
        &ctx.t("reset.forgot_heading"),
        ForgotPage { sent: true },
    )
}

/// A reset link that cannot be used: 410 when it expired, 400 otherwise, with
/// a way to ask for a new one.
fn reset_problem(ctx: &Ctx, key: &'static str) -> Result<HttpResponse, AppError> {
    let status = if key == "reset.expired" {
        StatusCode::GONE
    } else {
        StatusCode::BAD_REQUEST
    };
    ctx.render_status(
        status,
        "reset_password",
        &ctx.t("reset.heading"),
        ResetPage {
            problem: Some(ctx.t(key)),
            token: "",
            has_errors: false,
            errors: FieldErrors::default(),
        },
    )
}

#[get("/reset-password")]
pub async fn reset_form(ctx: Ctx, query: web::Query<TokenQuery>) -> Result<HttpResponse, AppError> {
    match users::check_reset_token(&ctx.state.db, &query.token).await {
        Ok(()) => ctx.render(
            "reset_password",
            &ctx.t("reset.heading"),
            ResetPage {
                problem: None,
                token: &query.token,
                has_errors: false,
                errors: FieldErrors::default(),
            },
        ),
        Err(AppError::Conflict(key)) => reset_problem(&ctx, key),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[post("/reset-password")]
pub async fn reset(ctx: Ctx, form: web::Form<ResetForm>) -> Result<HttpResponse, AppError> {
    let reset = users::reset_password(
        &ctx.state.db,
        &ctx.state.limits,
        &form.token,
        &form.password,
        &form.password_confirm,
    )
    .await;
    if let Err(AppError::Conflict(key)) = reset {
        return reset_problem(&ctx, key);
    }
    ctx.form_result(
        reset,
        |_| {
            // This browser's session, if any, ended with the others (kept
            // only to carry the message to the login page).
            ctx.session.remove(session::SESSION_USER);
            ctx.session.renew();
            ctx.flash("success", "reset.done");
            Ok(see_other("/login"))
        },
        async |errors| {
            let page = ResetPage {
                problem: None,
                token: &form.token,
                has_errors: true,
                errors,
            };
            ctx.render("reset_password", &ctx.t("reset.heading"), page)
        },
    )
    .await
}
