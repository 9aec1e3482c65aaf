//! What the store subgraph publishes. It consumes nothing.

use serde::{Deserialize, Serialize};

/// The payload of `StoreDeleted` on `salesync.stores`: every other subgraph
/// removes the store's data and refuses its tokens from then on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreDeleted {
    pub username: String,
}
