//! The server side of graphql-transport-ws, for the router's subscription
//! connections.
//!
//! The router carries every subscription of one caller to a subgraph over
//! one connection, so a connection may hold thousands, and one change can
//! make all of them ready at once. Only the subscriptions that have news
//! are polled (they are kept in a [`SelectAll`]), and what is ready at once
//! goes out in one write. (async-graphql's own handler polls every
//! subscription of the connection for each message it sends: for 1,000
//! subscribers of one store, half a million polls per change.)
//!
//! The caller comes from the `authorization` the router puts in
//! `connection_init`, checked at each `subscribe`: a connection lives as
//! long as the router keeps it, and a token revoked or a store deleted
//! since it opened must start nothing more on it. A refused token is
//! answered as over HTTP: the subscription's error says `UNAUTHENTICATED`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{Executor, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use futures::{
    FutureExt, SinkExt, StreamExt,
    stream::{self, AbortHandle, Abortable, BoxStream, SelectAll, SplitSink},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::TokenVerifier;

/// The subprotocol spoken.
const PROTOCOL: &str = "graphql-transport-ws";

/// How long a new connection may take to send `connection_init`.
const INIT_WITHIN: Duration = Duration::from_secs(10);

/// A close frame's reason fits in a control frame's 125 bytes, beside its
/// code.
const CLOSE_REASON_BYTES: usize = 123;

/// What the socket reads at a time. Each read first zeroes this much of its
/// buffer, and a connection tries one each time it wakes (for every message
/// it sends, too), so the default (128 KiB) cost the order subgraph a
/// twentieth of its CPU under writes. The router's messages (`subscribe`,
/// `complete`, pings) are small; a larger one is read in several.
const READ_BUFFER: usize = 4 * 1024;

/// At most this many messages ready at once go out in one write.
const MESSAGES_PER_WRITE: usize = 256;

/// What a client sends.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    Complete {
        id: String,
    },
}

/// What the server sends.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    ConnectionAck,
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<Value>,
    },
    Next {
        id: &'a str,
        payload: &'a Response,
    },
    Complete {
        id: &'a str,
    },
}

impl ServerMessage<'_> {
    fn frame(&self) -> Message {
        // Every field is a string, a JSON value or a response: it serializes.
        let text = serde_json::to_string(self).unwrap_or_default();
        Message::Text(text.into())
    }
}

/// Why the server closes a connection, as the protocol numbers it.
struct Closing {
    code: u16,
    reason: String,
}

impl Closing {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Closing {
            code,
            reason: reason.into(),
        }
    }
}

/// A subscription's results, then `None` when it ends by itself.
type Results = BoxStream<'static, (Arc<str>, Option<Response>)>;

/// One connection: whom it acts for, and its running subscriptions.
struct Connection<E> {
    executor: E,
    verifier: TokenVerifier,
    /// The `authorization` of `connection_init`, once it came.
    authorization: Option<Option<String>>,
    running: SelectAll<Abortable<Results>>,
    stops: HashMap<Arc<str>, AbortHandle>,
}

/// Takes a connection the router opens, and serves it.
pub fn accept<E: Executor>(
    upgrade: WebSocketUpgrade,
    executor: E,
    verifier: TokenVerifier,
) -> axum::response::Response {
    upgrade
        .protocols([PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve(socket, executor, verifier))
}

/// Serves `socket` until the client goes or the connection is closed.
async fn serve<E: Executor>(socket: WebSocket, executor: E, verifier: TokenVerifier) {
    let (mut sink, mut incoming) = socket.split();
    let mut connection = Connection {
        executor,
        verifier,
        authorization: None,
        running: SelectAll::new(),
        stops: HashMap::new(),
    };
    let init_deadline = tokio::time::sleep(INIT_WITHIN);
    tokio::pin!(init_deadline);
    let closing = loop {
        let outcome = tokio::select! {
            received = incoming.next() => match received {
                Some(Ok(Message::Text(text))) => connection.receive(text.as_str()).await,
                Some(Ok(Message::Binary(_))) => {
                    Err(Closing::new(4400, "messages are JSON text"))
                }
                // Pings are answered by the socket itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(None),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
            },
            Some((id, result)) = connection.running.next(), if !connection.running.is_empty() => {
                if send_ready(&mut sink, &mut connection, id, result).await.is_err() {
                    return;
                }
                Ok(None)
            }
            _ = &mut init_deadline, if connection.authorization.is_none() => {
                Err(Closing::new(4408, "connection initialisation timeout"))
            }
        };
        match outcome {
            Ok(Some(reply)) => {
                if sink.send(reply).await.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(closing) => break closing,
        }
    };
    let frame = CloseFrame {
        code: closing.code,
        reason: within(closing.reason, CLOSE_REASON_BYTES).into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

/// `text` cut to at most `bytes`, at a character's end.
fn within(mut text: String, bytes: usize) -> String {
    text.truncate(text.floor_char_boundary(bytes));
    text
}

/// Sends one subscription's news and whatever else is ready now, then
/// writes them out together.
async fn send_ready<E: Executor>(
    sink: &mut SplitSink<WebSocket, Message>,
    connection: &mut Connection<E>,
    id: Arc<str>,
    result: Option<Response>,
) -> Result<(), axum::Error> {
    let mut ready = Some((id, result));
    let mut sent = 0;
    while let Some((id, result)) = ready.take() {
        if let Some(message) = connection.message_for(&id, result) {
            sink.feed(message).await?;
            sent += 1;
        }
        if sent < MESSAGES_PER_WRITE {
            ready = connection.running.next().now_or_never().flatten();
        }
    }
    sink.flush().await
}

impl<E: Executor> Connection<E> {
    /// Acts on a client's message: a reply to send, or why to close.
    async fn receive(&mut self, text: &str) -> Result<Option<Message>, Closing> {
        let message: ClientMessage = serde_json::from_str(text)
            .map_err(|error| Closing::new(4400, format!("invalid message: {error}")))?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.authorization.is_some() {
                    return Err(Closing::new(4429, "too many initialisation requests"));
                }
                // Checked by each subscription, which answers a refused
                // token as a request over HTTP would (`UNAUTHENTICATED`).
                self.authorization = Some(payload.as_ref().and_then(authorization_from_payload));
                Ok(Some(ServerMessage::ConnectionAck.frame()))
            }
            ClientMessage::Ping { payload } => Ok(Some(ServerMessage::Pong { payload }.frame())),
            ClientMessage::Pong {} => Ok(None),
            ClientMessage::Subscribe { id, payload } => {
                let Some(authorization) = &self.authorization else {
                    return Err(Closing::new(4401, "unauthorized"));
                };
                if self.stops.contains_key(id.as_str()) {
                    return Err(Closing::new(
                        4409,
                        format!("subscriber for {id} already exists"),
                    ));
                }
                // Checked again: the token may have been revoked, or the
                // store deleted, since the connection opened.
                let caller = self
                    .verifier
                    .caller_from_header(authorization.as_deref())
                    .await;
                self.start(id.into(), payload.data(caller));
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                if let Some(stop) = self.stops.remove(id.as_str()) {
                    stop.abort();
                }
                Ok(None)
            }
        }
    }

    fn start(&mut self, id: Arc<str>, request: async_graphql::Request) {
        let tag = id.clone();
        let results: Results = (self.executor.execute_stream(request, None))
            .map(Some)
            .chain(stream::once(async { None }))
            .map(move |result| (tag.clone(), result))
            .boxed();
        let (stop, registration) = AbortHandle::new_pair();
        self.running.push(Abortable::new(results, registration));
        self.stops.insert(id, stop);
    }

    /// What to send of a subscription's news: its result, or `complete`
    /// once it ended by itself.
    fn message_for(&mut self, id: &Arc<str>, result: Option<Response>) -> Option<Message> {
        match result {
            Some(response) => Some(
                ServerMessage::Next {
                    id,
                    payload: &response,
                }
                .frame(),
            ),
            None => self
                .stops
                .remove(id)
                .map(|_| ServerMessage::Complete { id }.frame()),
        }
    }
}

/// The `authorization` in a `connection_init` payload, however the client
/// spelled it, at the top or under `headers`.
fn authorization_from_payload(payload: &Value) -> Option<String> {
    let object = payload.as_object()?;
    let from = |map: &serde_json::Map<String, Value>| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::Caller, config::AuthSettings};
    use async_graphql::{EmptyMutation, Object, Schema, Subscription};
    use futures::Stream;
    use serde_json::json;
    use tokio::sync::broadcast;
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

    struct Query;

    #[Object]
    impl Query {
        async fn ok(&self) -> bool {
            true
        }
    }

    struct Subscription;

    #[Subscription]
    impl Subscription {
        /// 0, 1, ... up to `to`, then the end.
        async fn count(&self, to: i32) -> impl Stream<Item = i32> + use<> {
            stream::iter(0..to)
        }

        /// Every number sent on the schema's channel.
        async fn news(&self, ctx: &async_graphql::Context<'_>) -> impl Stream<Item = i32> + use<> {
            let receiver = ctx.data_unchecked::<broadcast::Sender<i32>>().subscribe();
            stream::unfold(receiver, |mut receiver| async move {
                Some((receiver.recv().await.ok()?, receiver))
            })
        }

        /// Whether the subscriber has a token the verifier took.
        async fn caller(
            &self,
            ctx: &async_graphql::Context<'_>,
        ) -> impl Stream<Item = String> + use<> {
            let caller = match ctx.data_unchecked::<Caller>() {
                Caller::Anonymous => "anonymous",
                Caller::Rejected(_) => "rejected",
                _ => "other",
            };
            stream::once(async move { caller.to_string() })
        }
    }

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    /// A server of the schema above on a free port, and its news channel.
    async fn server() -> (String, broadcast::Sender<i32>) {
        let (news, _) = broadcast::channel(16);
        let schema = Schema::build(Query, EmptyMutation, Subscription)
            .data(news.clone())
            .finish();
        // No token this test sends is checked against keys: an unreachable
        // key server is never asked.
        let verifier = TokenVerifier::remote(&AuthSettings {
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            ..AuthSettings::default()
        });
        let app = axum::Router::new().route(
            "/ws",
            axum::routing::get(move |upgrade: axum::extract::WebSocketUpgrade| {
                let (schema, verifier) = (schema.clone(), verifier.clone());
                async move { accept(upgrade, schema, verifier) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("ws://{}/ws", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, news)
    }

    async fn connect(url: &str) -> Socket {
        let mut request = url.into_client_request().expect("a URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            tungstenite::http::HeaderValue::from_static(PROTOCOL),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connects");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            PROTOCOL,
            "the subprotocol is agreed"
        );
        socket
    }

    async fn send(socket: &mut Socket, message: Value) {
        socket
            .send(tungstenite::Message::text(message.to_string()))
            .await
            .expect("sends");
    }

    /// The next JSON message, or the close frame's code.
    async fn next(socket: &mut Socket) -> Result<Value, u16> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .expect("an answer in time")
                .expect("a frame")
                .expect("a good frame");
            match frame {
                tungstenite::Message::Text(text) => {
                    return Ok(serde_json::from_str(&text).expect("JSON"));
                }
                tungstenite::Message::Close(frame) => {
                    return Err(frame.map_or(0, |f| u16::from(f.code)));
                }
                _ => {}
            }
        }
    }

    async fn initialised(url: &str, payload: Value) -> Socket {
        let mut socket = connect(url).await;
        send(
            &mut socket,
            json!({"type": "connection_init", "payload": payload}),
        )
        .await;
        assert_eq!(
            next(&mut socket).await,
            Ok(json!({"type": "connection_ack"}))
        );
        socket
    }

    fn subscribe(id: &str, query: &str) -> Value {
        json!({"type": "subscribe", "id": id, "payload": {"query": query}})
    }

    /// Subscription `id`, a `count(to: to)`, sends 0 up to `to` and completes.
    async fn counts_then_completes(socket: &mut Socket, id: &str, to: i32) {
        for n in 0..to {
            assert_eq!(
                next(socket).await,
                Ok(json!({"type": "next", "id": id, "payload": {"data": {"count": n}}}))
            );
        }
        assert_eq!(
            next(socket).await,
            Ok(json!({"type": "complete", "id": id}))
        );
    }

    #[tokio::test]
    async fn a_thousand_subscriptions_on_one_connection_each_hear_a_change_once() {
        let (url, news) = server().await;
        let mut socket = initialised(&url, json!({})).await;
        for n in 0..1000 {
            send(
                &mut socket,
                subscribe(&n.to_string(), "subscription { news }"),
            )
            .await;
        }
        // Every subscription is running once each answers a ping after it.
        send(&mut socket, json!({"type": "ping"})).await;
        assert_eq!(next(&mut socket).await, Ok(json!({"type": "pong"})));
        while news.receiver_count() < 1000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        news.send(7).expect("subscribers");
        let mut heard = std::collections::HashSet::new();
        for _ in 0..1000 {
            let message = next(&mut socket).await.expect("a message");
            assert_eq!(message["type"], "next");
            assert_eq!(message["payload"], json!({"data": {"news": 7}}));
            assert!(
                heard.insert(message["id"].as_str().expect("an id").to_string()),
                "{message} twice"
            );
        }
        assert_eq!(heard.len(), 1000);
    }

    #[tokio::test]
    async fn a_message_longer_than_one_read_arrives_whole() {
        let (url, _) = server().await;
        let mut socket = initialised(&url, json!({})).await;
        // A document three reads long: the socket reads 4 KiB at a time.
        let padding = " ".repeat(3 * READ_BUFFER);
        send(
            &mut socket,
            subscribe("long", &format!("subscription {{{padding}count(to: 2) }}")),
        )
        .await;
        counts_then_completes(&mut socket, "long", 2).await;
    }

    #[tokio::test]
    async fn a_subscription_that_ends_completes_and_one_the_client_completes_goes_quiet() {
        let (url, news) = server().await;
        let mut socket = initialised(&url, json!({})).await;
        send(
            &mut socket,
            subscribe("count", "subscription { count(to: 2) }"),
        )
        .await;
        counts_then_completes(&mut socket, "count", 2).await;

        send(&mut socket, subscribe("a", "subscription { news }")).await;
        send(&mut socket, subscribe("b", "subscription { news }")).await;
        while news.receiver_count() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        send(&mut socket, json!({"type": "complete", "id": "a"})).await;
        send(&mut socket, json!({"type": "ping"})).await;
        assert_eq!(next(&mut socket).await, Ok(json!({"type": "pong"})));
        news.send(1).expect("a subscriber");
        let message = next(&mut socket).await.expect("a message");
        assert_eq!(message["id"], "b", "only the subscription still running");
        // The id of a completed subscription may be used again.
        send(&mut socket, subscribe("a", "subscription { count(to: 1) }")).await;
        assert_eq!(next(&mut socket).await.expect("a message")["id"], "a");
    }

    #[tokio::test]
    async fn protocol_faults_close_the_connection_with_the_protocols_codes() {
        let (url, _news) = server().await;

        let mut early = connect(&url).await;
        send(&mut early, subscribe("1", "subscription { news }")).await;
        assert_eq!(next(&mut early).await, Err(4401), "subscribe before init");

        let mut twice = initialised(&url, json!({})).await;
        send(&mut twice, json!({"type": "connection_init"})).await;
        assert_eq!(next(&mut twice).await, Err(4429), "a second init");

        let mut duplicate = initialised(&url, json!({})).await;
        send(&mut duplicate, subscribe("1", "subscription { news }")).await;
        send(&mut duplicate, subscribe("1", "subscription { news }")).await;
        assert_eq!(next(&mut duplicate).await, Err(4409), "an id in use");

        let mut garbled = initialised(&url, json!({})).await;
        send(&mut garbled, json!({"type": "shout"})).await;
        assert_eq!(next(&mut garbled).await, Err(4400), "an unknown message");
    }

    #[tokio::test]
    async fn each_subscription_carries_the_caller_and_errors_arrive_as_results() {
        let (url, _news) = server().await;
        let mut socket = initialised(&url, json!({})).await;
        // A pong nobody asked for is a heartbeat: nothing to answer.
        send(&mut socket, json!({"type": "pong", "payload": {"at": 1}})).await;
        send(&mut socket, subscribe("who", "subscription { caller }")).await;
        assert_eq!(
            next(&mut socket).await.expect("a message")["payload"],
            json!({"data": {"caller": "anonymous"}})
        );
        assert_eq!(
            next(&mut socket).await,
            Ok(json!({"type": "complete", "id": "who"}))
        );

        let mut refused = initialised(&url, json!({"authorization": "Basic eA=="})).await;
        send(&mut refused, subscribe("who", "subscription { caller }")).await;
        assert_eq!(
            next(&mut refused).await.expect("a message")["payload"],
            json!({"data": {"caller": "rejected"}}),
            "a token that is not one reaches the resolver as refused"
        );

        send(&mut socket, subscribe("bad", "subscription { nope }")).await;
        let message = next(&mut socket).await.expect("a message");
        assert_eq!(
            (message["type"].as_str(), message["id"].as_str()),
            (Some("next"), Some("bad"))
        );
        assert!(
            message["payload"]["errors"][0]["message"].is_string(),
            "{message}"
        );
        assert_eq!(
            next(&mut socket).await,
            Ok(json!({"type": "complete", "id": "bad"}))
        );
    }

    #[test]
    fn a_close_reason_is_cut_to_fit_a_control_frame() {
        let long = "é".repeat(100);
        let cut = within(long, CLOSE_REASON_BYTES);
        assert!(cut.len() <= CLOSE_REASON_BYTES && cut.len() >= CLOSE_REASON_BYTES - 1);
        assert_eq!(within("short".into(), CLOSE_REASON_BYTES), "short");
    }

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
