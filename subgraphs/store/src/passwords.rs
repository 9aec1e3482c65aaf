//! Argon2id password hashing. Argon2 is deliberately slow (tens of
//! milliseconds), so it runs on a blocking thread, never on the async workers.

use std::sync::OnceLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use salesync_common::{Error, Result};

/// Hashes a new password into a PHC string (algorithm, parameters, salt, hash).
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal(anyhow::anyhow!("failed to hash a password: {e}")))
    })
    .await
    .map_err(|e| Error::internal(anyhow::Error::new(e).context("password hashing task failed")))?
}

/// Whether `password` matches `stored`. With no stored hash (unknown
/// username) a dummy hash is checked anyway, so both failures take as long.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let parsed = PasswordHash::new(&stored).map_err(|e| {
            Error::internal(anyhow::anyhow!("stored password hash is invalid: {e}"))
        })?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| Error::internal(anyhow::Error::new(e).context("password check task failed")))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no such store: this hash only costs time", &salt)
            .map(|h| h.to_string())
            .expect("BUG: hashing a constant with default parameters cannot fail")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".into(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse".into(), Some(stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("anything".into(), None).await.expect("verify"));
    }
}
