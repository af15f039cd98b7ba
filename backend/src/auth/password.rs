//! Argon2id password hashing. Hashing is CPU-heavy, so it runs on the blocking
//! thread pool, never on the async executor.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

/// Verified when an email is unknown, so a failed login takes as long whether
/// or not the account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"samskab-timing-equaliser")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// `true` when `password` matches `stored`. A missing hash is compared with a
/// dummy hash (and fails) to keep the timing the same.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok();
    ok && real
}

pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", Some(&h)));
        assert!(!verify("wrong", Some(&h)));
    }

    #[test]
    fn unknown_account_never_verifies() {
        assert!(!verify("samskab-timing-equaliser", None));
    }
}
