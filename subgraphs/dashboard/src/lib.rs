//! The dashboard subgraph: item costs, and sales and profit per item and per
//! business day from its own read model, which only the sale events feed;
//! and the consulting results, live over a subscription.
//!
//! - `schema`: GraphQL types and resolvers; input is parsed into `domain` types
//! - `service`: each use case; the one place the read model changes; the rebuild
//! - `domain`: costs, what a sale or refund adds, reports, zero-filled days
//! - `db`: the tables and their queries, through sea-orm
//! - `events`: the sale events it consumes
//! - `internal`: the report, for the consulting subgraph's worker
//! - `upstream`: the item subgraph (before costs are written) and the sale
//!   subgraph's history (for a rebuild)
//!
//! `salesync-dashboard rebuild [--store <id>]` rebuilds the read model from
//! the sale subgraph's paid sales and refunds, while the service runs.

pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod internal;
pub mod schema;
pub mod service;
pub mod upstream;

use anyhow::Context;
use salesync_common::{
    app::{Application, Builder, Subgraph},
    events::{Latency, feed::Envelope, topics},
};
use uuid::Uuid;

use crate::{
    config::DashboardSections, schema::DashboardState, service::Dashboard as Service,
    upstream::Upstream,
};

/// The dashboard subgraph.
pub struct Dashboard;

impl Dashboard {
    fn service(parts: &Builder, sections: DashboardSections) -> Service {
        let settings = parts.settings();
        let upstream = Upstream::new(sections.upstream, settings.internal_key.clone());
        Service::new(parts.db(), upstream, settings.clock.clone())
    }
}

impl Subgraph for Dashboard {
    const NAME: &'static str = "dashboard";
    const DEFAULT_PORT: u16 = 4105;
    type Sections = DashboardSections;
    type Migrator = dashboard_migration::Migrator;

    const COMMANDS: &'static [(&'static str, &'static str)] = &[(
        "rebuild",
        "rebuild the read model from the sale subgraph's sales: `rebuild [--store <id>]`",
    )];

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(parts: Builder, sections: DashboardSections) -> anyhow::Result<Application> {
        let dashboard = Self::service(&parts, sections);
        let feed = events::ConsultingFeed::default();
        let schema = schema::build(
            DashboardState::new(dashboard.clone(), feed.clone()),
            parts.db(),
        );
        let verifier = parts.token_verifier();
        let internal_key = parts.settings().internal_key.clone();
        let routes = salesync_common::graphql::routes(schema, verifier.clone(), parts.metrics())
            .merge(internal::routes(dashboard.clone(), verifier, internal_key));
        let bus = parts.bus();
        parts
            .consume(topics::SALES, events::SalesFeed(dashboard.clone()))
            .consume(
                topics::CONSULTING,
                events::ConsultingResults(dashboard.clone()),
            )
            .task("consulting-feed", move |stop| {
                feed.run(
                    bus,
                    topics::CONSULTING,
                    Latency::Live,
                    |event: &Envelope<'_>| events::consulting_update(event),
                    stop,
                )
            })
            .follow_store_access(dashboard)
            .serve(routes)
            .await
    }

    async fn command(
        name: &str,
        args: Vec<String>,
        parts: Builder,
        sections: DashboardSections,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(name == "rebuild", "no command {name:?}");
        let store = match args.as_slice() {
            [] => None,
            [flag, id] if flag == "--store" => {
                Some(Uuid::parse_str(id).with_context(|| format!("{id:?} is not a store id"))?)
            }
            _ => anyhow::bail!("usage: salesync-dashboard rebuild [--store <id>]"),
        };
        let rebuilt = Self::service(&parts, sections).rebuild(store).await?;
        println!(
            "rebuilt {} store(s): {} sales, {} refunds",
            rebuilt.stores, rebuilt.sales, rebuilt.refunds
        );
        Ok(())
    }
}
