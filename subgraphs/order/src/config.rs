//! The order subgraph's configuration: the shared settings plus where the
//! subgraphs it asks on the caller's behalf live (`SALESYNC_UPSTREAM__*`).

use salesync_common::config::{Layers, Settings};
use serde::Deserialize;

pub const DEFAULT_PORT: u16 = 4103;

#[derive(Debug, Clone)]
pub struct OrderConfig {
    pub settings: Settings,
    pub upstream: UpstreamSettings,
}

impl OrderConfig {
    pub fn from_layers(layers: &Layers) -> anyhow::Result<Self> {
        Ok(OrderConfig {
            settings: layers.service("order", DEFAULT_PORT)?,
            upstream: layers.section("upstream")?,
        })
    }
}

/// The subgraphs the order subgraph calls directly (not through the router).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// The item subgraph: prices and availability of ordered items.
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
