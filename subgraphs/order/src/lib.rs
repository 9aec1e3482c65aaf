//! The order subgraph: table orders from several terminals, priced from the
//! menu, live to every terminal (SPEC §2, order section).
//!
//! - `domain`: lines, quantities, merging and totals
//! - `service`: every change to an order, in one transaction with its event
//! - `upstream`: the item and store subgraphs, asked on the caller's behalf
//! - `schema`: GraphQL; `internal`: the pay endpoint for the sale subgraph
//! - `events`: the `tableChanged` feed and the `StoreDeleted` consumer

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod internal;
pub mod schema;
pub mod service;
pub mod snapshot;
pub mod upstream;

use anyhow::Context;
use salesync_common::{
    app::{Application, Events, Subgraph},
    config::{Layers, Settings},
};

use crate::{
    config::OrderConfig, events::OrderFeed, schema::OrderState, service::Orders, upstream::Upstream,
};

/// The order subgraph.
pub struct Order;

impl Subgraph for Order {
    type Config = OrderConfig;
    type Migrator = order_migration::Migrator;

    fn config(layers: &Layers) -> anyhow::Result<OrderConfig> {
        OrderConfig::from_layers(layers)
    }

    fn settings(config: &OrderConfig) -> &Settings {
        &config.settings
    }

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(config: OrderConfig) -> anyhow::Result<Application> {
        let settings = &config.settings;
        let db = Self::database(settings).await.context("order database")?;
        let events = Events::connect(settings, &db).await?;
        let upstream = Upstream::new(config.upstream.clone());
        let orders = Orders::new(db.conn.clone(), upstream.clone(), events.outbox.clone());
        let feed = OrderFeed::default();
        let verifier = events.token_verifier(settings);
        let schema = schema::build(OrderState::new(orders.clone(), upstream, feed.clone()));
        let routes = salesync_common::graphql::routes(schema, verifier.clone()).merge(
            internal::routes(orders, verifier, settings.internal_key.clone()),
        );
        let bus = events.bus.clone();
        Ok(events
            .bind(settings, routes, events::consumers())
            .await?
            .with_task("order-feed", move |stop| feed.run(bus, stop)))
    }
}
