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

use anyhow::Context;
use axum::{Json, Router, routing::get};
use salesync_common::{
    app::{Application, Events, Subgraph},
    config::{Layers, Settings},
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::{
    config::StoreConfig,
    db::stores,
    schema::StoreState,
    tokens::{TokenIssuer, load_or_generate_pem},
};

/// The store subgraph.
pub struct Store;

impl Subgraph for Store {
    type Config = StoreConfig;
    type Migrator = store_migration::Migrator;

    fn config(layers: &Layers) -> anyhow::Result<StoreConfig> {
        StoreConfig::from_layers(layers)
    }

    fn settings(config: &StoreConfig) -> &Settings {
        &config.settings
    }

    fn sdl() -> String {
        schema::sdl()
    }

    /// Connects and migrates the database, loads the signing key, binds the port.
    async fn build(config: StoreConfig) -> anyhow::Result<Application> {
        let settings = &config.settings;
        let db = Self::database(settings).await.context("store database")?;
        let tokens = TokenIssuer::from_pem(
            &signing_key(&config)?,
            chrono::Duration::seconds(config.tokens.ttl_seconds),
            &settings.auth,
        )?;
        let verifier = tokens.verifier(&settings.auth)?;
        let jwks = tokens.jwks().clone();
        let events = Events::connect(settings, &db).await?;
        let schema = schema::build(StoreState {
            db: db.conn.clone(),
            tokens,
            login: config.login,
            outbox: events.outbox.clone(),
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
        events.bind(settings, routes, Vec::new()).await
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

pub(crate) async fn store_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Option<stores::Model>, DbErr> {
    stores::Entity::find()
        .filter(stores::Column::Username.eq(username))
        .one(db)
        .await
}
