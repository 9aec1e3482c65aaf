//! The store subgraph: sign-up, login, the store's profile, and the keys
//! that sign every Salesync token.
//!
//! - `schema`: GraphQL types and resolvers; input is parsed into `domain` types
//! - `service`: each use case, with its transaction and event
//! - `domain`: the rules for usernames, passwords and profile fields
//! - `db`: the tables and their queries, through sea-orm
//! - `events`: what it publishes
//! - `tokens`, `passwords`: signing keys and Argon2id

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod passwords;
pub mod schema;
pub mod service;
pub mod tokens;

use axum::{Json, Router, routing::get};
use salesync_common::app::{Application, Builder, Subgraph};
use secrecy::SecretString;

use crate::{
    config::StoreSections,
    service::Accounts,
    tokens::{TokenIssuer, load_or_generate_pem},
};

/// The store subgraph.
pub struct Store;

impl Subgraph for Store {
    const NAME: &'static str = "store";
    const DEFAULT_PORT: u16 = 4101;
    type Sections = StoreSections;
    type Migrator = store_migration::Migrator;

    fn sdl() -> String {
        schema::sdl()
    }

    /// Loads the signing key; serves the schema and the JWKS. Tokens are
    /// checked against this subgraph's own keys.
    async fn build(parts: Builder, sections: StoreSections) -> anyhow::Result<Application> {
        let settings = parts.settings();
        let tokens = TokenIssuer::from_pem(
            &signing_key(&sections, &settings.data_dir)?,
            chrono::Duration::seconds(sections.tokens.ttl_seconds),
            &settings.auth,
        )?;
        // The store subgraph records deletions and revocations itself, in
        // the transaction of the change.
        let verifier = tokens
            .verifier(&settings.auth)?
            .checking_store_access(parts.store_access());
        let jwks = tokens.jwks().clone();
        let accounts = Accounts::new(
            parts.db(),
            tokens,
            sections.login,
            parts.outbox(),
            parts.store_access(),
        );
        let routes = Router::new()
            .route(
                "/.well-known/jwks.json",
                get(move || {
                    let jwks = jwks.clone();
                    async move { Json(jwks) }
                }),
            )
            .merge(salesync_common::graphql::routes(
                schema::build(accounts),
                verifier,
                parts.metrics(),
            ));
        parts.serve(routes).await
    }
}

/// The signing key: from configuration, else from (or generated into) a file.
fn signing_key(
    sections: &StoreSections,
    data_dir: &std::path::Path,
) -> anyhow::Result<SecretString> {
    if let Some(pem) = &sections.tokens.signing_key_pem {
        return Ok(pem.clone());
    }
    let path = sections
        .tokens
        .signing_key_file
        .clone()
        .unwrap_or_else(|| data_dir.join("store-signing-key.pem"));
    load_or_generate_pem(&path)
}
