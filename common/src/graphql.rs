//! Serving a subgraph's schema: GraphQL over HTTP at `/graphql`, GraphiQL on
//! a browser GET, and graphql-transport-ws at `/graphql/ws` for the router's
//! subscription connections. The caller is resolved from the bearer token
//! before execution and placed in the context as [`Caller`].

use crate::{
    auth::{Caller, TokenVerifier},
    metrics::{Measured, Metrics},
};
use async_graphql::{
    Data, Executor, ObjectType, Schema, SubscriptionType,
    http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Router,
    extract::{State, WebSocketUpgrade},
    http::{HeaderMap, header::AUTHORIZATION},
    response::{Html, IntoResponse, Response},
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
    schema: Measured<Schema<Q, M, S>>,
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
            schema: Measured::new(schema, metrics),
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
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let verifier = state.verifier.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let header = authorization_from_payload(&payload);
                    let caller = verifier.caller_from_header(header.as_deref()).await;
                    match &caller {
                        Caller::Rejected(reason) => {
                            tracing::debug!(%reason, "subscription token rejected");
                            return Err(async_graphql::Error::new(
                                "authentication required: the token is missing, expired or invalid",
                            ));
                        }
                        Caller::Unchecked(reason) => {
                            tracing::debug!(%reason, "subscription token not checked");
                            return Err(async_graphql::Error::new(
                                "the token could not be checked just now; try again",
                            ));
                        }
                        _ => {}
                    }
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

fn authorization_from_payload(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let from = |map: &serde_json::Map<String, serde_json::Value>| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    from(object).or_else(|| {
        object
            .get("headers")
            .and_then(|h| h.as_object())
            .and_then(from)
    })
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

#[cfg(test)]
mod tests {
    use super::authorization_from_payload;
    use serde_json::json;

    #[test]
    fn the_token_is_found_however_the_client_spells_it() {
        for payload in [
            json!({"authorization": "Bearer a"}),
            json!({"Authorization": "Bearer a"}),
            json!({"headers": {"authorization": "Bearer a"}}),
        ] {
            assert_eq!(
                authorization_from_payload(&payload).as_deref(),
                Some("Bearer a"),
                "{payload}"
            );
        }
        assert_eq!(authorization_from_payload(&json!({})), None);
    }
}
