//! Where a person may be sent after an action: [`LocalPath`], the one check for
//! every redirect target that comes from a request (`next` after login, the
//! OpenID Connect round trip, the language switch).
//!
//! Browsers are lenient with `Location`: they drop tabs and newlines, treat a
//! backslash as a slash and read `//host` as another site, so `/\t/evil.example`
//! lands on `evil.example`. A target is therefore accepted only when it is, both
//! as written and after the `url` crate has resolved it against a fixed
//! origin, an absolute path on that origin with no control or whitespace
//! character, no backslash and no `//` at its start. Anything else is replaced
//! by the page the caller names as its default.

use std::fmt;

use url::Url;

/// Longer targets are refused: nobody needs them, and they would make headers huge.
pub const MAX_LEN: usize = 2048;

/// Resolution base; only its origin matters. `.invalid` can never be a real host.
const BASE: &str = "https://samskab.invalid/";

/// A path (with optional query and fragment) on this site, safe to put in a
/// `Location` header or a link: printable ASCII only, starting with exactly one `/`.
/// Kept in the session as a string and checked again when read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct LocalPath(String);

impl From<LocalPath> for String {
    fn from(path: LocalPath) -> String {
        path.0
    }
}

impl TryFrom<String> for LocalPath {
    type Error = &'static str;

    fn try_from(target: String) -> Result<Self, Self::Error> {
        LocalPath::parse(&target).ok_or("not a path on this site")
    }
}

/// The character rules, applied to the target as given and as resolved.
fn plain_path(s: &str) -> bool {
    s.len() <= MAX_LEN
        && s.starts_with('/')
        && !s.starts_with("//")
        && !s
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

impl LocalPath {
    /// The target if it stays on this site, in the form the `url` crate
    /// resolves it to (dot segments removed, non-ASCII percent-encoded).
    pub fn parse(target: &str) -> Option<LocalPath> {
        if !plain_path(target) {
            return None;
        }
        let base = Url::parse(BASE).ok()?;
        let resolved = base.join(target).ok()?;
        if resolved.origin() != base.origin()
            || !resolved.username().is_empty()
            || resolved.password().is_some()
        {
            return None;
        }
        let mut out = resolved.path().to_owned();
        if let Some(query) = resolved.query() {
            out.push('?');
            out.push_str(query);
        }
        if let Some(fragment) = resolved.fragment() {
            out.push('#');
            out.push_str(fragment);
        }
        // Resolving can create a new leading `//` (`/.//evil.example`).
        (plain_path(&out) && out.is_ascii()).then_some(LocalPath(out))
    }

    /// `target` when it is local, otherwise `default` (a fixed path of the caller).
    pub fn or(target: Option<&str>, default: &str) -> LocalPath {
        target
            .and_then(LocalPath::parse)
            .or_else(|| LocalPath::parse(default))
            .unwrap_or_else(|| LocalPath("/".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LocalPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(s: &str) -> Option<String> {
        LocalPath::parse(s).map(|p| p.0)
    }

    #[test]
    fn keeps_ordinary_paths() {
        assert_eq!(
            parsed("/consultations/x?tab=1").as_deref(),
            Some("/consultations/x?tab=1")
        );
        assert_eq!(parsed("/account").as_deref(), Some("/account"));
        assert_eq!(
            parsed("/ideas/3#comment-4").as_deref(),
            Some("/ideas/3#comment-4")
        );
        assert_eq!(parsed("/").as_deref(), Some("/"));
        assert_eq!(parsed("/idéer").as_deref(), Some("/id%C3%A9er"));
        assert_eq!(parsed("/a/../b").as_deref(), Some("/b"));
    }

    #[test]
    fn refuses_everything_that_can_leave_the_site() {
        for target in [
            "",
            "//evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/\r\n/x",
            "/\0",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/x",
            "/\\evil",
            "\\\\evil",
            "/\\/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/.//evil.example",
            "/..//evil.example",
            "/a/../..//evil.example",
            "///evil.example",
        ] {
            assert_eq!(parsed(target), None, "{target:?}");
        }
        assert_eq!(parsed(&format!("/{}", "a".repeat(MAX_LEN))), None);
    }

    #[test]
    fn is_checked_again_when_read_back() {
        let json = serde_json::to_string(&LocalPath::or(Some("/ideas/3"), "/")).expect("json");
        assert_eq!(json, "\"/ideas/3\"");
        let back: LocalPath = serde_json::from_str(&json).expect("read back");
        assert_eq!(back.as_str(), "/ideas/3");
        assert!(serde_json::from_str::<LocalPath>("\"//evil.example\"").is_err());
    }

    #[test]
    fn falls_back_to_the_default() {
        assert_eq!(
            LocalPath::or(Some("//evil.example"), "/account").as_str(),
            "/account"
        );
        assert_eq!(LocalPath::or(None, "/account").as_str(), "/account");
        assert_eq!(LocalPath::or(Some("/x"), "/account").as_str(), "/x");
    }

    /// The promise of the type, for any accepted input.
    pub fn assert_local(original: &str, p: &LocalPath) {
        let s = p.as_str();
        assert!(
            s.starts_with('/') && !s.starts_with("//"),
            "{original:?} → {s:?}"
        );
        assert!(
            s.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'),
            "{original:?} → {s:?}"
        );
        let base = Url::parse(BASE).expect("base");
        let joined = base.join(s).expect("joins");
        assert_eq!(joined.origin(), base.origin(), "{original:?} → {s:?}");
        // Stable: what it gives back is accepted unchanged.
        assert_eq!(
            LocalPath::parse(s).as_ref(),
            Some(p),
            "{original:?} → {s:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn anything_accepted_stays_on_the_site(target in "\\PC*|[/\\\\.\t\n\r \0@:a-z%?#]{0,12}") {
            if let Some(p) = LocalPath::parse(&target) {
                assert_local(&target, &p);
            }
        }

        #[test]
        fn prefixed_hostile_paths_are_refused_or_local(
            prefix in "[/\\\\.\t\n ]{1,5}",
            rest in "[a-z.:/@]{0,20}",
        ) {
            let target = format!("{prefix}{rest}");
            if let Some(p) = LocalPath::parse(&target) {
                assert_local(&target, &p);
            }
        }

        #[test]
        fn ordinary_paths_are_kept(segments in proptest::collection::vec("[a-z0-9_-]{1,10}", 1..5), tab in 0u8..10) {
            let target = format!("/{}?tab={tab}", segments.join("/"));
            prop_assert_eq!(parsed(&target), Some(target.clone()));
        }
    }
}
