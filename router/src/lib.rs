//! Router plugins. The router itself is Hive Router; this crate adds only
//! what makes its answers speak Salesync's error codes.

pub mod plugins;

use hive_router::PluginRegistry;

/// Every plugin this router can run. A plugin runs only when it is also
/// listed under `plugins:` in `router.config.yaml`.
pub fn plugin_registry() -> PluginRegistry {
    PluginRegistry::new().register::<plugins::error_codes::ErrorCodesPlugin>()
}
