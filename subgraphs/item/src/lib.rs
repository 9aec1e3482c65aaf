//! The item subgraph: the menu of categories and items, contributed to the
//! `Store` entity.
//!
//! - `schema`: GraphQL types, resolvers and dataloaders; input is parsed into `domain` types
//! - `service`: each use case, with its transaction
//! - `domain`: names, prices and descriptions
//! - `db`: the tables and their queries, through sea-orm
//! - `internal`: the item lookup for the order and dashboard subgraphs
//! - events: it publishes none yet; a deleted store's menu goes with it

pub mod db;
pub mod domain;
pub mod internal;
pub mod schema;
pub mod service;

use salesync_common::{
    app::{Application, Builder, Subgraph},
    config::NoSections,
};

use crate::{schema::ItemState, service::Menu};

/// The item subgraph.
pub struct Item;

impl Subgraph for Item {
    const NAME: &'static str = "item";
    const DEFAULT_PORT: u16 = 4102;
    type Sections = NoSections;
    type Migrator = item_migration::Migrator;

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(parts: Builder, _: NoSections) -> anyhow::Result<Application> {
        let menu = Menu::new(parts.db());
        let schema = schema::build(ItemState::new(menu.clone()));
        let verifier = parts.token_verifier();
        let internal_key = parts.settings().internal_key.clone();
        let routes = salesync_common::graphql::routes(schema, verifier.clone(), parts.metrics())
            .merge(internal::routes(menu.clone(), verifier, internal_key));
        parts.follow_store_access(menu).serve(routes).await
    }
}
