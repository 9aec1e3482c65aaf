//! The order and store subgraphs, asked directly (not through the router).
//! On a client's behalf with the client's token; recovery, acting on its
//! own, names the store and proves itself with the internal key.

use chrono::{DateTime, Utc};
use std::time::Duration;

use salesync_common::{
    Error, Result,
    auth::Acting,
    internal::{self, InternalClient},
    upstream::GraphqlClient,
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::config::UpstreamSettings;

#[derive(Clone)]
pub struct Upstream {
    graphql: GraphqlClient,
    internal: InternalClient,
    settings: UpstreamSettings,
}

/// The table's open order as the sale reads it before paying.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenOrder {
    pub id: Uuid,
    pub total: i64,
    pub version: i32,
}

/// The order as the order subgraph paid it: the authoritative lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaidOrder {
    pub id: Uuid,
    pub total: i64,
    pub lines: Vec<PaidLine>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaidLine {
    pub item_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub amount: i64,
}

/// A store's business calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    pub timezone: String,
    pub closeout_hour: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenOrderAnswer {
    open_order: Option<OpenOrder>,
}

#[derive(Deserialize)]
struct Me {
    me: Calendar,
}

/// Who asks the order subgraph to pay.
pub enum Payer<'a> {
    /// A client checking out: its token scopes the store.
    Client(&'a Acting),
    /// Recovery, acting for the store on its own.
    Recovery(Uuid),
}

impl Upstream {
    pub fn new(settings: UpstreamSettings, internal_key: SecretString) -> Self {
        Upstream {
            graphql: GraphqlClient::default(),
            internal: InternalClient::new(internal_key, Duration::from_secs(10)),
            settings,
        }
    }

    /// The table's open order, if it has one.
    pub async fn open_order(&self, caller: &Acting, table_no: i32) -> Result<Option<OpenOrder>> {
        let answer = self
            .graphql
            .query::<OpenOrderAnswer>(
                &self.settings.order_url,
                caller,
                "query($t: Int!) { openOrder(tableNo: $t) { id total version } }",
                json!({ "t": table_no }),
            )
            .await?;
        match answer.into_data("the order subgraph") {
            Ok(data) => Ok(data.open_order),
            // A table outside the store's floor has no order to pay.
            Err(Error::BadUserInput { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The caller's store calendar, when no event brought it yet.
    pub async fn calendar(&self, caller: &Acting) -> Result<Calendar> {
        let answer = self
            .graphql
            .query::<Me>(
                &self.settings.store_url,
                caller,
                "{ me { timezone closeoutHour } }",
                json!({}),
            )
            .await?;
        Ok(answer.into_data("the store subgraph")?.me)
    }

    /// Pays the order `(order_id, version)` at the table with sale `sale_id`.
    /// Idempotent per sale: paying again returns the order that sale paid.
    pub async fn pay(
        &self,
        payer: Payer<'_>,
        table_no: i32,
        sale_id: Uuid,
        (order_id, version): (Uuid, i32),
    ) -> Result<PaidOrder> {
        let url = internal::endpoint(&self.settings.order_url, "/internal/orders/pay");
        let mut body = json!({ "tableNo": table_no, "saleId": sale_id, "orderId": order_id, "version": version });
        let token = match payer {
            Payer::Client(caller) => Some(caller.token.as_str()),
            Payer::Recovery(store_id) => {
                body["storeId"] = json!(store_id);
                None
            }
        };
        self.internal.post(&url, token, &body).await
    }
}
