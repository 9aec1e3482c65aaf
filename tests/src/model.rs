//! A local OpenAI-compatible model server, for tests and benchmarks of the
//! consulting subgraph: no model can be reached from here, and a test
//! needs to choose how the model answers (streams slowly, hangs, fails).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router, body::Body, extract::State, http::StatusCode, response::Response, routing::post,
};
use futures::stream;
use serde_json::{Value, json};
use tokio::sync::watch;

/// How the model answers.
#[derive(Clone, Copy)]
pub enum Behaviour {
    /// `pieces` pieces of text, `gap` apart.
    Streams { pieces: usize, gap: Duration },
    /// Nothing for a minute.
    Hangs,
    /// HTTP 500.
    Fails,
}

/// A local OpenAI-compatible server: `/v1/chat/completions`, streamed as
/// server-sent events, recording every request body.
#[derive(Clone)]
pub struct LocalModel {
    behaviour: Behaviour,
    requests: Arc<Mutex<Vec<Value>>>,
    /// Whether a streamed answer may end; see [`LocalModel::hold`].
    gate: Arc<watch::Sender<bool>>,
}

impl LocalModel {
    /// Starts serving on a free port; returns the server and its base URL
    /// (`.../v1`, what `OPENAI_BASE_URL` takes).
    pub async fn start(behaviour: Behaviour) -> (LocalModel, String) {
        let model = LocalModel {
            behaviour,
            requests: Arc::default(),
            gate: Arc::new(watch::channel(true).0),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(model.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}/v1", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (model, url)
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("lock").clone()
    }

    /// Streamed answers send their text, then wait before they end until
    /// [`LocalModel::release`]: the advice is written and not yet done.
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    /// Lets held and later answers end.
    pub fn release(&self) {
        self.gate.send_replace(true);
    }
}

/// The `i`-th piece of text a streaming answer sends.
pub fn piece(i: usize) -> String {
    format!("Advice part {i}. ")
}

async fn complete(State(model): State<LocalModel>, Json(body): Json<Value>) -> Response {
    model.requests.lock().expect("lock").push(body);
    match model.behaviour {
        Behaviour::Fails => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header("content-type", "application/json")
            .body(Body::from(
                json!({ "error": { "message": "the local model is down", "type": "server_error", "param": null, "code": null } }).to_string(),
            ))
            .expect("a response"),
        Behaviour::Hangs => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Response::new(Body::empty())
        }
        Behaviour::Streams { pieces, gap } => {
            let gate = model.gate.subscribe();
            let events = stream::unfold((0usize, gate), move |(i, mut gate)| async move {
                if i > pieces {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(gap).await;
                }
                let data = if i == pieces {
                    // A sender that is gone holds nothing back.
                    let _ = gate.wait_for(|open| *open).await;
                    "data: [DONE]\n\n".to_string()
                } else {
                    let chunk = json!({
                        "id": "local-1", "object": "chat.completion.chunk", "created": 1,
                        "model": "fake-model",
                        "choices": [{ "index": 0, "delta": { "content": piece(i) }, "finish_reason": null }],
                    });
                    format!("data: {chunk}\n\n")
                };
                Some((Ok::<_, std::convert::Infallible>(data), (i + 1, gate)))
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(events))
                .expect("a response")
        }
    }
}
