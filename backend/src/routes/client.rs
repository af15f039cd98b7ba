//! The `Client` extractor: who a request comes from, for rate limits (the TCP
//! peer, or `X-Forwarded-For` behind a trusted proxy; see
//! `services::rate_limits::client_address`).

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures::future::{Ready, ready};

use crate::errors::AppError;
use crate::services::rate_limits::Client;
use crate::state::AppState;

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(client_of(req))
    }
}

pub fn client_of(req: &HttpRequest) -> Result<Client, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    Ok(state
        .limits
        .client(req.peer_addr().map(|a| a.ip()), &forwarded))
}
