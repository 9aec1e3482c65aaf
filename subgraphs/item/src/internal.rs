//! Endpoints for other subgraphs, outside the public API: not in the
//! GraphQL schema (so the router cannot reach them), and refused without
//! the internal key. A call on a client's behalf carries the client's
//! token, which scopes the store.

use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
use salesync_common::{
    Error, Result,
    auth::TokenVerifier,
    internal::{guarded, store_of},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{db::items, service::Menu};

/// Ids one lookup may name: more than any caller's list holds (an order's
/// 200 lines, a dashboard's 500 costs).
pub const MAX_LOOKUP: usize = 1_000;

#[derive(Clone)]
struct InternalState {
    menu: Menu,
    verifier: TokenVerifier,
}

pub fn routes(menu: Menu, verifier: TokenVerifier, key: SecretString) -> Router {
    let routes = Router::new()
        .route("/internal/items/lookup", post(lookup))
        .with_state(InternalState { menu, verifier });
    guarded(routes, key)
}

/// Items by id, for the order subgraph before it writes lines and the
/// dashboard before it writes costs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupRequest {
    /// Required without a token; must match the token's store with one.
    store_id: Option<Uuid>,
    ids: Vec<Uuid>,
}

/// The store's items among the ids, deleted ones included; an id the
/// store has no item of (unknown, or another store's) is absent.
#[derive(Serialize)]
struct Lookup {
    items: Vec<ItemFacts>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemFacts {
    id: Uuid,
    name: String,
    price: i64,
    sold_out: bool,
    deleted: bool,
}

impl From<items::Model> for ItemFacts {
    fn from(item: items::Model) -> Self {
        ItemFacts {
            id: item.id,
            deleted: item.deleted_at.is_some(),
            name: item.name,
            price: item.price,
            sold_out: item.sold_out,
        }
    }
}

/// One statement, however many ids.
async fn lookup(
    State(state): State<InternalState>,
    headers: HeaderMap,
    Json(request): Json<LookupRequest>,
) -> Result<Json<Lookup>> {
    let store_id = store_of(&headers, &state.verifier, request.store_id).await?;
    if request.ids.len() > MAX_LOOKUP {
        return Err(Error::bad_input(
            "ids",
            format!("at most {MAX_LOOKUP} ids per lookup"),
        ));
    }
    let items = state.menu.items_by_ids(store_id, request.ids).await?;
    Ok(Json(Lookup {
        items: items.into_iter().map(ItemFacts::from).collect(),
    }))
}
