//! The item and store subgraphs, asked on the caller's behalf with the
//! caller's own token: references are looked up before anything is written,
//! and the other subgraph scopes them to the caller's store. The items at
//! the item subgraph's internal lookup (with the internal key), the store's
//! facts through its GraphQL API.

use std::{collections::HashMap, time::Duration};

use salesync_common::{
    Result,
    auth::Acting,
    internal::{self, InternalClient},
    upstream::GraphqlClient,
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{config::UpstreamSettings, domain::MenuItem};

#[derive(Clone)]
pub struct Upstream {
    graphql: GraphqlClient,
    internal: InternalClient,
    /// The item subgraph's lookup.
    lookup_url: String,
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

/// The item subgraph's lookup: the caller's store's items among the ids,
/// deleted ones included.
#[derive(Deserialize)]
struct Lookup {
    items: Vec<ItemFacts>,
}

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

impl Upstream {
    pub fn new(settings: UpstreamSettings, internal_key: SecretString) -> Self {
        Upstream {
            graphql: GraphqlClient::default(),
            internal: InternalClient::new(internal_key, Duration::from_secs(5)),
            lookup_url: internal::endpoint(&settings.item_url, "/internal/items/lookup"),
            settings,
        }
    }

    /// The table count and business calendar of the caller's store.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id))]
    pub async fn store(&self, caller: &Acting) -> Result<StoreFacts> {
        let url = &self.settings.store_url;
        let answer = self
            .graphql
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
        let lookup: Lookup = self
            .internal
            .post(
                &self.lookup_url,
                Some(&caller.token),
                &json!({ "ids": ids }),
            )
            .await?;
        Ok(lookup
            .items
            .into_iter()
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
