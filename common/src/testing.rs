//! Test support for every subgraph: a fresh PostgreSQL database per test.
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
    let base = format!("salesync_test_{}", Uuid::new_v4().simple());
    let url = format!("{}/{}", test_server_url().trim_end_matches('/'), base);
    DatabaseTarget::PerService(SecretString::from(url))
}
