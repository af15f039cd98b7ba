//! Sessions that really end. A logged-in session is a row in `sessions`; the
//! (encrypted) cookie carries only a random key, and the row is found by the
//! key's SHA-256 hash, so a copy of the database hands out no live session.
//! Logging out deletes the row, and [`end_all_for_user`] deletes every row of
//! a person (log out on all devices, password reset, role change, deletion):
//! a copied cookie is dead afterwards, on every replica, because the state
//! lives in the shared database.
//!
//! A session without a login holds only the CSRF token, an anonymous voter's
//! participant token, messages and a pending MitID login. It stays in the
//! encrypted cookie itself, as before, together with the moment it began:
//! reading a page never writes to the database, so visitors and crawlers
//! leave no rows behind. There is nothing to revoke in it; it ends when the
//! browser is closed and at the latest `anonymous_days` after it began. The
//! rule is enforced here, not by callers: state with a user id is always
//! stored on the server (and state too large for a cookie, which should not
//! happen, is stored there as well).
//!
//! Timeouts: a logged-in session ends `idle_minutes` after its last request
//! and `absolute_hours` after the login at the latest. The last request is
//! recorded at most once a minute, so a busy voter costs one read per request
//! and no write.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

use crate::auth::session::SESSION_USER;
use crate::configuration::SessionSettings;
use crate::entities::session;

use super::now;

type State = HashMap<String, String>;

/// The last request of a logged-in session is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Anonymous state up to this size (JSON) travels in the cookie; the cookie
/// is then at most about 2 KB, well under the browsers' 4 KB.
const ANONYMOUS_IN_COOKIE_MAX: usize = 1536;

/// Prefix of a session key that carries anonymous state itself:
/// `a.{unix seconds when it began}.{JSON}`. Server keys are base64url, which
/// has no `.`, so the two never meet.
const ANONYMOUS_PREFIX: &str = "a.";

/// Server keys: 32 random bytes, base64url without padding.
const SERVER_KEY_LEN: usize = 43;

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Logged in: ends this long after the last request.
    pub idle: Duration,
    /// Logged in: ends this long after the login at the latest.
    pub absolute: Duration,
    /// Without a login: ends this long after it began at the latest.
    pub anonymous: Duration,
}

impl Lifetimes {
    pub fn from_settings(settings: &SessionSettings) -> Self {
        Lifetimes {
            idle: Duration::minutes(i64::from(settings.idle_minutes.max(1))),
            absolute: Duration::hours(i64::from(settings.absolute_hours.max(1))),
            anonymous: Duration::days(i64::from(settings.anonymous_days.max(1))),
        }
    }
}

/// The SHA-256 of a session key, as stored in `sessions.key_hash`.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn user_of(state: &State) -> Option<i64> {
    state
        .get(SESSION_USER)
        .and_then(|v| serde_json::from_str::<i64>(v).ok())
}

fn to_json(state: &State) -> String {
    // A map of strings always serialises.
    serde_json::to_string(state).unwrap_or_else(|_| "{}".to_owned())
}

enum Kind<'a> {
    /// State in the cookie, begun at this moment.
    Anonymous {
        began: DateTime<Utc>,
        json: &'a str,
    },
    /// A row on the server.
    Server {
        hash: String,
    },
    Invalid,
}

fn kind(key: &str) -> Kind<'_> {
    if let Some(rest) = key.strip_prefix(ANONYMOUS_PREFIX) {
        return match rest
            .split_once('.')
            .and_then(|(began, json)| Some((began.parse::<i64>().ok()?, json)))
            .and_then(|(began, json)| Some((DateTime::from_timestamp(began, 0)?, json)))
        {
            Some((began, json)) => Kind::Anonymous { began, json },
            None => Kind::Invalid,
        };
    }
    if key.len() == SERVER_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Kind::Server {
            hash: hash_key(key),
        }
    } else {
        Kind::Invalid
    }
}

fn anonymous_key(began: DateTime<Utc>, json: &str) -> anyhow::Result<SessionKey> {
    Ok(SessionKey::try_from(format!(
        "{ANONYMOUS_PREFIX}{}.{json}",
        began.timestamp()
    ))?)
}

fn fresh_server_key() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// actix-session's storage backend over the database (SQLite or PostgreSQL).
#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    lifetimes: Lifetimes,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection, lifetimes: Lifetimes) -> Self {
        DbSessionStore { db, lifetimes }
    }

    /// Keep `state` as a new session: in the cookie when it has no user and
    /// is small, otherwise as a new row under a fresh key. Never fails: when
    /// the database refuses, the error is logged and the state without the
    /// login goes into the cookie, so a change that was already committed is
    /// never answered with an error page (the person just is not logged in).
    /// (`Err` only for a key too long for a cookie, which the size check
    /// rules out.)
    async fn keep(
        &self,
        mut state: State,
        began: Option<DateTime<Utc>>,
    ) -> anyhow::Result<SessionKey> {
        let at = now();
        let json = to_json(&state);
        if user_of(&state).is_none() && json.len() <= ANONYMOUS_IN_COOKIE_MAX {
            return anonymous_key(began.unwrap_or(at), &json);
        }
        match self.insert_row(&state, json, began, at).await {
            Ok(key) => return Ok(key),
            Err(e) => {
                tracing::error!(error = %e, "storing a session failed; it continues without login")
            }
        }
        state.remove(SESSION_USER);
        let json = to_json(&state);
        let json = if json.len() <= ANONYMOUS_IN_COOKIE_MAX {
            json
        } else {
            "{}".to_owned()
        };
        anonymous_key(began.unwrap_or(at), &json)
    }

    async fn insert_row(
        &self,
        state: &State,
        json: String,
        began: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> anyhow::Result<SessionKey> {
        let user_id = user_of(state);
        let (idle_expires, absolute_expires) = match user_id {
            Some(_) => {
                let absolute = at + self.lifetimes.absolute;
                ((at + self.lifetimes.idle).min(absolute), absolute)
            }
            None => {
                let end = began.unwrap_or(at) + self.lifetimes.anonymous;
                (end, end)
            }
        };
        let key = fresh_server_key();
        session::ActiveModel {
            key_hash: Set(hash_key(&key)),
            user_id: Set(user_id),
            state: Set(json),
            created_at: Set(at),
            last_seen_at: Set(at),
            idle_expires_at: Set(idle_expires),
            absolute_expires_at: Set(absolute_expires),
        }
        .insert(&self.db)
        .await?;
        Ok(SessionKey::try_from(key)?)
    }

    /// New state for an existing row. The row must still be there and belong
    /// to the same person: a session that was ended meanwhile (logged out
    /// elsewhere) is not brought back, and a change of person gets a new key.
    async fn rewrite(
        &self,
        key: SessionKey,
        hash: String,
        mut state: State,
    ) -> anyhow::Result<SessionKey> {
        let user_id = user_of(&state);
        let json = to_json(&state);
        let mut update = session::Entity::update_many()
            .col_expr(session::Column::State, Expr::value(json))
            .filter(session::Column::KeyHash.eq(hash.clone()));
        update = match user_id {
            Some(id) => update.filter(session::Column::UserId.eq(id)),
            None => update.filter(session::Column::UserId.is_null()),
        };
        match update.exec(&self.db).await {
            Ok(done) if done.rows_affected == 1 => return Ok(key),
            Ok(_) => {}
            Err(e) => {
                // The old state stays; the response is not turned into an error.
                tracing::error!(error = %e, "saving a session's state failed");
                return Ok(key);
            }
        }
        match session::Entity::find_by_id(hash.clone())
            .one(&self.db)
            .await
        {
            Ok(Some(row)) => {
                // Someone else (or no one) is behind the session now.
                if let Err(e) = session::Entity::delete_by_id(hash).exec(&self.db).await {
                    tracing::error!(error = %e, "ending a session failed");
                    return Ok(key);
                }
                let began = row.user_id.is_none().then_some(row.created_at);
                self.keep(state, began.filter(|_| user_id.is_none())).await
            }
            Ok(None) => {
                // Ended meanwhile: whatever else it held goes on without login.
                state.remove(SESSION_USER);
                self.keep(state, None).await
            }
            Err(e) => {
                tracing::error!(error = %e, "reading a session failed");
                Ok(key)
            }
        }
    }

    async fn load_row(&self, hash: String) -> Result<Option<State>, LoadError> {
        let row = session::Entity::find_by_id(hash.clone())
            .one(&self.db)
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let at = now();
        if row.idle_expires_at <= at || row.absolute_expires_at <= at {
            if let Err(e) = session::Entity::delete_by_id(hash).exec(&self.db).await {
                tracing::warn!(error = %e, "removing an expired session failed");
            }
            return Ok(None);
        }
        if row.user_id.is_some() && at - row.last_seen_at >= TOUCH_EVERY {
            let idle_expires = (at + self.lifetimes.idle).min(row.absolute_expires_at);
            let touched = session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(at))
                .col_expr(session::Column::IdleExpiresAt, Expr::value(idle_expires))
                .filter(session::Column::KeyHash.eq(hash))
                .exec(&self.db)
                .await;
            if let Err(e) = touched {
                // The session still works until its old deadline.
                tracing::warn!(error = %e, "recording a session's last request failed");
            }
        }
        serde_json::from_str(&row.state)
            .map(Some)
            .map_err(|e| LoadError::Deserialization(e.into()))
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        match kind(key.as_ref()) {
            Kind::Anonymous { began, json } => {
                if began + self.lifetimes.anonymous <= now() {
                    return Ok(None);
                }
                serde_json::from_str(json)
                    .map(Some)
                    .map_err(|e| LoadError::Deserialization(e.into()))
            }
            Kind::Server { hash } => self.load_row(hash).await,
            Kind::Invalid => Ok(None),
        }
    }

    async fn save(&self, state: State, _ttl: &CookieDuration) -> Result<SessionKey, SaveError> {
        self.keep(state, None).await.map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        _ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let began = match kind(key.as_ref()) {
            Kind::Anonymous { began, .. } => Some(began),
            Kind::Server { hash } => {
                return self
                    .rewrite(key, hash, state)
                    .await
                    .map_err(UpdateError::Other);
            }
            Kind::Invalid => None,
        };
        self.keep(state, began).await.map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, _key: &SessionKey, _ttl: &CookieDuration) -> anyhow::Result<()> {
        // Deadlines move in `load` (at most once a minute), not here.
        Ok(())
    }

    /// Errors are passed on: a logout that did not reach the database must
    /// not look like it worked.
    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        if let Kind::Server { hash } = kind(key.as_ref()) {
            session::Entity::delete_by_id(hash).exec(&self.db).await?;
        }
        Ok(())
    }
}

/// End every session of a person, on every replica (log out on all devices,
/// password reset, role change, deletion). Usable inside a transaction.
pub async fn end_all_for_user<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<u64, DbErr> {
    let done = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// How many live sessions a person has (devices or browsers logged in).
pub async fn count_for_user<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<u64, DbErr> {
    let at = now();
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::IdleExpiresAt.gt(at))
        .filter(session::Column::AbsoluteExpiresAt.gt(at))
        .count(db)
        .await
}

/// Delete expired sessions (the periodic cleanup). Safe to run on several
/// replicas at once. `idle_expires_at` is never later than the absolute end.
pub async fn delete_expired<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let done = session::Entity::delete_many()
        .filter(session::Column::IdleExpiresAt.lte(now()))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_told_apart() {
        let server = fresh_server_key();
        assert_eq!(server.len(), SERVER_KEY_LEN);
        assert!(matches!(kind(&server), Kind::Server { hash } if hash == hash_key(&server)));
        let anon = anonymous_key(now(), r#"{"csrf":"\"a.b\""}"#).unwrap();
        match kind(anon.as_ref()) {
            Kind::Anonymous { json, .. } => assert_eq!(json, r#"{"csrf":"\"a.b\""}"#),
            _ => panic!("anonymous key not recognised"),
        }
        assert!(matches!(kind("a.x.{}"), Kind::Invalid));
        assert!(matches!(kind("short"), Kind::Invalid));
        assert!(matches!(
            kind(&"a".repeat(43).replace('a', "!")),
            Kind::Invalid
        ));
    }

    #[test]
    fn the_user_is_read_from_the_state() {
        let mut state = State::new();
        assert_eq!(user_of(&state), None);
        state.insert(SESSION_USER.into(), "42".into());
        assert_eq!(user_of(&state), Some(42));
    }
}
