//! A graphql-transport-ws client, as Apollo Client's `graphql-ws` link
//! speaks it: the token travels in `connection_init`.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub struct WsSubscription {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsSubscription {
    /// Connects, authenticates with `token` and starts `query`.
    pub async fn start(url: &str, token: &str, query: &str) -> Self {
        Self::connect(url, Some(token), query).await
    }

    /// Connects without a token and starts `query`.
    pub async fn start_anonymous(url: &str, query: &str) -> Self {
        Self::connect(url, None, query).await
    }

    async fn connect(url: &str, token: Option<&str>, query: &str) -> Self {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = connect_async(request)
            .await
            .expect("the WebSocket connects");
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        let init = json!({ "type": "connection_init", "payload": payload });
        socket
            .send(Message::text(init.to_string()))
            .await
            .expect("send init");
        let mut subscription = WsSubscription { socket };
        let ack = subscription.next_message(Duration::from_secs(10)).await;
        assert_eq!(
            ack.as_ref().map(|m| m["type"].clone()),
            Some(json!("connection_ack")),
            "{ack:?}"
        );
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
        subscription
            .socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("send subscribe");
        subscription
    }

    /// The next protocol message (`next`, `error`, `complete`), answering
    /// pings; None after `limit`.
    pub async fn next_message(&mut self, limit: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            let text = match frame.expect("a WebSocket frame") {
                Message::Text(text) => text.to_string(),
                Message::Close(frame) => panic!("the server closed the subscription: {frame:?}"),
                _ => continue,
            };
            let message: Value = serde_json::from_str(&text).expect("JSON");
            if message["type"] == "ping" {
                let pong = json!({ "type": "pong" }).to_string();
                self.socket.send(Message::text(pong)).await.expect("pong");
                continue;
            }
            return Some(message);
        }
    }

    /// The next result's `data`, or None if none arrives within `limit`.
    pub async fn next_data(&mut self, limit: Duration) -> Option<Value> {
        let message = self.next_message(limit).await?;
        match message["type"].as_str() {
            Some("next") => {
                assert!(
                    message["payload"]["errors"].is_null(),
                    "subscription error: {message}"
                );
                Some(message["payload"]["data"].clone())
            }
            _ => panic!("unexpected subscription message: {message}"),
        }
    }
}
