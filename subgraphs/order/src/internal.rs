//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. A call on a client's behalf carries the client's token,
//! which scopes the store; a subgraph acting on its own (the sale
//! subgraph's recovery) names the store instead, the key vouching for it.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, header::AUTHORIZATION},
    routing::post,
};
use salesync_common::{Error, Result, auth::TokenVerifier};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use crate::{service::Orders, snapshot::OrderSnapshot};

/// The header that carries `SALESYNC_INTERNAL_KEY`.
pub const INTERNAL_KEY_HEADER: &str = "x-salesync-internal-key";

#[derive(Clone)]
struct InternalState {
    orders: Orders,
    verifier: TokenVerifier,
    key: SecretString,
}

pub fn routes(orders: Orders, verifier: TokenVerifier, key: SecretString) -> Router {
    Router::new()
        .route("/internal/orders/pay", post(pay))
        .with_state(InternalState {
            orders,
            verifier,
            key,
        })
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
    let key_matches = headers
        .get(INTERNAL_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| {
            constant_time_eq(given.as_bytes(), state.key.expose_secret().as_bytes())
        });
    if !key_matches {
        return Err(Error::forbidden(
            "this endpoint is for Salesync subgraphs only",
        ));
    }
    let store_id = match headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(header) => {
            let caller = state.verifier.caller_from_header(Some(header)).await;
            let store_id = caller.store_id()?;
            if request.store_id.is_some_and(|named| named != store_id) {
                return Err(Error::forbidden("the token is another store's"));
            }
            store_id
        }
        None => request
            .store_id
            .ok_or_else(|| Error::unauthenticated("name the store or send its token"))?,
    };
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

/// Compares secrets without leaking, through timing, how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn keys_must_match_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
