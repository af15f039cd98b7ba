//! The logged-in person. The session (a server-side record, see
//! `services::sessions`) holds only the user id; the rest is read from the
//! database on every request so a role change or a deleted account takes
//! effect at once.

use actix_session::Session;
use serde::Serialize;

use crate::auth::Role;
use crate::entities::user;

pub const SESSION_USER: &str = "uid";

/// The person behind the request, as loaded from the database on each request
/// (so a role change or deletion takes effect at once).
#[derive(Debug, Clone, Serialize)]
pub struct CurrentUser {
    pub id: i64,
    pub display_name: String,
    pub email: Option<String>,
    #[serde(serialize_with = "serialize_role")]
    pub role: Role,
    /// The account is linked to an OIDC citizen identity (MitID).
    pub has_identity: bool,
    /// From the last OIDC login: level of assurance, birth year, municipality code.
    pub loa: Option<String>,
    pub birth_year: Option<i32>,
    pub municipality_code: Option<String>,
    /// A local account (email and password) whose address is not verified
    /// yet: it may log in and read but not take part.
    pub email_unverified: bool,
}

fn serialize_role<S: serde::Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.as_str())
}

impl CurrentUser {
    /// What the participation rules look at.
    pub fn identity(&self) -> crate::domain::eligibility::Identity<'_> {
        crate::domain::eligibility::Identity {
            email_unverified: self.email_unverified,
            has_identity: self.has_identity,
            loa: self.loa.as_deref(),
            birth_year: self.birth_year,
            municipality_code: self.municipality_code.as_deref(),
        }
    }

    pub fn from_model(model: &user::Model) -> Self {
        CurrentUser {
            id: model.id,
            display_name: model.display_name.clone(),
            email: model.email.clone(),
            role: model.role,
            has_identity: model.oidc_subject_hash.is_some(),
            loa: model.loa.clone(),
            birth_year: model.birth_year,
            municipality_code: model.municipality_code.clone(),
            email_unverified: model.email.is_some()
                && model.password_hash.is_some()
                && !model.email_verified,
        }
    }
}

/// Start a logged-in session. The session gets a new key so a session id
/// planted before login (fixation) is worthless afterwards, and a new CSRF
/// token so a token read before login is too.
pub fn log_in(session: &Session, user_id: i64) -> Result<(), actix_session::SessionInsertError> {
    session.renew();
    crate::auth::csrf::rotate(session)?;
    session.insert(SESSION_USER, user_id)
}

/// End this session: its server record is deleted and the cookie removed.
pub fn log_out(session: &Session) {
    session.purge();
}
