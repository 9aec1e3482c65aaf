//! The HTTP server every subgraph runs: its GraphQL routes plus `/health`
//! (the process is up) and `/ready` (its dependencies answer), bound before
//! it runs so tests can ask for port 0 and learn the real port.

use std::{future::Future, net::SocketAddr, pin::Pin, sync::Arc};

use anyhow::Context;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

type CheckFuture = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// Named readiness checks, run on every `/ready` request. Each answers a
/// short status; a failing *check* makes the service unready (503), a
/// failing *report* is only shown.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, bool, Check)>,
}

impl Readiness {
    /// A dependency the service cannot work without.
    pub fn check<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.add(name, true, check)
    }

    /// Something worth showing that does not make the service unready.
    pub fn report<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.add(name, false, check)
    }

    fn add<F, Fut>(mut self, name: &'static str, critical: bool, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.checks
            .push((name, critical, Arc::new(move || Box::pin(check()))));
        self
    }

    async fn status(&self) -> (bool, serde_json::Value) {
        let mut ready = true;
        let mut report = serde_json::Map::new();
        for (name, critical, check) in &self.checks {
            let status = match check().await {
                Ok(detail) => detail,
                Err(reason) => {
                    ready &= !critical;
                    reason
                }
            };
            report.insert((*name).to_string(), json!(status));
        }
        (ready, serde_json::Value::Object(report))
    }
}

async fn continue_caller_trace(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let span = crate::telemetry::request_span(request.headers());
    next.run(request).instrument(span).await
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    app: Router,
    address: SocketAddr,
}

impl Server {
    /// Binds `host:port` (port 0 picks a free one) for `routes`.
    pub async fn bind(
        host: &str,
        port: u16,
        routes: Router,
        readiness: Readiness,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((host, port))
            .await
            .with_context(|| format!("failed to bind {host}:{port}"))?;
        let address = listener.local_addr().context("no local address")?;
        let probes = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/ready", get(ready))
            .with_state(readiness);
        // Every request but the probes continues its caller's trace: the
        // router's on /graphql, another subgraph's on /internal/*.
        let routes = routes.layer(axum::middleware::from_fn(continue_caller_trace));
        let app = routes.merge(probes).layer(TraceLayer::new_for_http());
        Ok(Server {
            listener,
            app,
            address,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// requests in flight finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
    }
}

async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
    let (ready, report) = readiness.status().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}
