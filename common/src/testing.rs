//! Test support for every subgraph: a fresh PostgreSQL database per test,
//! or a SQLite file of its own for what the local run must do.
//!
//! `SALESYNC_TEST_DATABASE_URL` names the server (default: the local one with
//! trust auth). Each test database is named `salesync_test_<uuid>`, so the
//! test script can drop leftovers by prefix.

use secrecy::SecretString;
use uuid::Uuid;

use crate::config::DatabaseTarget;

/// The PostgreSQL server tests run against.
pub fn test_server_url() -> String {
    std::env::var("SALESYNC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A database target unique to one test: every service of the test gets its
/// own database `salesync_test_<uuid>_<service>` on the test server.
pub fn fresh_server_database() -> DatabaseTarget {
    fresh_database_on(&test_server_url())
}

/// [`fresh_server_database`] on `server`, whose parameters
/// (`?sslmode=disable`) every service's URL keeps.
fn fresh_database_on(server: &str) -> DatabaseTarget {
    let mut url = url::Url::parse(server).expect("SALESYNC_TEST_DATABASE_URL is a postgres:// URL");
    url.set_path(&format!("salesync_test_{}", Uuid::new_v4().simple()));
    DatabaseTarget::PerService(SecretString::from(url.to_string()))
}

/// A SQLite database of the test's own, in a file under the temp folder,
/// opened as a service opens one (WAL, busy timeout): for what the local
/// run's database must do. `name` shows in the file's name.
pub async fn scratch_sqlite(name: &str) -> sea_orm::DatabaseConnection {
    let path = std::env::temp_dir().join(format!("salesync-{name}-{}.db", Uuid::new_v4()));
    let url = SecretString::from(format!("sqlite://{}?mode=rwc", path.display()));
    crate::db::connect(&url, &crate::db::PoolSettings::default())
        .await
        .expect("a SQLite database")
}

/// What a parser of client input may answer, for property tests: the value,
/// or `BAD_USER_INPUT` naming `field`. Any other error (an `INTERNAL` above
/// all) fails the test; so does a panic, before this is reached.
pub fn accepted_or_refused<T: std::fmt::Debug>(result: crate::Result<T>, field: &str) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(crate::Error::BadUserInput { field: named, .. }) => {
            assert!(
                named.starts_with(field),
                "the error names {named:?}, not {field:?}"
            );
            None
        }
        Err(other) => panic!("{field}: expected BAD_USER_INPUT, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_test_database_keeps_the_server_urls_parameters() {
        let target = fresh_database_on("postgres://postgres@127.0.0.1:5432?sslmode=disable");
        let url = target.url_for("item").expect("url");
        let url = url::Url::parse(url.expose_secret()).expect("a URL");
        assert!(url.path().starts_with("/salesync_test_"), "{url}");
        assert!(url.path().ends_with("_item"), "{url}");
        assert_eq!(url.query(), Some("sslmode=disable"));
        assert_eq!(url.host_str(), Some("127.0.0.1"));
    }
}
