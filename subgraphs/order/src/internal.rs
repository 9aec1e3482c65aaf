//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. A call on a client's behalf carries the client's token,
//! which scopes the store; a subgraph acting on its own (the sale
//! subgraph's recovery) names the store instead, the key vouching for it.

use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
use salesync_common::{
    Result,
    auth::TokenVerifier,
    internal::{guarded, store_of},
};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use crate::{service::Orders, snapshot::OrderSnapshot};

#[derive(Clone)]
struct InternalState {
    orders: Orders,
    verifier: TokenVerifier,
}

pub fn routes(orders: Orders, verifier: TokenVerifier, key: SecretString) -> Router {
    let routes = Router::new()
        .route("/internal/orders/pay", post(pay))
        .with_state(InternalState { orders, verifier });
    guarded(routes, key)
}

/// Closes a table's open order as paid by a sale: only the order the sale
/// read, at the version it read, so a sale given up on can never pay later.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayRequest {
    /// Required without a token; must match the token's store with one.
    store_id: Option<Uuid>,
    table_no: i32,
    sale_id: Uuid,
    order_id: Uuid,
    version: i32,
}

async fn pay(
    State(state): State<InternalState>,
    headers: HeaderMap,
    Json(request): Json<PayRequest>,
) -> Result<Json<OrderSnapshot>> {
    let store_id = store_of(&headers, &state.verifier, request.store_id).await?;
    let order = state
        .orders
        .pay(
            store_id,
            request.table_no,
            request.sale_id,
            (request.order_id, request.version),
        )
        .await?;
    Ok(Json(order))
}
