//! The dashboard subgraph's own configuration: the subgraphs it calls
//! (`[upstream]`).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DashboardSections {
    pub upstream: UpstreamSettings,
}

/// The subgraphs the dashboard calls directly (not through the router).
/// Reports never call them: only setting costs (the item subgraph) and a
/// rebuild (the sale subgraph) do.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// The item subgraph: whether items are the caller's and live
    /// (`/internal/items/lookup` beside the GraphQL endpoint).
    pub item_url: String,
    /// The sale subgraph: every paid sale, for a rebuild
    /// (`/internal/sales/history` beside the GraphQL endpoint).
    pub sale_url: String,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            item_url: "http://127.0.0.1:4102/graphql".to_string(),
            sale_url: "http://127.0.0.1:4104/graphql".to_string(),
        }
    }
}
