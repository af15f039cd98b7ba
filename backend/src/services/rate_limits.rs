//! Rate limits kept in the database, so that they hold across replicas (and
//! restarts): registrations, password reset requests, new anonymous
//! participants and password login failures.
//!
//! Each limit counts events per key in fixed windows and decides with the
//! sliding-window estimate `previous × (1 − elapsed share) + current`, which
//! avoids the double burst a plain fixed window allows at its edge. Taking a
//! slot is one atomic conditional upsert (`INSERT … ON CONFLICT … DO UPDATE
//! … WHERE count < cap RETURNING count`), correct under concurrency on SQLite
//! and PostgreSQL alike; a refused request writes nothing.
//!
//! Keys are HMAC-SHA256 hashes with a secret derived from the session key, of
//! a client's address (IPv6 by its /64, since one household or phone gets a
//! whole /64) or an email address: the table never holds either in clear.
//! Who the client is comes from the TCP peer, or from `X-Forwarded-For` when
//! the peer is a trusted reverse proxy ([`client_address`]).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::configuration::{LimitSettings, Settings};
use crate::entities::rate_limit::{self, Column};
use crate::errors::AppError;

/// At most `max` events per `window_secs` per key; `max == 0` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: u32,
    pub window_secs: i64,
}

/// A slot taken by [`take`]; [`give_back`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    bucket: &'static str,
    key: String,
    window_start: Option<i64>,
}

/// A refused request: when one more would be allowed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// The error a refused request answers with: 429 with `Retry-After`.
pub fn too_many(refused: Refused) -> AppError {
    AppError::TooManyRequests {
        retry_after: refused.retry_after,
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;

/// The server's limits: the settings, the trusted proxies and the key secret.
pub struct Limits {
    pub settings: LimitSettings,
    trusted: Vec<IpNet>,
    secret: Vec<u8>,
}

impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("settings", &self.settings)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Limits {
    /// From the settings; a trusted proxy entry that is no address or range
    /// stops the start with its name.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let trusted = parse_proxies(&settings.limits.trusted_proxies).map_err(|bad| {
            anyhow::anyhow!(
                "SAMSKAB_LIMITS__TRUSTED_PROXIES: `{bad}` is not an IP address or CIDR range"
            )
        })?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&settings.hmac_secret()?)
            .map_err(|e| anyhow::anyhow!("HMAC key: {e}"))?;
        mac.update(b"samskab-rate-limits-v1");
        Ok(Limits {
            settings: settings.limits.clone(),
            trusted,
            secret: mac.finalize().into_bytes().to_vec(),
        })
    }

    /// A keyed hash of `parts` (hex, 64 characters).
    pub fn key(&self, parts: &[&str]) -> String {
        // The secret is 32 bytes; HMAC accepts any key length.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.secret) else {
            return String::new();
        };
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key of an email address for `purpose` (normalised like logins).
    pub fn email_key(&self, purpose: &str, email: &str) -> String {
        self.key(&["email", purpose, &email.trim().to_lowercase()])
    }

    /// The client behind a connection from `peer` with these
    /// `X-Forwarded-For` header values.
    pub fn client(self: &Arc<Self>, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Client {
        let address = client_address(peer, forwarded_for, &self.trusted)
            .map(network_of)
            .unwrap_or_else(|| "unknown".to_owned());
        Client {
            address,
            limits: self.clone(),
        }
    }

    pub fn registrations_per_client(&self) -> Limit {
        per_hour("register.client", self.settings.registrations_per_client)
    }
    pub fn registrations_total(&self) -> Limit {
        per_hour("register.total", self.settings.registrations_total)
    }
    /// "Someone tried to register with your address" mails: one an hour.
    pub fn registration_notices(&self) -> Limit {
        per_hour("register.notice", 1)
    }
    pub fn password_resets_per_client(&self) -> Limit {
        per_hour("reset.client", self.settings.password_resets_per_client)
    }
    /// New anonymous participants from one client in one consultation.
    pub fn new_participants(&self, per_hour_override: Option<i32>) -> Limit {
        let max = per_hour_override
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(self.settings.new_participants_per_client);
        per_hour("participants.new", max)
    }
    pub fn login_failures_per_address_and_client(&self) -> Limit {
        Limit {
            bucket: "login.pair",
            max: self.settings.login_failures_per_address_and_client,
            window_secs: 15 * MINUTE,
        }
    }
    pub fn login_failures_per_address(&self) -> Limit {
        per_hour("login.address", self.settings.login_failures_per_address)
    }
    pub fn login_failures_per_client(&self) -> Limit {
        Limit {
            bucket: "login.client",
            max: self.settings.login_failures_per_client,
            window_secs: 15 * MINUTE,
        }
    }
}

fn per_hour(bucket: &'static str, max: u32) -> Limit {
    Limit {
        bucket,
        max,
        window_secs: HOUR,
    }
}

/// Where a request comes from, as far as limits are concerned. The address
/// stays in memory; only keyed hashes of it reach the database.
#[derive(Clone, Debug)]
pub struct Client {
    address: String,
    pub limits: Arc<Limits>,
}

impl Client {
    /// This client's key for `purpose` (and `extra`, e.g. a consultation id
    /// or an email address).
    pub fn key(&self, purpose: &str, extra: &str) -> String {
        self.limits.key(&[
            "client",
            purpose,
            &self.address,
            &extra.trim().to_lowercase(),
        ])
    }
}

/// Parse the trusted proxies: addresses or CIDR ranges, separated by spaces
/// or commas. `Err` names the first entry that is neither.
pub fn parse_proxies(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split([' ', ',', '\n', '\t'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| s.to_owned())
        })
        .collect()
}

fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .or_else(|_| raw.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy;
/// then the right-most `X-Forwarded-For` entry that is not a trusted proxy
/// (entries to its left are whatever the client chose to send). When every
/// entry is trusted, or one cannot be read, the last trusted hop is the
/// client, so a forged or broken header never makes someone else's address.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.map(|p| p.to_canonical())?;
    if !is_trusted(&client) {
        return Some(client);
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    Some(client)
}

/// What identifies a client: an IPv4 address, or the /64 of an IPv6 one.
pub fn network_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// The sliding-window room: a new event is allowed while the current
/// window's count is below this.
fn cap(max: u32, previous: i64, elapsed: f64) -> i64 {
    (f64::from(max) - previous as f64 * (1.0 - elapsed)).floor() as i64
}

/// How long until one more event fits, if nothing else happens.
fn wait(max: u32, previous: i64, current: i64, elapsed: f64, window_secs: i64) -> Duration {
    let (max, p, c, w) = (
        f64::from(max),
        previous as f64,
        current as f64,
        window_secs as f64,
    );
    let room = max - c - 1.0;
    // Later in this window, the previous window weighs less.
    let in_this = (room >= 0.0 && p > 0.0)
        .then(|| 1.0 - room / p)
        .filter(|needed| *needed < 1.0)
        .map(|needed| (needed - elapsed).max(0.0) * w);
    let secs = in_this.unwrap_or_else(|| {
        // In the next window this one is the previous.
        let needed = if c > 0.0 {
            (1.0 - (max - 1.0) / c).max(0.0)
        } else {
            0.0
        };
        (1.0 - elapsed) * w + needed * w
    });
    Duration::from_secs(secs.ceil().max(1.0) as u64)
}

struct Window {
    start: i64,
    elapsed: f64,
}

fn window_at(now_ms: i64, window_secs: i64) -> Window {
    let w_ms = window_secs * 1000;
    let start_ms = now_ms - now_ms.rem_euclid(w_ms);
    Window {
        start: start_ms / 1000,
        elapsed: (now_ms - start_ms) as f64 / w_ms as f64,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn count_in<C: ConnectionTrait>(
    db: &C,
    bucket: &str,
    key: &str,
    window_start: i64,
) -> Result<i64, DbErr> {
    let found: Option<i32> = rate_limit::Entity::find()
        .select_only()
        .column(Column::Count)
        .filter(Column::Bucket.eq(bucket))
        .filter(Column::Key.eq(key))
        .filter(Column::WindowStart.eq(window_start))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.map_or(0, i64::from))
}

/// Take one slot of `limit` for `key`, or be refused (nothing written).
pub async fn take<C: ConnectionTrait>(
    db: &C,
    limit: Limit,
    key: &str,
) -> Result<Result<Taken, Refused>, DbErr> {
    take_at(db, limit, key, now_ms()).await
}

pub async fn take_at<C: ConnectionTrait>(
    db: &C,
    limit: Limit,
    key: &str,
    now_ms: i64,
) -> Result<Result<Taken, Refused>, DbErr> {
    if limit.max == 0 {
        return Ok(Ok(Taken {
            bucket: limit.bucket,
            key: key.to_owned(),
            window_start: None,
        }));
    }
    let window = window_at(now_ms, limit.window_secs);
    let previous = count_in(db, limit.bucket, key, window.start - limit.window_secs).await?;
    let cap = cap(limit.max, previous, window.elapsed);
    if cap >= 1 {
        let count = Expr::col((rate_limit::Entity, Column::Count));
        let upsert = Query::insert()
            .into_table(rate_limit::Entity)
            .columns([
                Column::Bucket,
                Column::Key,
                Column::WindowStart,
                Column::Count,
                Column::ExpiresAt,
            ])
            .values([
                limit.bucket.into(),
                key.into(),
                window.start.into(),
                1i32.into(),
                // Needed as the previous window of the next one.
                (window.start + 2 * limit.window_secs).into(),
            ])
            .map_err(|e| DbErr::Custom(format!("building the rate limit upsert: {e}")))?
            .on_conflict(
                OnConflict::columns([Column::Bucket, Column::Key, Column::WindowStart])
                    .value(Column::Count, count.clone().add(1))
                    .action_and_where(count.lt(cap))
                    .to_owned(),
            )
            .returning_col(Column::Count)
            .to_owned();
        if db.query_one(&upsert).await?.is_some() {
            return Ok(Ok(Taken {
                bucket: limit.bucket,
                key: key.to_owned(),
                window_start: Some(window.start),
            }));
        }
    }
    let current = count_in(db, limit.bucket, key, window.start).await?;
    Ok(Err(Refused {
        retry_after: wait(
            limit.max,
            previous,
            current,
            window.elapsed,
            limit.window_secs,
        ),
    }))
}

/// Return a slot that turned out not to count (a login that succeeded, a
/// participant another request created first).
pub async fn give_back<C: ConnectionTrait>(db: &C, taken: &Taken) -> Result<(), DbErr> {
    let Some(window_start) = taken.window_start else {
        return Ok(());
    };
    rate_limit::Entity::update_many()
        .col_expr(
            Column::Count,
            Expr::col((rate_limit::Entity, Column::Count)).sub(1),
        )
        .filter(Column::Bucket.eq(taken.bucket))
        .filter(Column::Key.eq(taken.key.as_str()))
        .filter(Column::WindowStart.eq(window_start))
        .filter(Column::Count.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Forget every window of `limit` for `key`.
pub async fn clear<C: ConnectionTrait>(db: &C, limit: Limit, key: &str) -> Result<(), DbErr> {
    rate_limit::Entity::delete_many()
        .filter(Column::Bucket.eq(limit.bucket))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Count an event for statistics (never refused), in hourly windows kept
/// for `keep_hours`.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    bucket: &'static str,
    key: &str,
    keep_hours: i64,
) -> Result<(), DbErr> {
    let window = window_at(now_ms(), HOUR);
    let upsert = Query::insert()
        .into_table(rate_limit::Entity)
        .columns([
            Column::Bucket,
            Column::Key,
            Column::WindowStart,
            Column::Count,
            Column::ExpiresAt,
        ])
        .values([
            bucket.into(),
            key.into(),
            window.start.into(),
            1i32.into(),
            (window.start + (keep_hours + 1) * HOUR).into(),
        ])
        .map_err(|e| DbErr::Custom(format!("building the counter upsert: {e}")))?
        .on_conflict(
            OnConflict::columns([Column::Bucket, Column::Key, Column::WindowStart])
                .value(
                    Column::Count,
                    Expr::col((rate_limit::Entity, Column::Count)).add(1),
                )
                .to_owned(),
        )
        .to_owned();
    db.execute(&upsert).await?;
    Ok(())
}

/// Events [`record`]ed for `key` in the hourly windows of the last `hours`.
pub async fn recorded<C: ConnectionTrait>(
    db: &C,
    bucket: &'static str,
    key: &str,
    hours: i64,
) -> Result<i64, DbErr> {
    let window = window_at(now_ms(), HOUR);
    let counts: Vec<i32> = rate_limit::Entity::find()
        .select_only()
        .column(Column::Count)
        .filter(Column::Bucket.eq(bucket))
        .filter(Column::Key.eq(key))
        .filter(Column::WindowStart.gt(window.start - hours * HOUR))
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().map(i64::from).sum())
}

/// Delete counters whose windows no longer matter. Idempotent, so every
/// replica may run it without coordination.
pub async fn delete_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let res = rate_limit::Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now_ms() / 1000))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_proxies("127.0.0.0/8, ::1 10.0.0.5").unwrap();
        let from = |peer: &str, xff: &[&str]| client_address(Some(ip(peer)), xff, &trusted);
        // A client connecting directly cannot choose its address.
        assert_eq!(
            from("203.0.113.9", &["198.51.100.1"]),
            Some(ip("203.0.113.9"))
        );
        // Behind the proxy: the right-most untrusted entry, whatever the
        // client put in front of it.
        assert_eq!(
            from("127.0.0.1", &["6.6.6.6, 198.51.100.7"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            from("127.0.0.1", &["6.6.6.6", "198.51.100.7, 10.0.0.5"]),
            Some(ip("198.51.100.7"))
        );
        // No header, only trusted hops, or garbage: the last trusted hop.
        assert_eq!(from("127.0.0.1", &[]), Some(ip("127.0.0.1")));
        assert_eq!(from("::1", &["10.0.0.5"]), Some(ip("10.0.0.5")));
        assert_eq!(
            from("127.0.0.1", &["198.51.100.7, not-an-ip"]),
            Some(ip("127.0.0.1"))
        );
        // Ports and IPv4-mapped IPv6 addresses are understood.
        assert_eq!(
            from("::ffff:127.0.0.1", &["198.51.100.7:4711"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_address(None, &[], &trusted), None);
        assert_eq!(
            client_address(Some(ip("127.0.0.1")), &["198.51.100.7"], &[]),
            Some(ip("127.0.0.1")),
            "no trusted proxies: the header is ignored"
        );
    }

    #[test]
    fn bad_proxy_entries_are_named() {
        assert_eq!(parse_proxies("").unwrap(), vec![]);
        assert_eq!(parse_proxies("10.0.0.0/8 nope"), Err("nope".to_owned()));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(network_of(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            network_of(ip("2001:db8:1:2:bbbb::9")),
            network_of(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_eq!(network_of(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(network_of(ip("192.0.2.1")), "192.0.2.1");
    }

    #[test]
    fn the_previous_window_counts_less_as_time_passes() {
        assert_eq!(cap(10, 0, 0.5), 10);
        assert_eq!(cap(10, 10, 0.0), 0);
        assert_eq!(cap(10, 10, 0.5), 5);
        assert_eq!(cap(10, 10, 0.95), 9);
        assert_eq!(cap(3, 0, 0.0), 3);
    }

    #[test]
    fn the_wait_ends_when_one_more_fits() {
        // Full current window, nothing before: until the next window, then
        // this one weighs (1 - f) * 10 + 1 <= 10, f >= 0.1.
        assert_eq!(wait(10, 0, 10, 0.0, 1000), Duration::from_secs(1100));
        // Half-way through a window after a full one: 10 * (1 - f) + 2 + 1
        // <= 10 from f = 0.3 on, which is already past: at once.
        assert_eq!(wait(10, 10, 2, 0.5, 1000), Duration::from_secs(1));
        // 10 * (1 - f) + 5 + 1 <= 10 from f = 0.6: 100 s from f = 0.5.
        let secs = wait(10, 10, 5, 0.5, 1000).as_secs();
        assert!((100..=101).contains(&secs), "{secs}");
        // A limit of one an hour, used at minute 0: an hour and a bit.
        assert_eq!(wait(1, 0, 1, 0.0, 3600), Duration::from_secs(7200));
    }

    #[test]
    fn windows_start_on_whole_multiples() {
        let w = window_at(3_725_500, 3600);
        assert_eq!(w.start, 3600);
        assert!((w.elapsed - 125.5 / 3600.0).abs() < 1e-9);
    }
}
