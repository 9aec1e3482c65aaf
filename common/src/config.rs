//! Layered configuration: defaults, then an optional TOML file
//! (`SALESYNC_CONFIG_FILE`, else `salesync.toml` in the working directory if
//! present), then `SALESYNC_*` environment variables (nested keys with `__`:
//! `SALESYNC_AUTH__JWKS_URL`). The conventional `DATABASE_URL` and
//! `KAFKA_BROKERS` are honoured too. `.env.example` documents every variable.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    db::PoolSettings,
    events::{BusTarget, KafkaSettings, retention::RetentionSettings},
};

/// The raw layers, from which each part of a service reads its own section.
#[derive(Clone)]
pub struct Layers(config::Config);

impl Layers {
    /// Reads defaults, the file and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("SALESYNC_CONFIG_FILE").ok();
        let mut builder = config::Config::builder();
        builder = match &file {
            Some(path) => builder.add_source(config::File::with_name(path).required(true)),
            None => builder.add_source(config::File::with_name("salesync.toml").required(false)),
        };
        builder = builder
            .add_source(
                config::Environment::with_prefix("SALESYNC")
                    .prefix_separator("_")
                    .separator("__"),
            )
            .set_override_option("server_database_url", std::env::var("DATABASE_URL").ok())?
            .set_override_option("kafka.brokers", std::env::var("KAFKA_BROKERS").ok())?;
        let config = builder
            .build()
            .with_context(|| format!("failed to read configuration (file: {file:?})"))?;
        Ok(Layers(config))
    }

    /// Layers with nothing set: every value is its default.
    pub fn empty() -> Self {
        Layers(config::Config::default())
    }

    /// These layers with `key` (dotted: `tokens.ttl_seconds`) set on top of
    /// every other source: how the test harness configures a system.
    pub fn with(self, key: &str, value: impl Into<config::Value>) -> anyhow::Result<Self> {
        let config = config::Config::builder()
            .add_source(self.0)
            .set_override(key, value)?
            .build()
            .with_context(|| format!("failed to set `{key}`"))?;
        Ok(Layers(config))
    }

    /// The settings every service shares, for the named service.
    pub fn service(&self, service: &'static str, default_port: u16) -> anyhow::Result<Settings> {
        let raw: RawSettings = self
            .0
            .clone()
            .try_deserialize()
            .context("invalid configuration")?;
        Ok(raw.resolve(service, default_port))
    }

    /// A service's own sections (`[tokens]` in the file,
    /// `SALESYNC_TOKENS__*` in the environment), each at its defaults when absent.
    pub fn sections<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        self.0
            .clone()
            .try_deserialize()
            .context("invalid configuration")
    }
}

/// For a service with no sections of its own.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoSections {}

/// A service's whole configuration: the shared settings and its own sections.
#[derive(Debug, Clone)]
pub struct Config<S> {
    pub settings: Settings,
    pub sections: S,
}

impl<S: DeserializeOwned> Config<S> {
    pub fn load(layers: &Layers, service: &'static str, default_port: u16) -> anyhow::Result<Self> {
        Ok(Config {
            settings: layers.service(service, default_port)?,
            sections: layers.sections()?,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawSettings {
    host: Option<String>,
    port: Option<u16>,
    database_url: Option<String>,
    server_database_url: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    auth: AuthSettings,
    #[serde(default)]
    kafka: KafkaSettings,
    #[serde(default)]
    retention: RetentionSettings,
    #[serde(default)]
    pool: PoolSettings,
    internal_key: Option<String>,
    #[serde(default)]
    log_format: LogFormat,
}

impl RawSettings {
    fn resolve(self, service: &'static str, default_port: u16) -> Settings {
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let database = match (self.database_url, self.server_database_url) {
            (Some(url), _) => DatabaseTarget::Exact(SecretString::from(url)),
            (None, Some(server)) => DatabaseTarget::PerService(SecretString::from(server)),
            (None, None) => DatabaseTarget::SqliteIn(data_dir.clone()),
        };
        let bus = if self.kafka.brokers.trim().is_empty() {
            BusTarget::InProcess
        } else {
            BusTarget::Kafka(self.kafka)
        };
        let internal_key = match self.internal_key.filter(|k| !k.trim().is_empty()) {
            Some(key) => SecretString::from(key),
            None => local_internal_key(&data_dir),
        };
        Settings {
            service,
            internal_key,
            host: self.host.unwrap_or_else(|| "127.0.0.1".to_string()),
            port: self.port.unwrap_or(default_port),
            database,
            data_dir,
            auth: self.auth,
            bus,
            retention: self.retention,
            pool: self.pool,
            log_format: self.log_format,
            clock: crate::clock::Clock::system(),
        }
    }
}

/// What every service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The subgraph's name: `store`, `item`, ...
    pub service: &'static str,
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    pub database: DatabaseTarget,
    /// Where local state lives in the one-command run: SQLite files, generated keys.
    pub data_dir: PathBuf,
    pub auth: AuthSettings,
    /// Kafka when `KAFKA_BROKERS` is set, else the in-process bus.
    pub bus: BusTarget,
    /// The shared secret of subgraph-to-subgraph endpoints that are not part
    /// of the public API (`SALESYNC_INTERNAL_KEY`). Unset, the local run's
    /// own, kept in the data folder: enough on one machine; set the same
    /// value for every subgraph anywhere else.
    pub internal_key: SecretString,
    /// How long published events and applied event ids are kept.
    pub retention: RetentionSettings,
    /// Its database connections.
    pub pool: PoolSettings,
    pub log_format: LogFormat,
    /// The system clock, except in tests that must stand at a given hour.
    pub clock: crate::clock::Clock,
}

/// The internal key of this machine's local run: `<data_dir>/internal-key`,
/// made on first use, so every process of the run (the one-command run and
/// a command beside it, such as the dashboard's rebuild) shares it. Where the
/// folder cannot be written, a random key for this process alone.
fn local_internal_key(data_dir: &std::path::Path) -> SecretString {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let random = || {
        format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
    };
    let path = data_dir.join("internal-key");
    let from_file = || -> std::io::Result<String> {
        if let Ok(key) = std::fs::read_to_string(&path)
            && !key.trim().is_empty()
        {
            return Ok(key.trim().to_string());
        }
        std::fs::create_dir_all(data_dir)?;
        write_private(&path, &random())?;
        // Ours, or the one another process of the run wrote a moment before.
        Ok(std::fs::read_to_string(&path)?.trim().to_string())
    };
    match from_file() {
        Ok(key) => SecretString::from(key),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot keep the internal key; using one for this process");
            SecretString::from(KEY.get_or_init(random).clone())
        }
    }
}

/// Writes a secret readable by its owner only.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => file.write_all(contents.as_bytes()),
        // Another process of the run wrote it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Which database a service uses.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// `SALESYNC_DATABASE_URL`: this exact database (one service per process).
    Exact(SecretString),
    /// `DATABASE_URL`: a server shared by services; each uses its own database
    /// named `<name>_<service>`, where `<name>` is the URL's database or `salesync`.
    PerService(SecretString),
    /// Nothing set: a SQLite file `<service>.db` in this folder.
    SqliteIn(PathBuf),
}

impl DatabaseTarget {
    /// The connection URL for `service`'s own database.
    pub fn url_for(&self, service: &str) -> anyhow::Result<SecretString> {
        match self {
            DatabaseTarget::Exact(url) => Ok(url.clone()),
            DatabaseTarget::PerService(server) => {
                let mut url = url::Url::parse(server.expose_secret())
                    .context("DATABASE_URL is not a valid URL")?;
                let base = url.path().trim_start_matches('/');
                let base = if base.is_empty() { "salesync" } else { base };
                let name = format!("{base}_{service}");
                url.set_path(&name);
                Ok(SecretString::from(url.to_string()))
            }
            DatabaseTarget::SqliteIn(dir) => Ok(SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{service}.db")).display()
            ))),
        }
    }
}

/// How a service verifies the bearer tokens the store subgraph issues.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Where the store subgraph publishes its public keys.
    pub jwks_url: String,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry.
    pub audience: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            jwks_url: "http://127.0.0.1:4101/.well-known/jwks.json".to_string(),
            issuer: "salesync-store".to_string(),
            audience: "salesync".to_string(),
        }
    }
}

/// Log output: `pretty` for people, `json` for log collectors.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(target: DatabaseTarget, service: &str) -> String {
        target
            .url_for(service)
            .expect("valid URL")
            .expose_secret()
            .to_string()
    }

    #[test]
    fn a_shared_server_gives_each_service_its_own_database() {
        let server = SecretString::from("postgres://postgres@127.0.0.1:5432/");
        assert_eq!(
            url(DatabaseTarget::PerService(server), "store"),
            "postgres://postgres@127.0.0.1:5432/salesync_store"
        );
        let named = SecretString::from("postgres://u:p@db:5432/t123");
        assert_eq!(
            url(DatabaseTarget::PerService(named), "item"),
            "postgres://u:p@db:5432/t123_item"
        );
    }

    #[test]
    fn without_a_server_each_service_gets_a_sqlite_file() {
        let target = DatabaseTarget::SqliteIn(PathBuf::from("/tmp/d"));
        assert_eq!(url(target, "store"), "sqlite:///tmp/d/store.db?mode=rwc");
    }

    #[test]
    fn defaults_need_no_configuration() {
        // Only the folder is set, so the local internal key lands there.
        let dir = std::env::temp_dir().join(format!("salesync-defaults-{}", uuid::Uuid::new_v4()));
        let settings = Layers::empty()
            .with("data_dir", dir.display().to_string())
            .and_then(|l| l.service("store", 4101))
            .expect("defaults");
        assert_eq!(settings.port, 4101);
        assert_eq!(settings.host, "127.0.0.1");
        assert!(matches!(settings.database, DatabaseTarget::SqliteIn(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_local_internal_key_is_kept_and_shared() {
        let dir = std::env::temp_dir().join(format!("salesync-key-{}", uuid::Uuid::new_v4()));
        let first = local_internal_key(&dir);
        let again = local_internal_key(&dir);
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
