//! Who may take part in a consultation. One check, used by every protected
//! action (proposing, editing, supporting, commenting), so that when MitID
//! rules arrive (age, municipality) they are added here and apply everywhere.

use crate::auth::session::CurrentUser;
use crate::entities::consultation;
use crate::errors::ServiceError;

use super::consultations::{self, Status};

/// Ok when `actor` may take part in `consultation` now. Being logged in is
/// proven by holding a `CurrentUser`; the consultation must be open.
pub fn check(_actor: &CurrentUser, consultation: &consultation::Model) -> Result<(), ServiceError> {
    if consultations::status(consultation) != Status::Open {
        return Err(ServiceError::Conflict("errors.consultation_not_open"));
    }
    Ok(())
}
