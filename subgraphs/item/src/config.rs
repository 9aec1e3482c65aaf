//! The item subgraph's configuration: only the shared settings so far.

use salesync_common::config::{Layers, Settings};

pub const DEFAULT_PORT: u16 = 4102;

#[derive(Debug, Clone)]
pub struct ItemConfig {
    pub settings: Settings,
}

impl ItemConfig {
    pub fn from_layers(layers: &Layers) -> anyhow::Result<Self> {
        Ok(ItemConfig {
            settings: layers.service("item", DEFAULT_PORT)?,
        })
    }
}
