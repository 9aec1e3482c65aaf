//! The Salesync router: Hive Router embedded as a library, configured by
//! `router.config.yaml` (or the file named by `ROUTER_CONFIG_FILE_PATH`).
#![recursion_limit = "256"]

use hive_router::{
    RouterGlobalAllocator, configure_global_allocator, error::RouterInitError,
    init_rustls_crypto_provider, ntex, router_entrypoint,
};

configure_global_allocator!();

#[hive_router::main]
async fn main() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    router_entrypoint(salesync_router::plugin_registry()).await
}
