//! Why an action is refused, in words the person can act on.

/// The reason a person may not do something. Every page that offers an action
/// asks the service's `may_…` function, which answers with one of these; the
/// page shows the reason instead of the button, and the action refuses with the
/// same reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not allowed for this person's role; nothing they can do about it.
    NotAllowed,
}

impl Refusal {
    /// Translation key of the reason.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::NotAllowed => "errors.forbidden",
        }
    }
}
