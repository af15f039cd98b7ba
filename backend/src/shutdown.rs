//! Graceful shutdown. On SIGTERM (or Ctrl-C) a replica
//! 1. turns `/readyz` to 503 and answers every response with
//!    `Connection: close`, so proxies stop reusing its connections, while it
//!    still serves for `shutdown.drain_seconds` (probing load balancers take
//!    it out meanwhile);
//! 2. stops accepting connections and lets in-flight requests finish, for at
//!    most `shutdown.grace_seconds`;
//! 3. stops the background workers after their current unit of work;
//! 4. exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web;

/// Whether this replica is shutting down; shared by the signal task, the
/// middleware and `/readyz`.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        if !self.0.swap(true, Ordering::SeqCst) {
            crate::metrics::draining();
        }
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Middleware: while draining, close each connection after its response, so a
/// proxy's pooled connections end cleanly instead of being cut at exit.
pub async fn close_when_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = req.app_data::<web::Data<Draining>>().cloned();
    let mut res = next.call(req).await?;
    if draining.is_some_and(|d| d.is_draining()) {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Wait for SIGTERM or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                tracing::warn!("cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
