//! The item and store subgraphs, asked on the caller's behalf with the
//! caller's own token: references are looked up before anything is written,
//! and the other subgraph scopes them to the caller's store.

use std::collections::HashMap;

use salesync_common::{
    Result,
    auth::Acting,
    upstream::{GraphqlClient, lookups_by_id},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{config::UpstreamSettings, domain::MenuItem};

#[derive(Clone)]
pub struct Upstream {
    client: GraphqlClient,
    settings: UpstreamSettings,
}

/// What the order subgraph needs to know about the caller's store.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreFacts {
    pub table_count: i32,
    pub timezone: String,
    pub closeout_hour: i32,
}

#[derive(Deserialize)]
struct Me {
    me: StoreFacts,
}

/// One `item(id:)` answer per requested id, by alias: null when the
/// caller's store has no such item.
type ItemsByAlias = HashMap<String, Option<ItemFacts>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemFacts {
    id: Uuid,
    name: String,
    price: i64,
    sold_out: bool,
    deleted: bool,
}

const STORE_FACTS: &str = "{ me { tableCount timezone closeoutHour } }";
const ITEM_FACTS: &str = "id name price soldOut deleted";
impl Upstream {
    pub fn new(settings: UpstreamSettings) -> Self {
        Upstream {
            client: GraphqlClient::default(),
            settings,
        }
    }

    /// The table count and business calendar of the caller's store.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id))]
    pub async fn store(&self, caller: &Acting) -> Result<StoreFacts> {
        let url = &self.settings.store_url;
        let answer = self
            .client
            .query::<Me>(url, caller, STORE_FACTS, json!({}))
            .await?;
        Ok(answer.into_data("the store subgraph")?.me)
    }

    /// The menu's current view of `ids`, in one call. An id the caller's
    /// store does not have (unknown, or another store's) is absent.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, count = ids.len()))]
    pub async fn menu(&self, caller: &Acting, ids: &[Uuid]) -> Result<HashMap<Uuid, MenuItem>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let (query, variables) = lookups_by_id("item", "Item", ITEM_FACTS, ids);
        let answer = self
            .client
            .query::<ItemsByAlias>(&self.settings.item_url, caller, &query, variables)
            .await?;
        Ok(answer
            .into_data("the item subgraph")?
            .into_values()
            .flatten()
            .map(|item| {
                (
                    item.id,
                    MenuItem {
                        name: item.name,
                        price: item.price,
                        sold_out: item.sold_out,
                        deleted: item.deleted,
                    },
                )
            })
            .collect())
    }
}
