//! The item subgraph: the menu of categories and items, contributed to the
//! `Store` entity (SPEC §2, item section).
//!
//! - `domain`: names, prices and descriptions
//! - `db`: the tables, through sea-orm
//! - `schema`: the GraphQL types, resolvers and dataloaders

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod schema;

use anyhow::Context;
use salesync_common::{
    app::{Application, Events, Subgraph},
    config::{Layers, Settings},
};

use crate::{config::ItemConfig, schema::ItemState};

/// The item subgraph.
pub struct Item;

impl Subgraph for Item {
    type Config = ItemConfig;
    type Migrator = item_migration::Migrator;

    fn config(layers: &Layers) -> anyhow::Result<ItemConfig> {
        ItemConfig::from_layers(layers)
    }

    fn settings(config: &ItemConfig) -> &Settings {
        &config.settings
    }

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(config: ItemConfig) -> anyhow::Result<Application> {
        let settings = &config.settings;
        let db = Self::database(settings).await.context("item database")?;
        let events = Events::connect(settings, &db).await?;
        let schema = schema::build(ItemState::new(db.conn.clone()));
        let routes = salesync_common::graphql::routes(schema, events.token_verifier(settings));
        events.bind(settings, routes, events::consumers()).await
    }
}
