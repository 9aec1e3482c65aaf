//! Where the router finds each subgraph: `<NAME>_URL` from the environment
//! (`STORE_URL`, `ITEM_URL`, ...), else the URL the supergraph was composed
//! with. An empty variable counts as unset.
//!
//! The URLs are written into the supergraph as it loads (at start and on
//! every reload), so each subgraph has one fixed address. The router's
//! `override_subgraph_urls` could read the same variables with an
//! expression, but it evaluates that expression on every subgraph request,
//! after copying the client's request (headers, query, token claims) into
//! its input.

use hive_router::{
    graphql_tools::static_graphql::schema::{Definition, Document, TypeDefinition, Value},
    plugins::{
        hooks::{
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
            on_supergraph_load::{
                OnSupergraphLoadStartHookPayload, OnSupergraphLoadStartHookResult,
            },
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
};
use serde::Deserialize;

/// The directive on each value of the supergraph's `join__Graph` enum that
/// names a subgraph and its URL.
const JOIN_GRAPH: &str = "join__graph";

#[derive(Debug, Default, Deserialize)]
pub struct SubgraphUrlsConfig {}

pub struct SubgraphUrlsPlugin;

/// The variable that holds `subgraph`'s URL: `STORE_URL` for `store`.
pub fn variable(subgraph: &str) -> String {
    format!("{}_URL", subgraph.to_uppercase())
}

/// Points every subgraph of `supergraph` at the URL `lookup` gives for its
/// name, where it gives a non-empty one. Returns the subgraphs it moved.
pub fn override_urls(
    supergraph: &mut Document,
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut moved = Vec::new();
    let enums = supergraph
        .definitions
        .iter_mut()
        .filter_map(|definition| match definition {
            Definition::TypeDefinition(TypeDefinition::Enum(found)) => Some(found),
            _ => None,
        });
    for value in enums.flat_map(|found| found.values.iter_mut()) {
        for directive in value.directives.iter_mut() {
            if directive.name != JOIN_GRAPH {
                continue;
            }
            let Some(name) = directive.arguments.iter().find_map(|(argument, value)| {
                match (argument.as_str(), value) {
                    ("name", Value::String(name)) => Some(name.clone()),
                    _ => None,
                }
            }) else {
                continue;
            };
            let Some(url) = lookup(&name).filter(|url| !url.is_empty()) else {
                continue;
            };
            for (argument, value) in directive.arguments.iter_mut() {
                if argument == "url" {
                    *value = Value::String(url.clone());
                }
            }
            moved.push(name);
        }
    }
    moved
}

#[hive_router::async_trait]
impl RouterPlugin for SubgraphUrlsPlugin {
    type Config = SubgraphUrlsConfig;

    fn plugin_name() -> &'static str {
        "salesync_subgraph_urls"
    }

    fn on_plugin_init(_payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        Ok(Some(SubgraphUrlsPlugin))
    }

    fn on_supergraph_reload<'exec>(
        &'exec self,
        mut payload: OnSupergraphLoadStartHookPayload,
    ) -> OnSupergraphLoadStartHookResult<'exec> {
        let moved = override_urls(&mut payload.new_ast, |subgraph| {
            std::env::var(variable(subgraph)).ok()
        });
        if !moved.is_empty() {
            hive_router::tracing::info!(subgraphs = ?moved, "subgraph URLs taken from the environment");
        }
        payload.proceed()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use hive_router::graphql_tools::parser::schema::parse_schema;

    use super::*;

    const SUPERGRAPH: &str = r#"
        directive @join__graph(name: String!, url: String!) on ENUM_VALUE
        enum join__Graph {
          ITEM @join__graph(name: "item", url: "http://127.0.0.1:4102/graphql")
          STORE @join__graph(name: "store", url: "http://127.0.0.1:4101/graphql")
          ORDER @join__graph(name: "order", url: "http://127.0.0.1:4103/graphql")
        }
        enum Unrelated { A B }
    "#;

    /// Each subgraph's URL in `supergraph`, by name.
    fn urls(supergraph: &Document) -> HashMap<String, String> {
        supergraph
            .definitions
            .iter()
            .filter_map(|definition| match definition {
                Definition::TypeDefinition(TypeDefinition::Enum(found)) => Some(found),
                _ => None,
            })
            .flat_map(|found| found.values.iter())
            .flat_map(|value| value.directives.iter())
            .filter(|directive| directive.name == JOIN_GRAPH)
            .map(|directive| {
                let argument = |wanted: &str| match directive
                    .arguments
                    .iter()
                    .find(|(name, _)| name == wanted)
                {
                    Some((_, Value::String(text))) => text.clone(),
                    other => panic!("{wanted} is {other:?}"),
                };
                (argument("name"), argument("url"))
            })
            .collect()
    }

    fn supergraph() -> Document {
        parse_schema::<String>(SUPERGRAPH)
            .expect("the test supergraph parses")
            .into_static()
    }

    #[test]
    fn a_set_variable_moves_its_subgraph_and_only_that_one() {
        let mut supergraph = supergraph();
        let environment = HashMap::from([
            ("item", "http://item:4102/graphql".to_string()),
            ("order", String::new()),
        ]);
        let moved = override_urls(&mut supergraph, |name| environment.get(name).cloned());

        assert_eq!(moved, vec!["item".to_string()]);
        let urls = urls(&supergraph);
        assert_eq!(urls["item"], "http://item:4102/graphql");
        assert_eq!(
            urls["store"], "http://127.0.0.1:4101/graphql",
            "unset keeps the composed URL"
        );
        assert_eq!(
            urls["order"], "http://127.0.0.1:4103/graphql",
            "empty counts as unset"
        );
    }

    #[test]
    fn the_variable_is_the_subgraph_name_in_capitals() {
        assert_eq!(variable("store"), "STORE_URL");
        assert_eq!(variable("consulting"), "CONSULTING_URL");
    }
}
