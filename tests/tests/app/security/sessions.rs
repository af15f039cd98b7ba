//! Sessions that really end: server-side records, revocation, timeouts, rotation.
