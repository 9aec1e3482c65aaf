//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. The caller's token still scopes the store.

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

/// Closes a table's open order as paid by a sale.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayRequest {
    table_no: i32,
    sale_id: Uuid,
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
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let store_id = state.verifier.caller_from_header(header).await.store_id()?;
    let order = state
        .orders
        .pay(store_id, request.table_no, request.sale_id)
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
