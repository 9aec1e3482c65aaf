//! The dashboard subgraph's report of a period, read from its internal
//! endpoint with the internal key, for the store that asked: a request may
//! be worked after the caller's token expired, or after a restart.

use std::time::Duration;

use chrono::NaiveDate;
use salesync_common::{
    Result,
    internal::{self, InternalClient},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::UpstreamSettings,
    domain::{Day, ItemLine, Report},
};

#[derive(Clone)]
pub struct Upstream {
    internal: InternalClient,
    settings: UpstreamSettings,
}

#[derive(Deserialize)]
struct ReportAnswer {
    report: SalesReport,
    days: Vec<Day>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesReport {
    from: NaiveDate,
    to: NaiveDate,
    sales_volume: i64,
    cost: i64,
    profit: i64,
    items: Vec<ItemLine>,
}

impl Upstream {
    pub fn new(settings: UpstreamSettings, internal_key: SecretString) -> Self {
        Upstream {
            internal: InternalClient::new(internal_key, Duration::from_secs(30)),
            settings,
        }
    }

    /// The store's sales report and daily volumes over `from..=to`.
    #[tracing::instrument(skip(self))]
    pub async fn report(&self, store_id: Uuid, from: NaiveDate, to: NaiveDate) -> Result<Report> {
        let url = internal::endpoint(&self.settings.dashboard_url, "/internal/dashboard/report");
        let answer: ReportAnswer = self
            .internal
            .post(
                &url,
                None,
                &json!({ "storeId": store_id, "from": from, "to": to }),
            )
            .await?;
        let report = answer.report;
        Ok(Report {
            from: report.from,
            to: report.to,
            sales_volume: report.sales_volume,
            cost: report.cost,
            profit: report.profit,
            items: report.items,
            days: answer.days,
        })
    }
}
