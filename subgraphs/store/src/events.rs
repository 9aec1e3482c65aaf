//! What the store subgraph publishes on `salesync.stores`. It consumes nothing.

use serde::{Deserialize, Serialize};

use crate::db::stores;

/// `StoreOpened` (at sign-up) and `StoreUpdated` (after every profile
/// change): what other subgraphs keep a copy of, so they need not ask the
/// store subgraph on every request (the sale subgraph's business days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreProfile {
    pub name: String,
    pub timezone: String,
    pub closeout_hour: i32,
    pub currency: String,
    pub table_count: i32,
}

impl From<&stores::Model> for StoreProfile {
    fn from(store: &stores::Model) -> Self {
        StoreProfile {
            name: store.name.clone(),
            timezone: store.timezone.clone(),
            closeout_hour: store.closeout_hour,
            currency: store.currency.clone(),
            table_count: store.table_count,
        }
    }
}

/// The payload of `StoreDeleted`: every other subgraph removes the store's
/// data and refuses its tokens from then on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreDeleted {
    pub username: String,
}
