//! The store subgraph: sign-up, login, the store's profile, and the keys
//! that sign every Salesync token (SPEC §2, store section).
//!
//! - `domain`: the rules for usernames, passwords and profile fields
//! - `db`: the tables, through sea-orm
//! - `schema`: the GraphQL types and resolvers
//! - `tokens`, `passwords`: signing keys and Argon2id

pub mod config;
pub mod db;
pub mod domain;
pub mod passwords;
pub mod schema;
pub mod tokens;

use std::future::Future;

use anyhow::Context;
use axum::{Json, Router, routing::get};
use salesync_common::{
    db::{connect_and_migrate, ping},
    server::{Readiness, Server},
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::{
    config::StoreConfig,
    db::stores,
    schema::StoreState,
    tokens::{TokenIssuer, load_or_generate_pem},
};

/// The store subgraph, bound and ready to run.
pub struct Application {
    server: Server,
}

impl Application {
    /// Connects and migrates the database, loads the signing key, binds the port.
    pub async fn build(config: StoreConfig) -> anyhow::Result<Self> {
        let settings = &config.settings;
        let url = settings.database.url_for(settings.service)?;
        let db = connect_and_migrate::<store_migration::Migrator>(&url)
            .await
            .context("store database")?
            .conn;
        let tokens = TokenIssuer::from_pem(
            &signing_key(&config)?,
            chrono::Duration::seconds(config.tokens.ttl_seconds),
            &settings.auth,
        )?;
        let verifier = tokens.verifier(&settings.auth)?;
        let jwks = tokens.jwks().clone();
        let schema = schema::build(StoreState {
            db: db.clone(),
            tokens,
            login: config.login,
        });
        let routes = Router::new()
            .route(
                "/.well-known/jwks.json",
                get(move || {
                    let jwks = jwks.clone();
                    async move { Json(jwks) }
                }),
            )
            .merge(salesync_common::graphql::routes(schema, verifier));
        let readiness = Readiness::default().check("database", move || {
            let db = db.clone();
            async move { ping(&db).await }
        });
        let server = Server::bind(&settings.host, settings.port, routes, readiness).await?;
        tracing::info!(address = %server.address(), "store subgraph listening");
        Ok(Application { server })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.server.run_until_stopped(shutdown).await
    }
}

/// The signing key: from configuration, else from (or generated into) a file.
fn signing_key(config: &StoreConfig) -> anyhow::Result<SecretString> {
    if let Some(pem) = &config.tokens.signing_key_pem {
        return Ok(pem.clone());
    }
    let path = config
        .tokens
        .signing_key_file
        .clone()
        .unwrap_or_else(|| config.settings.data_dir.join("store-signing-key.pem"));
    load_or_generate_pem(&path)
}

/// Applies the store database's migrations and returns.
pub async fn migrate(config: &StoreConfig) -> anyhow::Result<()> {
    let url = config.settings.database.url_for(config.settings.service)?;
    connect_and_migrate::<store_migration::Migrator>(&url).await?;
    Ok(())
}

pub(crate) async fn store_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Option<stores::Model>, DbErr> {
    stores::Entity::find()
        .filter(stores::Column::Username.eq(username))
        .one(db)
        .await
}
