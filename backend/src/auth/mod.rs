//! Who is asking: sessions, roles, passwords and CSRF protection.

pub mod csrf;
pub mod password;
pub mod roles;
pub mod session;

pub use roles::Role;
