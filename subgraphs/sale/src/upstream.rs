//! The order and store subgraphs, asked directly (not through the router).
//! On a client's behalf with the client's token; recovery, acting on its
//! own, names the store and proves itself with the internal key.

use chrono::{DateTime, Utc};
use salesync_common::{Error, Result, auth::Acting, upstream::GraphqlClient};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::config::UpstreamSettings;

#[derive(Clone)]
pub struct Upstream {
    graphql: GraphqlClient,
    http: reqwest::Client,
    settings: UpstreamSettings,
    internal_key: SecretString,
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

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
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
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("BUG: a plain HTTP client always builds"),
            settings,
            internal_key,
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
        let url = format!(
            "{}/internal/orders/pay",
            self.settings.order_url.trim_end_matches("/graphql")
        );
        let mut body = json!({ "tableNo": table_no, "saleId": sale_id, "orderId": order_id, "version": version });
        let mut request = self
            .http
            .post(&url)
            .header("x-salesync-internal-key", self.internal_key.expose_secret());
        match payer {
            Payer::Client(caller) => request = request.bearer_auth(&caller.token),
            Payer::Recovery(store_id) => body["storeId"] = json!(store_id),
        }
        let response = request.json(&body).send().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("failed to call {url}")))
        })?;
        if response.status().is_success() {
            return response.json::<PaidOrder>().await.map_err(|e| {
                Error::internal(anyhow::Error::new(e).context("unexpected paid order"))
            });
        }
        let status = response.status();
        let error = response.json::<ErrorBody>().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("{url} answered {status}")))
        })?;
        Err(match error.error.code.as_str() {
            "NOT_FOUND" => Error::not_found(error.error.message),
            "CONFLICT" => Error::conflict(error.error.message),
            "UNAUTHENTICATED" => Error::unauthenticated(error.error.message),
            _ => Error::internal(anyhow::anyhow!(
                "{url} answered {status}: {} {}",
                error.error.code,
                error.error.message
            )),
        })
    }
}
