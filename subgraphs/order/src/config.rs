//! The order subgraph's own configuration: where the subgraphs it asks on
//! the caller's behalf live (`[upstream]`, `SALESYNC_UPSTREAM__*`).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrderSections {
    pub upstream: UpstreamSettings,
}

/// The subgraphs the order subgraph calls directly (not through the router).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// The item subgraph: prices and availability of ordered items
    /// (`/internal/items/lookup` beside the GraphQL endpoint).
    pub item_url: String,
    /// The store subgraph: table count and time zone.
    pub store_url: String,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            item_url: "http://127.0.0.1:4102/graphql".to_string(),
            store_url: "http://127.0.0.1:4101/graphql".to_string(),
        }
    }
}
