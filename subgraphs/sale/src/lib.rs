//! The sale subgraph: checkout that never charges twice and never loses a
//! sale, split payments, refunds, business days and the day close.
//!
//! - `schema`: GraphQL types and resolvers; input is parsed into `domain` types
//! - `service`: each use case, with its transaction and event; the checkout
//!   sequence across subgraphs and its recovery
//! - `domain`: payments, refunds, statuses, totals
//! - `db`: the tables and their queries, through sea-orm
//! - `events`: what it publishes, and the store calendars it consumes
//! - `internal`: the paid sales' history, for the dashboard's rebuild
//! - `upstream`: the order and store subgraphs

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod internal;
pub mod schema;
pub mod service;
pub mod upstream;

use salesync_common::{
    app::{Application, Builder, Subgraph},
    events::topics,
};

use crate::{config::SaleSections, schema::SaleState, service::Sales, upstream::Upstream};

/// The sale subgraph.
pub struct Sale;

impl Subgraph for Sale {
    const NAME: &'static str = "sale";
    const DEFAULT_PORT: u16 = 4104;
    type Sections = SaleSections;
    type Migrator = sale_migration::Migrator;

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(parts: Builder, sections: SaleSections) -> anyhow::Result<Application> {
        let settings = parts.settings();
        let upstream = Upstream::new(sections.upstream, settings.internal_key.clone());
        let calendars = parts.store_copy();
        let sales = Sales::new(
            parts.db(),
            upstream,
            parts.outbox(),
            settings.clock.clone(),
            sections.faults,
            sections.recovery,
            calendars.clone(),
        );
        let schema = schema::build(SaleState::new(sales.clone()));
        let verifier = parts.token_verifier();
        let routes =
            salesync_common::graphql::routes(schema, verifier.clone(), parts.metrics()).merge(
                internal::routes(sales.clone(), verifier, settings.internal_key.clone()),
            );
        let recovery = sales.clone();
        parts
            .consume(topics::STORES, events::StoreCalendars)
            .task("store-calendars", move |stop| calendars.run(stop))
            .follow_store_access(sales)
            .task("sale-recovery", move |stop| recovery.run_recovery(stop))
            .serve(routes)
            .await
    }
}
