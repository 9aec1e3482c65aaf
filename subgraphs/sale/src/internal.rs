//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. The dashboard's rebuild reads every paid sale here.

use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
use salesync_common::{
    Error, Result,
    auth::TokenVerifier,
    internal::{guarded, store_of},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{events::SaleHistory, service::Sales};

/// The most sales one history page holds.
pub const MAX_PAGE: u64 = 1000;

#[derive(Clone)]
struct InternalState {
    sales: Sales,
    verifier: TokenVerifier,
}

pub fn routes(sales: Sales, verifier: TokenVerifier, key: SecretString) -> Router {
    let routes = Router::new()
        .route("/internal/sales/history", post(history))
        .route("/internal/sales/stores", post(stores))
        .with_state(InternalState { sales, verifier });
    guarded(routes, key)
}

/// A page of a store's paid sales, each as its `SaleCompleted` with its
/// `RefundMade`s, in id order after `after`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryRequest {
    /// Required without a token; must match the token's store with one.
    store_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryPage {
    sales: Vec<SaleHistory>,
    /// Where the next page starts; null after the last.
    next: Option<Uuid>,
}

async fn history(
    State(state): State<InternalState>,
    headers: HeaderMap,
    Json(request): Json<HistoryRequest>,
) -> Result<Json<HistoryPage>> {
    let store_id = store_of(&headers, &state.verifier, request.store_id).await?;
    let limit = request.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_input(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let sales = state.sales.history(store_id, request.after, limit).await?;
    let next = (sales.len() as u64 == limit)
        .then(|| sales.last().map(|s| s.completed.sale_id))
        .flatten();
    Ok(Json(HistoryPage { sales, next }))
}

/// Every store with a paid sale.
#[derive(Serialize)]
struct StoreList {
    stores: Vec<Uuid>,
}

async fn stores(State(state): State<InternalState>) -> Result<Json<StoreList>> {
    Ok(Json(StoreList {
        stores: state.sales.stores_with_sales().await?,
    }))
}
