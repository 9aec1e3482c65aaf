//! Endpoints for other subgraphs, outside the public API: not in the GraphQL
//! schema (so the router cannot reach them), and refused without the
//! internal key. The caller's token still scopes the store.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
    response::{IntoResponse, Response},
    routing::post,
};
use salesync_common::{Error, auth::TokenVerifier};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::service::Orders;

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
) -> Response {
    let key_matches = headers
        .get(INTERNAL_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| {
            constant_time_eq(given.as_bytes(), state.key.expose_secret().as_bytes())
        });
    if !key_matches {
        return failure(Error::Forbidden(
            "this endpoint is for Salesync subgraphs only".into(),
        ));
    }
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let store_id = match state.verifier.caller_from_header(header).await.store_id() {
        Ok(store_id) => store_id,
        Err(error) => return failure(error),
    };
    match state
        .orders
        .pay(store_id, request.table_no, request.sale_id)
        .await
    {
        Ok(order) => Json(order).into_response(),
        Err(error) => failure(error),
    }
}

fn failure(error: Error) -> Response {
    use salesync_common::error::Code;
    let status = match error.code() {
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::BadUserInput => StatusCode::BAD_REQUEST,
        Code::Conflict => StatusCode::CONFLICT,
        Code::Internal => {
            if let Error::Internal(cause) = &error {
                tracing::error!(error = ?cause, "internal error");
            }
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let body =
        json!({ "error": { "code": error.code().as_str(), "message": error.client_message() } });
    (status, Json(body)).into_response()
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
