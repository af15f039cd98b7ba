//! Build the application (database, migrations, optional demo data, templates),
//! bind the listener (port 0 allowed: the real port is kept), run until stopped.
//! Everything is ready before the first connection is accepted.

use actix_session::SessionMiddleware;
use actix_session::config::CookieContentSecurity;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{Compress, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use std::net::TcpListener;
use std::sync::Arc;

use crate::configuration::Settings;
use crate::i18n::Catalogs;
use crate::jobs::recompute::RecomputeWorker;
use crate::routes::{self, middleware};
use crate::services::sessions::{DbSessionStore, Lifetimes};
use crate::shutdown::Draining;
use crate::state::AppState;
use crate::views::Views;

pub const SESSION_COOKIE: &str = "samskab_session";

#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Load the Danish demo content before serving.
    pub demo: bool,
    /// Do not start background jobs (tests that need a stable snapshot).
    pub no_background_jobs: bool,
    /// Record every SQL statement the application sends (tests that count
    /// the queries of a request).
    pub statement_log: Option<&'static crate::db::StatementLog>,
}

pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    recompute: Option<RecomputeWorker>,
    /// Tells the mail sender to stop after its current round.
    stop_mail: tokio::sync::watch::Sender<bool>,
    mail: tokio::task::JoinHandle<()>,
    metrics_server: Option<Server>,
    draining: Draining,
    shutdown: crate::configuration::ShutdownSettings,
}

impl Application {
    pub async fn build(settings: Settings, options: BuildOptions) -> anyhow::Result<Self> {
        // Before anything is touched: production refuses development fallbacks.
        settings.check_environment(options.demo)?;
        let security_txt = crate::services::security_txt::SecurityTxt::from_settings(&settings)
            .map_err(anyhow::Error::msg)?;
        if security_txt.is_expired(chrono::Utc::now()) {
            tracing::warn!(
                "SAMSKAB_SECURITY_TXT__EXPIRES has passed: reporters will ignore /.well-known/security.txt"
            );
        }
        let mut db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        if let Some(log) = options.statement_log {
            log.attach(&mut db);
        }
        if options.demo {
            crate::services::demo::load(&db)
                .await
                .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
        }
        let key = Key::try_from(settings.session_key_bytes()?.as_slice()).context("session key")?;
        let state = AppState {
            db: db.clone(),
            views: Arc::new(Views::load()?),
            catalogs: Arc::new(Catalogs::load()?),
            settings: Arc::new(settings.clone()),
            limits: Arc::new(crate::services::rate_limits::Limits::from_settings(
                &settings,
            )?),
            oidc_metadata: Arc::default(),
        };
        // Validate the mail transport now, so a bad SMTP URL stops the start.
        crate::services::mail::Transport::from_settings(&settings)?;
        let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
        let mail = tokio::spawn(crate::services::mail::run_sender(
            state.mail_context(),
            mail_stopped,
        ));
        let metrics = crate::metrics::install();
        tokio::spawn(crate::jobs::housekeeping::run(
            db.clone(),
            settings.retention.clone(),
        ));
        let schedule = &settings.consultations;
        if schedule.scheduler_seconds > 0 && !options.no_background_jobs {
            tokio::spawn(crate::jobs::scheduler::run(
                db.clone(),
                std::time::Duration::from_secs(schedule.scheduler_seconds),
                chrono::Duration::hours(i64::from(schedule.reminder_hours)),
            ));
        }
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let draining = Draining::default();
        let grace = std::time::Duration::from_secs(settings.shutdown.grace_seconds);
        let endpoint = crate::metrics::Endpoint {
            handle: metrics,
            token: settings.metrics.token().map(str::to_owned),
            on_main: settings.metrics.token().is_some(),
        };
        let metrics_server = match &settings.metrics.bind {
            Some(bind) if !bind.trim().is_empty() => Some(metrics_server(
                bind.trim(),
                endpoint.clone(),
                state.db.clone(),
            )?),
            _ => None,
        };
        let server = run(
            listener,
            state,
            key,
            settings.workers,
            grace,
            draining.clone(),
            endpoint,
        )?;
        // Deliberation: the opinion recompute worker (a tokio task, stopped
        // after the server in `run_until_stopped`).
        let recompute = (settings.opinion_recompute_interval_ms > 0 && !options.no_background_jobs)
            .then(|| {
                RecomputeWorker::spawn(
                    db.clone(),
                    std::time::Duration::from_millis(settings.opinion_recompute_interval_ms),
                )
            });
        Ok(Application {
            port,
            server,
            db,
            recompute,
            stop_mail,
            mail,
            metrics_server,
            draining,
            shutdown: settings.shutdown.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serve until SIGINT/SIGTERM, then shut down gracefully (see
    /// `crate::shutdown`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let metrics_handle = self.metrics_server.as_ref().map(Server::handle);
        let draining = self.draining.clone();
        let drain = std::time::Duration::from_secs(self.shutdown.drain_seconds);
        tokio::spawn(async move {
            crate::shutdown::signal().await;
            tracing::info!(
                drain_seconds = drain.as_secs(),
                "shutting down: /readyz answers 503 from now on"
            );
            draining.start();
            tokio::time::sleep(drain).await;
            tracing::info!("no longer accepting connections; finishing requests");
            handle.stop(true).await;
            if let Some(m) = metrics_handle {
                m.stop(true).await;
            }
        });
        if let Some(m) = self.metrics_server {
            tokio::spawn(m);
        }
        // Returns once in-flight requests are done (or the grace period is over).
        let result = self.server.await;
        let _ = self.stop_mail.send(true);
        let grace = std::time::Duration::from_secs(self.shutdown.grace_seconds);
        let background = async move {
            if let Some(worker) = self.recompute {
                worker.stop().await;
            }
            let _ = self.mail.await;
        };
        if tokio::time::timeout(grace, background).await.is_err() {
            tracing::warn!("background work did not finish within the grace period");
        }
        tracing::info!("stopped");
        result
    }
}

/// The separate listener for `/metrics` (`SAMSKAB_METRICS__BIND`).
fn metrics_server(
    bind: &str,
    endpoint: crate::metrics::Endpoint,
    db: DatabaseConnection,
) -> anyhow::Result<Server> {
    let endpoint = web::Data::new(endpoint);
    let db = web::Data::new(db);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(endpoint.clone())
            .app_data(db.clone())
            .route(
                "/metrics",
                web::get().to(
                    |req: actix_web::HttpRequest,
                     endpoint: web::Data<crate::metrics::Endpoint>,
                     db: web::Data<DatabaseConnection>| async move {
                        crate::metrics::render(&req, &endpoint, &db).await
                    },
                ),
            )
    })
    .workers(1)
    .disable_signals()
    .bind(bind)
    .with_context(|| format!("binding the metrics address {bind}"))?;
    Ok(server.run())
}

fn run(
    listener: TcpListener,
    state: AppState,
    key: Key,
    workers: Option<usize>,
    grace: std::time::Duration,
    draining: Draining,
    endpoint: crate::metrics::Endpoint,
) -> anyhow::Result<Server> {
    let secure = state.settings.cookie_secure;
    let hsts_max_age = state.settings.hsts_max_age;
    let store = DbSessionStore::new(
        state.db.clone(),
        Lifetimes::from_settings(&state.settings.session),
    );
    let data = web::Data::new(state);
    let draining = web::Data::new(draining);
    let endpoint = web::Data::new(endpoint);
    let mut server = HttpServer::new(move || {
        // The cookie carries only the session key (encrypted); the session's
        // state is on the server (see `services::sessions`).
        let sessions = SessionMiddleware::builder(store.clone(), key.clone())
            .cookie_name(SESSION_COOKIE.to_owned())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Private)
            .build();
        // Outermost last: logging → request id header → metrics → close
        // while draining → HEAD → headers → compression → session →
        // no-store for personal pages → locale → error pages → UTF-8 check →
        // CSRF → handlers.
        App::new()
            .app_data(data.clone())
            .app_data(draining.clone())
            .app_data(endpoint.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .app_data(web::PayloadConfig::default().limit(256 * 1024))
            .wrap(from_fn(crate::auth::csrf::guard))
            .wrap(from_fn(routes::encoding::utf8_only))
            .wrap(ErrorHandlers::new().default_handler(middleware::error_page))
            .wrap(from_fn(middleware::locale))
            .wrap(from_fn(middleware::no_store_when_personal))
            .wrap(sessions)
            .wrap(Compress::default())
            .wrap(middleware::security_headers(hsts_max_age))
            .wrap(from_fn(middleware::head_as_get))
            .wrap(from_fn(crate::shutdown::close_when_draining))
            .wrap(from_fn(crate::metrics::observe))
            .wrap(from_fn(crate::telemetry::request_id_header))
            .wrap(tracing_actix_web::TracingLogger::<
                crate::telemetry::RequestSpan,
            >::new())
            .configure(routes::configure)
    })
    // Signals are handled in `Application::run_until_stopped` (drain first).
    .disable_signals()
    .shutdown_timeout(grace.as_secs())
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    Ok(server.run())
}
