//! The consulting subgraph: promotion advice written from a store's own
//! sales report, in the background, by an OpenAI-compatible model or, with
//! no key configured, by the built-in analyst.
//!
//! - `schema`: GraphQL types and resolvers
//! - `service`: requests, and the workers that write the advice and publish
//!   how it goes
//! - `domain`: statuses, languages, the report, the model's prompt
//! - `analyst`: the built-in analyst (menu engineering), pure
//! - `model`: the model, through async-openai, streamed
//! - `db`: the requests table and its queries, through sea-orm
//! - `events`: what it publishes on `consulting`
//! - `upstream`: the dashboard subgraph's report

pub mod analyst;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod model;
pub mod schema;
pub mod service;
pub mod upstream;

use salesync_common::app::{Application, Builder, Subgraph};
use secrecy::SecretString;

use crate::{
    config::ConsultingSections, schema::ConsultingState, service::Consulting as Service,
    upstream::Upstream,
};

/// The consulting subgraph.
pub struct Consulting;

impl Subgraph for Consulting {
    const NAME: &'static str = "consulting";
    const DEFAULT_PORT: u16 = 4106;
    type Sections = ConsultingSections;
    type Migrator = consulting_migration::Migrator;

    fn sdl() -> String {
        schema::sdl()
    }

    async fn build(parts: Builder, sections: ConsultingSections) -> anyhow::Result<Application> {
        let settings = parts.settings();
        let mut model = sections.model;
        // The conventional variables, for any OpenAI-compatible server.
        if model.api_key.is_none() {
            model.api_key = std::env::var("OPENAI_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(SecretString::from);
        }
        if model.base_url.is_none() {
            model.base_url = std::env::var("OPENAI_BASE_URL")
                .ok()
                .filter(|u| !u.trim().is_empty());
        }
        let consulting = Service::new(
            parts.db(),
            parts.outbox(),
            settings.clock.clone(),
            Upstream::new(sections.upstream, settings.internal_key.clone()),
            model,
            sections.worker,
        );
        let schema = schema::build(ConsultingState::new(consulting.clone()));
        let routes =
            salesync_common::graphql::routes(schema, parts.token_verifier(), parts.metrics());
        let workers = consulting.clone();
        parts
            .follow_store_access(consulting)
            .task("consulting-workers", move |stop| workers.run_workers(stop))
            .serve(routes)
            .await
    }
}
