//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. The consulting subgraph's worker reads a store's report
//! here, acting for the store on its own (the request may be worked long
//! after the caller's token expired, or after a restart).

use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
use chrono::NaiveDate;
use salesync_common::{
    Result,
    auth::TokenVerifier,
    internal::{guarded, store_of},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{DailyVolume, SalesReport},
    service::Dashboard,
};

#[derive(Clone)]
struct InternalState {
    dashboard: Dashboard,
    verifier: TokenVerifier,
}

pub fn routes(dashboard: Dashboard, verifier: TokenVerifier, key: SecretString) -> Router {
    let routes = Router::new()
        .route("/internal/dashboard/report", post(report))
        .with_state(InternalState {
            dashboard,
            verifier,
        });
    guarded(routes, key)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportRequest {
    /// Required without a token; must match the token's store with one.
    store_id: Option<Uuid>,
    from: NaiveDate,
    to: NaiveDate,
}

/// The sales report and the daily volumes of one range, as the API gives
/// them, with each item's name.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportAnswer {
    report: SalesReport,
    days: Vec<DailyVolume>,
}

async fn report(
    State(state): State<InternalState>,
    headers: HeaderMap,
    Json(request): Json<ReportRequest>,
) -> Result<Json<ReportAnswer>> {
    let store_id = store_of(&headers, &state.verifier, request.store_id).await?;
    // One snapshot: the advice is written from figures that agree.
    let at = state.dashboard.snapshot();
    let report = state
        .dashboard
        .sales_report(&at, store_id, request.from, request.to)
        .await?;
    let days = state
        .dashboard
        .daily_volumes(&at, store_id, request.from, request.to)
        .await?;
    Ok(Json(ReportAnswer { report, days }))
}
