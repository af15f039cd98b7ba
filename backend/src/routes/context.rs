//! `Ctx`: everything a page handler needs about the request — locale, the
//! logged-in person, the CSRF token, flash messages — and the one place that
//! renders a page in the layout.

use actix_session::{Session, SessionExt};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, dev::Payload, web};
use futures::future::LocalBoxFuture;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::csrf;
pub use crate::auth::session::{CurrentUser, SESSION_USER};
use crate::entities::user;
use crate::errors::{AppError, FieldError};
use crate::i18n::Locale;
use crate::local_path::LocalPath;
use crate::routes::views::{FieldErrors, field_errors};
use crate::state::AppState;

const SESSION_FLASH: &str = "flash";
/// At most this many messages wait for the next page.
pub const FLASH_MAX: usize = 3;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub key: String,
}

pub struct Ctx {
    pub state: web::Data<AppState>,
    pub session: Session,
    pub locale: Locale,
    pub user: Option<CurrentUser>,
    /// Unread notifications of the logged-in person (shown in the header).
    pub unread_notifications: u64,
    /// Items in the moderation queue (staff only; shown in the staff navigation).
    pub moderation_waiting: u64,
    pub path: String,
    pub query: String,
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Ctx::extract(req.clone(), true))
    }
}

/// A [`Ctx`] for an action that answers with a redirect and renders no page
/// (a vote): the header's counts (unread notifications, the moderation
/// queue) are not read, which saves a query or two on the hot path. Its
/// `unread_notifications` and `moderation_waiting` are 0.
pub struct ActionCtx(pub Ctx);

impl FromRequest for ActionCtx {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ctx::extract(req, false).await.map(ActionCtx) })
    }
}

impl Ctx {
    async fn extract(req: HttpRequest, header_counts: bool) -> Result<Ctx, AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
        let session = req.get_session();
        let locale = request_locale(&req);
        let user = match session.get::<i64>(SESSION_USER).ok().flatten() {
            Some(id) => {
                let found = user::Entity::find_by_id(id).one(&state.db).await?;
                match found {
                    Some(u) if u.deleted_at.is_none() => {
                        let mut current = CurrentUser::from_model(&u);
                        // A staff directory login is no citizen identity.
                        current.has_identity &= !crate::services::oidc::is_staff_identity(
                            &state.settings,
                            u.identity_provider.as_deref(),
                        );
                        Some(current)
                    }
                    _ => {
                        // The account is gone: forget the stale session.
                        session.purge();
                        None
                    }
                }
            }
            None => None,
        };
        let unread_notifications = match &user {
            Some(u) if header_counts => {
                crate::services::notifications::unread_count(&state.db, u.id).await?
            }
            _ => 0,
        };
        let moderation_waiting = match &user {
            Some(u) if header_counts && u.role.is_staff() => {
                crate::services::workbench::count(&state.db, u).await?
            }
            _ => 0,
        };
        req.extensions_mut().insert(user.clone());
        Ok(Ctx {
            state,
            session,
            locale,
            user,
            unread_notifications,
            moderation_waiting,
            path: req.path().to_owned(),
            query: req.query_string().to_owned(),
        })
    }
}

/// Handler guards: a handler that takes one of these only runs for the right
/// person, and its signature says so. Each wraps [`Ctx`]: an anonymous visitor
/// is sent to the login page, a logged-in one without the role gets the 403
/// page. Services check authorisation again on their own.
///
/// Handlers take the guard after their path and form arguments: extractors
/// run in argument order, so a malformed path still answers 404 before the
/// login check, as it did when handlers checked by hand.
///
/// A logged-in person.
pub struct LoggedIn(pub Ctx, pub CurrentUser);

/// Council staff: moderators and administrators.
pub struct Staff(pub Ctx, pub CurrentUser);

/// Administrators.
pub struct Admin(pub Ctx, pub CurrentUser);

fn guarded<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    check: fn(&Ctx) -> Result<&CurrentUser, AppError>,
    wrap: fn(Ctx, CurrentUser) -> T,
) -> LocalBoxFuture<'static, Result<T, AppError>> {
    let ctx = Ctx::from_request(req, payload);
    Box::pin(async move {
        let ctx = ctx.await?;
        let user = check(&ctx)?.clone();
        Ok(wrap(ctx, user))
    })
}

impl FromRequest for LoggedIn {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        guarded(req, payload, Ctx::require_user, LoggedIn)
    }
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        guarded(req, payload, Ctx::require_staff, Staff)
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        guarded(req, payload, Ctx::require_admin, Admin)
    }
}

/// The locale decided by the locale middleware (query, cookie, browser).
pub fn request_locale(req: &HttpRequest) -> Locale {
    req.extensions()
        .get::<Locale>()
        .copied()
        .unwrap_or(Locale::Da)
}

impl Ctx {
    pub fn t(&self, key: &str) -> String {
        self.state.catalogs.text(self.locale, key)
    }

    /// The message `key` with its placeholders filled in; a number chooses
    /// the plural form of a Fluent message ("1 støtte", "2 støtter").
    pub fn tf(&self, key: &str, args: &[(&str, crate::messages::Arg)]) -> String {
        crate::messages::format(self.locale, &self.t(key), args)
    }

    pub fn require_user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::LoginRequired {
            next: self.full_path(),
        })
    }

    pub fn require_staff(&self) -> Result<&CurrentUser, AppError> {
        let user = self.require_user()?;
        if user.role.is_staff() {
            Ok(user)
        } else {
            Err(AppError::forbidden())
        }
    }

    pub fn require_admin(&self) -> Result<&CurrentUser, AppError> {
        let user = self.require_user()?;
        if user.role.is_admin() {
            Ok(user)
        } else {
            Err(AppError::forbidden())
        }
    }

    fn full_path(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// Queue a message for the next page. The queue is bounded: a message
    /// already waiting moves to the end instead of being repeated, and only
    /// the last [`FLASH_MAX`] are kept (many actions without a page view in
    /// between must not make the session grow without end).
    pub fn flash(&self, kind: &str, key: &str) {
        let mut list: Vec<Flash> = self
            .session
            .get(SESSION_FLASH)
            .ok()
            .flatten()
            .unwrap_or_default();
        list.retain(|f| !(f.kind == kind && f.key == key));
        list.push(Flash {
            kind: kind.to_owned(),
            key: key.to_owned(),
        });
        let excess = list.len().saturating_sub(FLASH_MAX);
        list.drain(..excess);
        if let Err(e) = self.session.insert(SESSION_FLASH, list) {
            tracing::warn!(error = %e, "queueing a message failed");
        }
    }

    /// Tell the citizen what happened to personal data in what they sent: a
    /// CPR number was removed (`cpr_checked`), or the text waits for a
    /// moderator because of a phone number, address or email (`review_checked`).
    pub fn tell_about_personal_data(&self, cpr_checked: &[&str], review_checked: &[&str]) {
        use crate::domain::personal_data;
        if cpr_checked.iter().any(|t| personal_data::contains_cpr(t)) {
            self.flash("error", "personal_data.cpr_masked");
        }
        if review_checked
            .iter()
            .any(|t| personal_data::needs_review(&personal_data::mask_cpr(t)))
        {
            self.flash("error", "personal_data.held_for_review");
        }
    }

    fn take_flash(&self) -> Vec<Value> {
        // Only touch the session when there is something to take: removing
        // marks it changed, which would cost a write on every page view.
        if !self.session.contains_key(SESSION_FLASH) {
            return Vec::new();
        }
        let list: Vec<Flash> = self
            .session
            .remove_as(SESSION_FLASH)
            .and_then(Result::ok)
            .unwrap_or_default();
        list.into_iter()
            .map(|f| json!({"kind": f.kind, "text": self.t(&f.key)}))
            .collect()
    }

    /// The data every page gets: locale, messages, the person, the CSRF token,
    /// navigation state.
    pub fn base(&self, title: &str) -> Value {
        let mut data = base_context(
            &self.state,
            self.locale,
            self.user.as_ref(),
            Some(&self.session),
            &self.path,
            title,
            self.take_flash(),
        );
        if let Some(user) = data.get_mut("user").and_then(Value::as_object_mut) {
            user.insert(
                "unread_notifications".into(),
                json!(self.unread_notifications),
            );
            user.insert("moderation_waiting".into(), json!(self.moderation_waiting));
        }
        // A citizen is being helped at the service desk in this session: every
        // page says so, so the staff member never acts as themselves by mistake.
        data["assisting"] = json!(
            self.session
                .contains_key(crate::services::assisted::SESSION_ASSIST)
        );
        data
    }

    /// Render `pages/{name}` with the base context plus `page` (a page's
    /// own typed data, under `page` in the template).
    pub fn render(
        &self,
        name: &str,
        title: &str,
        page: impl Serialize,
    ) -> Result<HttpResponse, AppError> {
        self.render_status(StatusCode::OK, name, title, page)
    }

    pub fn render_status(
        &self,
        status: StatusCode,
        name: &str,
        title: &str,
        page: impl Serialize,
    ) -> Result<HttpResponse, AppError> {
        let mut data = self.base(title);
        data["page"] = serde_json::to_value(page)
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("page data")))?;
        let html = render_page(&self.state, self.locale, &format!("pages/{name}"), data)?;
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html))
    }

    /// Field errors in the reader's language.
    pub fn field_errors(&self, errors: &[FieldError]) -> FieldErrors {
        field_errors(&self.state.catalogs, self.locale, errors)
    }

    /// What a form handler does with the service's answer: `done` with the
    /// result; on field errors the form again, rendered by `reshow` with the
    /// translated errors and answered with 422; any other error as it is.
    pub async fn form_result<T>(
        &self,
        result: Result<T, AppError>,
        done: impl FnOnce(T) -> Result<HttpResponse, AppError>,
        reshow: impl AsyncFnOnce(FieldErrors) -> Result<HttpResponse, AppError>,
    ) -> Result<HttpResponse, AppError> {
        match result {
            Ok(value) => done(value),
            Err(AppError::Validation(errors)) => {
                let mut page = reshow(self.field_errors(&errors)).await?;
                *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(page)
            }
            Err(e) => Err(e),
        }
    }
}

/// Render the page template `name` with `data` (from [`base_context`]) and
/// the locale's message catalogue as `t`.
pub fn render_page(
    state: &AppState,
    locale: Locale,
    name: &str,
    data: Value,
) -> anyhow::Result<String> {
    let Value::Object(data) = data else {
        anyhow::bail!("page data is no object");
    };
    state.views.render_page(name, &state.catalogs, locale, data)
}

pub fn base_context(
    state: &AppState,
    locale: Locale,
    user: Option<&CurrentUser>,
    session: Option<&Session>,
    path: &str,
    title: &str,
    flash: Vec<Value>,
) -> Value {
    let other = match locale {
        Locale::Da => Locale::En,
        Locale::En => Locale::Da,
    };
    let csrf_token = session.map(csrf::token).unwrap_or_default();
    // No `t`: `render_page` adds the catalogue without copying it.
    json!({
        "lang": locale.code(),
        "title": title,
        "user": user.map(|u| json!({
            "display_name": u.display_name,
            "role": u.role.as_str(),
            "is_staff": u.role.is_staff(),
            "is_admin": u.role.is_admin(),
            "reads_reports": u.role.reads_reports_early(),
            "email_unverified": u.email_unverified,
            "unread_notifications": 0,
        })),
        "csrf_token": csrf_token,
        "flash": flash,
        "path": path,
        "switch_lang": {
            "code": other.code(),
            // The request's own path, unless it could lead elsewhere (`//host`).
            "href": format!("{}?lang={}", LocalPath::or(Some(path), "/"), other.code()),
            "label": state.catalogs.text(other, "language.name"),
        },
        "page": Value::Null,
    })
}
