//! Serving a subgraph's schema: GraphQL over HTTP at `/graphql`, GraphiQL on
//! a browser GET, and graphql-transport-ws at `/graphql/ws` for the router's
//! subscription connections. The caller is resolved from the bearer token
//! before execution and placed in the context as [`Caller`](crate::auth::Caller).

mod documents;
mod snapshot;
mod ws;

use documents::Documents;
pub use snapshot::{SnapshotExt, SnapshotPerRequest};

use crate::{
    auth::TokenVerifier,
    metrics::{Measured, Metrics},
};
use async_graphql::{Executor, ObjectType, Schema, SubscriptionType, http::GraphiQLSource};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::{State, WebSocketUpgrade},
    http::{HeaderMap, header::AUTHORIZATION},
    response::{Html, Response},
    routing::get,
};

/// The header in which the router tells a subgraph the caller's address. The
/// router sets it itself, dropping any value a client sent.
pub const CLIENT_ADDRESS_HEADER: &str = "x-salesync-client-address";

/// The caller's address as the router saw it, in every request's context;
/// none when the request did not come through the router.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl ClientAddress {
    fn from_headers(headers: &HeaderMap) -> Self {
        ClientAddress(
            headers
                .get(CLIENT_ADDRESS_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
        )
    }
}

struct GraphqlState<Q, M, S> {
    schema: Documents<Measured<Schema<Q, M, S>>>,
    verifier: TokenVerifier,
}

impl<Q, M, S> Clone for GraphqlState<Q, M, S> {
    fn clone(&self) -> Self {
        GraphqlState {
            schema: self.schema.clone(),
            verifier: self.verifier.clone(),
        }
    }
}

/// The routes that serve `schema`, its operations counted in `metrics`.
pub fn routes<Q, M, S>(schema: Schema<Q, M, S>, verifier: TokenVerifier, metrics: Metrics) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route("/graphql", get(graphiql).post(execute::<Q, M, S>))
        .route("/graphql/ws", get(subscribe::<Q, M, S>))
        .with_state(GraphqlState {
            schema: Documents::new(Measured::new(schema, metrics)),
            verifier,
        })
}

async fn execute<Q, M, S>(
    State(state): State<GraphqlState<Q, M, S>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = state.verifier.caller_from_header(header).await;
    let address = ClientAddress::from_headers(&headers);
    let mut response = state
        .schema
        .execute(request.into_inner().data(caller).data(address))
        .await;
    for error in &mut response.errors {
        label_request_error(error);
    }
    response.into()
}

/// Resolvers always answer with a contract code (see `Error`). An error
/// without one comes from async-graphql itself before any resolver ran: a
/// value that does not fit its type (`1.5` as `Money`), an unknown field.
/// The client sent something wrong, so it is `BAD_USER_INPUT`.
fn label_request_error(error: &mut async_graphql::ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", crate::error::Code::BadUserInput.as_str());
    }
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

/// The router opens this socket without an `Authorization` header and sends
/// the propagated header in `connection_init` as `{"authorization": ...}`.
async fn subscribe<Q, M, S>(
    State(state): State<GraphqlState<Q, M, S>>,
    upgrade: WebSocketUpgrade,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    ws::accept(upgrade, state.schema, state.verifier)
}

/// The federation SDL of `schema`, as `schema/<subgraph>.graphql` holds it.
pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}
