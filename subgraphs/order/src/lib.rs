//! The order subgraph: table orders from several terminals, priced from the
//! menu, live to every terminal.
//!
//! - `schema`: GraphQL types and resolvers; input is parsed into `domain` types
//! - `service`: every change to an order, in one transaction with its event
//! - `domain`: lines, quantities, merging, totals, statuses
//! - `db`: the tables and their queries, through sea-orm
//! - `events`: the `tableChanged` feed; the copy of each store's facts
//! - `upstream`: the item and store subgraphs, asked on the caller's behalf
//! - `internal`: the pay endpoint for the sale subgraph

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod internal;
pub mod schema;
pub mod service;
pub mod snapshot;
pub mod upstream;

use salesync_common::{
    app::{Application, Builder, Subgraph},
    events::{Latency, topics},
};

use crate::{
    config::OrderSections, events::OrderFeed, schema::OrderState, service::Orders,
    upstream::Upstream,
};

/// The order subgraph.
pub struct Order;

impl Subgraph for Order {
    const NAME: &'static str = "order";
    const DEFAULT_PORT: u16 = 4103;
    type Sections = OrderSections;
    type Migrator = order_migration::Migrator;

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(parts: Builder, sections: OrderSections) -> anyhow::Result<Application> {
        let internal_key = parts.settings().internal_key.clone();
        let upstream = Upstream::new(sections.upstream, internal_key.clone());
        let clock = parts.settings().clock.clone();
        let facts = parts.store_copy();
        let orders = Orders::new(parts.db(), upstream, parts.outbox(), clock, facts.clone());
        let feed = OrderFeed::default();
        let verifier = parts.token_verifier();
        let schema = schema::build(OrderState::new(orders.clone(), feed.clone()));
        let routes = salesync_common::graphql::routes(schema, verifier.clone(), parts.metrics())
            .merge(internal::routes(orders.clone(), verifier, internal_key));
        let bus = parts.bus();
        parts
            .consume(topics::STORES, events::StoreFactsCopy)
            .task("store-facts", move |stop| facts.run(stop))
            .follow_store_access(orders)
            .task("order-feed", move |stop| {
                feed.run(bus, topics::ORDERS, Latency::Live, events::order_of, stop)
            })
            .serve(routes)
            .await
    }
}
