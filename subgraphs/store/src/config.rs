//! The store subgraph's own configuration: `[tokens]` and `[login]`
//! (`SALESYNC_TOKENS__*`, `SALESYNC_LOGIN__*`), beside the shared settings.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StoreSections {
    pub tokens: TokenSettings,
    pub login: LoginSettings,
}

/// How tokens are signed and how long they last.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    /// Lifetime of a token in seconds (default 12 hours: one business day).
    pub ttl_seconds: i64,
    /// The Ed25519 private key (PKCS#8 PEM). Takes precedence over the file.
    pub signing_key_pem: Option<SecretString>,
    /// Where the key is kept; generated there if missing.
    /// Default: `<data_dir>/store-signing-key.pem`.
    pub signing_key_file: Option<PathBuf>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            ttl_seconds: 12 * 60 * 60,
            signing_key_pem: None,
            signing_key_file: None,
        }
    }
}

/// How repeated failed logins are slowed down.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct LoginSettings {
    /// Failed attempts for one username within the window before it is locked.
    pub max_failures: i32,
    /// Failed attempts from one client address (whatever the usernames)
    /// within the window before the address is locked. Higher than per
    /// username: a restaurant's terminals share one address.
    pub max_failures_per_address: i32,
    /// The window in which failures are counted, in seconds.
    pub window_seconds: i64,
    /// How long a locked username refuses every login, in seconds.
    pub lock_seconds: i64,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            max_failures: 5,
            max_failures_per_address: 20,
            window_seconds: 15 * 60,
            lock_seconds: 15 * 60,
        }
    }
}
