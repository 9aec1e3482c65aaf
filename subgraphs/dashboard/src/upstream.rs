//! The subgraphs the dashboard calls directly (never for a report), at
//! their internal endpoints with the internal key: the item subgraph's
//! lookup, on the caller's behalf with the caller's token, before costs are
//! written; the sale subgraph's history, for a rebuild.

use std::{collections::HashSet, time::Duration};

use salesync_common::{
    Result,
    auth::Acting,
    internal::{self, InternalClient},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::UpstreamSettings,
    events::{RefundMade, SaleCompleted},
};

#[derive(Clone)]
pub struct Upstream {
    internal: InternalClient,
    settings: UpstreamSettings,
}

/// The item subgraph's lookup: the caller's store's items among the ids.
#[derive(Deserialize)]
struct Lookup {
    items: Vec<ItemFacts>,
}

#[derive(Deserialize)]
struct ItemFacts {
    id: Uuid,
    deleted: bool,
}

/// A page of a store's paid sales, each with its refunds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub sales: Vec<PaidSale>,
    pub next: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaidSale {
    pub completed: SaleCompleted,
    pub refunds: Vec<RefundMade>,
}

#[derive(Deserialize)]
struct StoreList {
    stores: Vec<Uuid>,
}

impl Upstream {
    pub fn new(settings: UpstreamSettings, internal_key: SecretString) -> Self {
        Upstream {
            internal: InternalClient::new(internal_key, Duration::from_secs(60)),
            settings,
        }
    }

    /// Which of `ids` are the caller's live (not deleted) items, in one call.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, count = ids.len()))]
    pub async fn live_items(&self, caller: &Acting, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        let url = internal::endpoint(&self.settings.item_url, "/internal/items/lookup");
        let lookup: Lookup = self
            .internal
            .post(&url, Some(&caller.token), &json!({ "ids": ids }))
            .await?;
        Ok(lookup
            .items
            .into_iter()
            .filter(|item| !item.deleted)
            .map(|item| item.id)
            .collect())
    }

    fn sale_endpoint(&self, path: &str) -> String {
        internal::endpoint(&self.settings.sale_url, &format!("/internal/sales/{path}"))
    }

    /// A page of the store's paid sales after `after`.
    pub async fn sale_history(&self, store_id: Uuid, after: Option<Uuid>) -> Result<HistoryPage> {
        self.internal
            .post(
                &self.sale_endpoint("history"),
                None,
                &json!({ "storeId": store_id, "after": after }),
            )
            .await
    }

    /// Every store with a paid sale.
    pub async fn stores_with_sales(&self) -> Result<Vec<Uuid>> {
        let list: StoreList = self
            .internal
            .post(&self.sale_endpoint("stores"), None, &json!({}))
            .await?;
        Ok(list.stores)
    }
}
