//! Roles live with the other rules in `crate::domain`; re-exported here for the
//! many callers that think of them as part of "who is asking".

pub use crate::domain::Role;
