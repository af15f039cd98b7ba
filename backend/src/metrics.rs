//! Prometheus metrics (`metrics` facade + `metrics-exporter-prometheus`).
//!
//! Counters and histograms are recorded where things happen (requests,
//! votes, statements, recomputes, mail failures); gauges that describe the
//! database (outbox backlog, pool use) are read when `/metrics` is scraped,
//! so every replica reports the same backlog and nothing polls in between.
//!
//! `/metrics` is not public: see [`crate::configuration::MetricsSettings`].
//! Every name is listed in [`NAMES`]; the Grafana dashboard and alert rules in
//! `deploy/` are checked against a scrape of a running app.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use subtle::ConstantTimeEq;

use crate::domain::MailStatus;
use crate::entities::mail_outbox;

pub const HTTP_REQUESTS: &str = "samskab_http_requests_total";
pub const HTTP_DURATION: &str = "samskab_http_request_duration_seconds";
pub const DB_CONNECTIONS: &str = "samskab_db_connections";
pub const DB_CONNECTIONS_MAX: &str = "samskab_db_connections_max";
pub const VOTES: &str = "samskab_votes_total";
pub const STATEMENTS: &str = "samskab_statements_total";
pub const RECOMPUTE_DURATION: &str = "samskab_recompute_duration_seconds";
pub const RECOMPUTE_LAST_SUCCESS: &str = "samskab_recompute_last_success_timestamp_seconds";
pub const RECOMPUTE_FAILURES: &str = "samskab_recompute_failures_total";
pub const OUTBOX_PENDING: &str = "samskab_mail_outbox_pending";
pub const OUTBOX_OLDEST_DUE: &str = "samskab_mail_outbox_oldest_due_seconds";
pub const OUTBOX_FAILED: &str = "samskab_mail_outbox_failed";
pub const MAIL_DELIVERY_FAILURES: &str = "samskab_mail_delivery_failures_total";
pub const SCHEDULER_LAG: &str = "samskab_scheduler_lag_seconds";
pub const DRAINING: &str = "samskab_draining";
pub const BUILD_INFO: &str = "samskab_build_info";

/// Every metric Samskab exposes (histograms appear as `_bucket`, `_sum`, `_count`).
pub const NAMES: &[&str] = &[
    HTTP_REQUESTS,
    HTTP_DURATION,
    DB_CONNECTIONS,
    DB_CONNECTIONS_MAX,
    VOTES,
    STATEMENTS,
    RECOMPUTE_DURATION,
    RECOMPUTE_LAST_SUCCESS,
    RECOMPUTE_FAILURES,
    OUTBOX_PENDING,
    OUTBOX_OLDEST_DUE,
    OUTBOX_FAILED,
    MAIL_DELIVERY_FAILURES,
    SCHEDULER_LAG,
    DRAINING,
    BUILD_INFO,
];

/// Request latency buckets (seconds): pages are expected well under 250 ms.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Engine runs take from milliseconds (small conversations) to minutes.
const RECOMPUTE_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder (installed once; tests start many apps in one
/// process and share it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(RECOMPUTE_DURATION.into()),
                        RECOMPUTE_BUCKETS,
                    )
                });
            let builder = match builder {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "metric buckets refused; using summaries");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route pattern and status class"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by method, route pattern and status class"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections of this replica by state (in_use, idle)"
    );
    describe_gauge!(
        DB_CONNECTIONS_MAX,
        "Database pool size limit of this replica"
    );
    describe_counter!(VOTES, "Votes cast through this replica (changed = stored)");
    describe_counter!(
        STATEMENTS,
        "Statements written by participants through this replica"
    );
    describe_histogram!(
        RECOMPUTE_DURATION,
        Unit::Seconds,
        "Opinion group recompute duration by snapshot kind"
    );
    describe_gauge!(
        RECOMPUTE_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last snapshot this replica stored, per consultation"
    );
    describe_counter!(RECOMPUTE_FAILURES, "Failed opinion group recomputes");
    describe_gauge!(OUTBOX_PENDING, "Mails waiting in the outbox (all replicas)");
    describe_gauge!(
        OUTBOX_OLDEST_DUE,
        Unit::Seconds,
        "How long the oldest due mail has waited for the sender (0 = none due)"
    );
    describe_gauge!(OUTBOX_FAILED, "Mails given up on after all attempts");
    describe_counter!(MAIL_DELIVERY_FAILURES, "Failed mail delivery attempts");
    describe_gauge!(
        SCHEDULER_LAG,
        Unit::Seconds,
        "How late the scheduler ran its last due job"
    );
    describe_gauge!(DRAINING, "1 while this replica is shutting down");
    describe_gauge!(BUILD_INFO, "Release and commit of this replica (always 1)");
    // Present from the start, so rates and alerts have a series to work on.
    counter!(VOTES, "changed" => "true").increment(0);
    counter!(VOTES, "changed" => "false").increment(0);
    counter!(STATEMENTS).increment(0);
    counter!(RECOMPUTE_FAILURES).increment(0);
    counter!(MAIL_DELIVERY_FAILURES).increment(0);
    gauge!(DRAINING).set(0.0);
    gauge!(
        BUILD_INFO,
        "version" => crate::build_info::VERSION,
        "commit" => crate::build_info::COMMIT
    )
    .set(1.0);
}

/// A vote was recorded; `changed` = it differed from the participant's last one.
pub fn vote_cast(changed: bool) {
    counter!(VOTES, "changed" => if changed { "true" } else { "false" }).increment(1);
}

/// A participant's statement was stored.
pub fn statement_written() {
    counter!(STATEMENTS).increment(1);
}

/// A mail delivery attempt failed.
pub fn mail_delivery_failed() {
    counter!(MAIL_DELIVERY_FAILURES).increment(1);
}

/// An opinion recompute finished: stored a snapshot, found nothing to do, or failed.
pub fn recompute_finished(consultation_id: i64, kind: &'static str, started: Instant, ok: bool) {
    if ok {
        metrics::histogram!(RECOMPUTE_DURATION, "kind" => kind)
            .record(started.elapsed().as_secs_f64());
        gauge!(RECOMPUTE_LAST_SUCCESS, "consultation" => consultation_id.to_string())
            .set(chrono::Utc::now().timestamp() as f64);
    } else {
        counter!(RECOMPUTE_FAILURES).increment(1);
    }
}

/// For the scheduler: how late (seconds) it started the job that was due
/// longest ago in its last round; 0 when it was on time.
pub fn record_scheduler_lag(seconds: f64) {
    gauge!(SCHEDULER_LAG).set(seconds.max(0.0));
}

/// This replica started shutting down.
pub fn draining() {
    gauge!(DRAINING).set(1.0);
}

/// Middleware: count and time every request by route pattern (not path: ids
/// and slugs would make unbounded series) and status class.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let result = next.call(req).await;
    // The pattern is read after routing, which has recorded the matched
    // resource: before it, `match_pattern` matches the path against every
    // route's regular expression again, a few per cent of a vote's CPU. An
    // error answer may come from the catch-all resource (a refused CSRF token,
    // a method the path does not take): it is counted under the first route
    // whose path matches, as it was when the pattern was read before routing.
    let (route, status) = match &result {
        Ok(res) => (
            route_pattern(res).unwrap_or_else(|| "unmatched".to_owned()),
            res.status(),
        ),
        // An error that no middleware turned into a response carries no request.
        Err(e) => ("unknown".to_owned(), e.as_response_error().status_code()),
    };
    let class = match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("method", method),
        ("route", route),
        ("status", class.to_owned()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    result
}

/// The route pattern `res` answered for (see [`observe`]).
pub fn route_pattern<B>(res: &ServiceResponse<B>) -> Option<String> {
    let req = res.request();
    if res.status().as_u16() < 400 {
        req.match_pattern()
    } else {
        req.resource_map().match_pattern(req.path())
    }
}

/// Read the database-wide gauges; called on each scrape.
pub async fn refresh_database_gauges(db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => (0, 0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    gauge!(DB_CONNECTIONS, "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
    gauge!(DB_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(DB_CONNECTIONS_MAX).set(f64::from(max));
    match outbox(db).await {
        Ok((pending, failed, oldest_due)) => {
            gauge!(OUTBOX_PENDING).set(pending as f64);
            gauge!(OUTBOX_FAILED).set(failed as f64);
            gauge!(OUTBOX_OLDEST_DUE).set(oldest_due);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the mail outbox"),
    }
}

async fn outbox(db: &DatabaseConnection) -> Result<(u64, u64, f64), sea_orm::DbErr> {
    let now = chrono::Utc::now();
    let pending = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Pending))
        .count(db)
        .await?;
    let failed = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Failed))
        .count(db)
        .await?;
    let oldest = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(MailStatus::Pending))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .one(db)
        .await?;
    let oldest_due = oldest.map_or(0.0, |m| {
        (now - m.next_attempt_at).num_milliseconds().max(0) as f64 / 1000.0
    });
    Ok((pending, failed, oldest_due))
}

/// What `/metrics` needs: the recorder's handle and who may read it.
#[derive(Clone)]
pub struct Endpoint {
    pub handle: PrometheusHandle,
    /// Required bearer token, if any.
    pub token: Option<String>,
    /// Served on the main address at all (only with a token).
    pub on_main: bool,
}

/// Render the text format after the token check.
pub async fn render(
    req: &HttpRequest,
    endpoint: &Endpoint,
    db: &DatabaseConnection,
) -> HttpResponse {
    if let Some(token) = &endpoint.token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer"))
                .finish();
        }
    }
    refresh_database_gauges(db).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(endpoint.handle.render())
}
