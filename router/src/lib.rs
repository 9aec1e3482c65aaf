//! Router plugins. The router itself is Hive Router; this crate adds what
//! makes its answers speak Salesync's error codes, the subgraphs' URLs from
//! the environment, the caller's address for the subgraphs, a few limits,
//! and a playground that needs no CDN.

pub mod plugins;

use hive_router::PluginRegistry;

/// Every plugin this router can run. A plugin runs only when it is also
/// listed under `plugins:` in `router.config.yaml`.
pub fn plugin_registry() -> PluginRegistry {
    PluginRegistry::new()
        .register::<plugins::error_codes::ErrorCodesPlugin>()
        .register::<plugins::client_address::ClientAddressPlugin>()
        .register::<plugins::root_fields::RootFieldsPlugin>()
        .register::<plugins::json_depth::JsonDepthPlugin>()
        .register::<plugins::playground::PlaygroundPlugin>()
        .register::<plugins::subgraph_urls::SubgraphUrlsPlugin>()
}
