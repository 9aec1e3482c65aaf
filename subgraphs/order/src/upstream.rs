//! Calls to other subgraphs on the caller's behalf, with the caller's own
//! token, so the other subgraph applies its own store scoping (seed note 3:
//! references are looked up before anything is written).

use std::{collections::HashMap, time::Duration};

use salesync_common::{Error, Result, auth::Acting};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{config::UpstreamSettings, domain::MenuItem};

#[derive(Clone)]
pub struct Upstream {
    http: reqwest::Client,
    settings: UpstreamSettings,
}

/// What the order subgraph needs to know about the caller's store.
#[derive(Debug, Clone)]
pub struct StoreFacts {
    pub table_count: i32,
    pub timezone: String,
}

impl Upstream {
    pub fn new(settings: UpstreamSettings) -> Self {
        Upstream {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("BUG: a plain HTTP client always builds"),
            settings,
        }
    }

    async fn post(
        &self,
        url: &str,
        caller: &Acting,
        query: &str,
        variables: Value,
    ) -> Result<Value> {
        let response = self
            .http
            .post(url)
            .bearer_auth(&caller.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| {
                Error::internal(anyhow::Error::new(e).context(format!("failed to call {url}")))
            })?;
        response.json::<Value>().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("bad answer from {url}")))
        })
    }

    /// The table count and time zone of the caller's store.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id))]
    pub async fn store(&self, caller: &Acting) -> Result<StoreFacts> {
        let body = self
            .post(
                &self.settings.store_url,
                caller,
                "{ me { tableCount timezone } }",
                json!({}),
            )
            .await?;
        if let Some(error) = body["errors"].as_array().and_then(|e| e.first()) {
            return Err(match error["extensions"]["code"].as_str() {
                Some("UNAUTHENTICATED") => Error::unauthenticated(
                    error["message"]
                        .as_str()
                        .unwrap_or("authentication required"),
                ),
                _ => Error::internal(anyhow::anyhow!("the store subgraph answered {error}")),
            });
        }
        let me = &body["data"]["me"];
        match (me["tableCount"].as_i64(), me["timezone"].as_str()) {
            (Some(table_count), Some(timezone)) => Ok(StoreFacts {
                table_count: i32::try_from(table_count).unwrap_or(i32::MAX),
                timezone: timezone.to_string(),
            }),
            _ => Err(Error::internal(anyhow::anyhow!(
                "unexpected answer from the store subgraph: {body}"
            ))),
        }
    }

    /// The menu's current view of `ids`, in one call. An id the caller's
    /// store does not have (unknown, or another store's) is absent.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, count = ids.len()))]
    pub async fn menu(&self, caller: &Acting, ids: &[Uuid]) -> Result<HashMap<Uuid, MenuItem>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let representations: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "__typename": "Item", "id": id.to_string() }))
            .collect();
        let body = self
            .post(
                &self.settings.item_url,
                caller,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id name price soldOut deleted } } }",
                json!({ "r": representations }),
            )
            .await?;
        for error in body["errors"].as_array().into_iter().flatten() {
            match error["extensions"]["code"].as_str() {
                // That item is not the caller's: it is simply absent below.
                Some("NOT_FOUND") => {}
                Some("UNAUTHENTICATED") => {
                    return Err(Error::unauthenticated("authentication required"));
                }
                _ => {
                    return Err(Error::internal(anyhow::anyhow!(
                        "the item subgraph answered {error}"
                    )));
                }
            }
        }
        let entities = body["data"]["_entities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut menu = HashMap::new();
        for entity in entities.iter().filter(|e| !e.is_null()) {
            let (Some(id), Some(name), Some(price)) = (
                entity["id"]
                    .as_str()
                    .and_then(|id| Uuid::parse_str(id).ok()),
                entity["name"].as_str(),
                entity["price"].as_i64(),
            ) else {
                return Err(Error::internal(anyhow::anyhow!(
                    "unexpected item from the item subgraph: {entity}"
                )));
            };
            menu.insert(
                id,
                MenuItem {
                    name: name.to_string(),
                    price,
                    sold_out: entity["soldOut"].as_bool().unwrap_or(false),
                    deleted: entity["deleted"].as_bool().unwrap_or(false),
                },
            );
        }
        Ok(menu)
    }
}
