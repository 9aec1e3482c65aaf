//! What operators watch: every subgraph's Prometheus metrics (operations,
//! subscriptions, the outbox, consumers), the router's own, and one trace
//! from the router through a subgraph (and the one it calls) into the
//! events they wrote and the consumer that applied one, in another process.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use salesync_common::events::outbox::entity as outbox;
use salesync_tests::{Options, TestBus, TestSystem, WsSubscription};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

async fn metrics_of(system: &TestSystem, subgraph: &str) -> String {
    let url = system.url(subgraph).replace("/graphql", "/metrics");
    reqwest::get(&url)
        .await
        .expect("the subgraph answers")
        .text()
        .await
        .expect("text")
}

/// The value of the sample `name{labels}` (labels in the exposition's
/// order, which is alphabetical), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn until(mut ok: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached within 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_subgraph_counts_operations_subscriptions_the_outbox_and_its_consumers() {
    let system = TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        ..Options::default()
    })
    .await;
    let shop = system.shop(&[("Bibimbap", 12_000)]).await;

    let mut floor = WsSubscription::start(
        &system.router_ws_url(),
        &shop.token,
        "subscription { tableChanged { tableNo } }",
    )
    .await;
    until(async || {
        sample(
            &metrics_of(&system, "order").await,
            r#"salesync_subscriptions_active{service="order"}"#,
        ) == 1.0
    })
    .await;

    for table in [1, 2] {
        shop.client
            .query(
                "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 1 }]) { id } }",
                json!({ "t": table, "i": shop.items[0] }),
            )
            .await
            .data_or_panic();
    }
    assert!(floor.next_data(Duration::from_secs(10)).await.is_some());
    // A table the store does not have: refused, and counted as such.
    shop.client
        .query(
            "mutation($i: ID!) { placeOrder(tableNo: 999, lines: [{ itemId: $i, quantity: 1 }]) { id } }",
            json!({ "i": shop.items[0] }),
        )
        .await
        .expect_error("BAD_USER_INPUT");

    let order = metrics_of(&system, "order").await;
    assert_eq!(
        sample(
            &order,
            r#"salesync_graphql_requests_total{kind="mutation",operation="placeOrder",outcome="ok",service="order"}"#
        ),
        2.0,
        "{order}"
    );
    assert_eq!(
        sample(
            &order,
            r#"salesync_graphql_requests_total{kind="mutation",operation="placeOrder",outcome="BAD_USER_INPUT",service="order"}"#
        ),
        1.0,
        "{order}"
    );
    assert!(order.contains(
        r#"salesync_graphql_request_duration_seconds_count{kind="mutation",operation="placeOrder",service="order"} 3"#
    ));

    // The relay publishes the orders' events; the backlog drains to zero.
    until(async || {
        let text = metrics_of(&system, "order").await;
        text.contains(r#"salesync_outbox_backlog{service="order"} 0"#)
    })
    .await;

    // The store subgraph's events (sign-up) reached the order subgraph's
    // consumer, which is caught up.
    until(async || {
        let text = metrics_of(&system, "order").await;
        text.lines()
            .any(|line| line.starts_with("salesync_events_applied_total{") && !line.ends_with(" 0"))
            && text
                .lines()
                .filter(|line| line.starts_with("salesync_consumer_lag{"))
                .all(|line| line.ends_with(" 0"))
            && text.contains("salesync_consumer_lag{")
    })
    .await;

    // A closed subscription is no longer counted.
    drop(floor);
    until(async || {
        sample(
            &metrics_of(&system, "order").await,
            r#"salesync_subscriptions_active{service="order"}"#,
        ) == 0.0
    })
    .await;

    // A request that fails validation is counted without growing the labels.
    let direct = system.direct("item");
    direct
        .query("{ noSuchField }", json!({}))
        .await
        .expect_error("BAD_USER_INPUT");
    let item = metrics_of(&system, "item").await;
    assert_eq!(
        sample(
            &item,
            r#"salesync_graphql_requests_total{kind="unknown",operation="invalid",outcome="rejected",service="item"}"#
        ),
        1.0,
        "{item}"
    );
    assert!(!item.contains("noSuchField"));

    // The router's own metrics.
    let router = reqwest::get(system.router_url.replace("/graphql", "/metrics"))
        .await
        .expect("the router answers")
        .text()
        .await
        .expect("text");
    // Kept: request and subgraph times, and the router's own share.
    for kept in [
        "http_server_request_duration",
        "http_client_request_duration",
        "hive_router_request_overhead_duration",
    ] {
        assert!(router.contains(kept), "{kept} missing: {router}");
    }
    // Turned off in router.config.yaml: per-request histograms nobody reads.
    for dropped in [
        "http_server_request_body_size",
        "http_client_response_body_size",
        "hive_router_plan_cache_duration",
    ] {
        assert!(!router.contains(dropped), "{dropped} present: {router}");
    }
}

/// What an OTLP collector received: each export's content type and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An OTLP/HTTP receiver of traces on a free port; its base URL.
async fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(
                |State(received): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    received.lock().unwrap().push((content_type, body.to_vec()));
                    ""
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// Whether one export carried a span of `trace_id` (hex) and, or not, the
/// service name `service`: OTLP's protobuf holds trace ids as their 16 raw
/// bytes and the service name as text.
fn exported(received: &Received, trace_id: &str, service: &str, from_it: bool) -> bool {
    let raw: Vec<u8> = (0..trace_id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&trace_id[i..i + 2], 16).expect("hex"))
        .collect();
    let holds = |body: &[u8], part: &[u8]| body.windows(part.len()).any(|w| w == part);
    received
        .lock()
        .unwrap()
        .iter()
        .any(|(_, body)| holds(body, &raw) && holds(body, service.as_bytes()) == from_it)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_runs_from_the_router_through_a_subgraph_into_its_event_and_its_consumer() {
    let (collector_url, received) = collector().await;
    let mut system = TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        router_env: vec![
            ("ROUTER_TRACE_SAMPLING", "1.0".to_string()),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                format!("{collector_url}/v1/traces"),
            ),
        ],
        ..Options::default()
    })
    .await;
    // The dashboard in a process of its own, exporting its spans.
    system
        .run_as_process_with(
            "dashboard",
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", collector_url.as_str())],
        )
        .await;
    let shop = system.shop(&[("Bibimbap", 12_000)]).await;
    shop.client
        .query(
            "mutation($i: ID!) { placeOrder(tableNo: 4, lines: [{ itemId: $i, quantity: 1 }]) { id } }",
            json!({ "i": shop.items[0] }),
        )
        .await
        .data_or_panic();

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    shop.client
        .with_header("traceparent", &format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .query(
            "mutation($k: String!) { checkout(input: { tableNo: 4, idempotencyKey: $k, payments: [{ method: CARD, amount: 12000 }] }) { id } }",
            json!({ "k": uuid::Uuid::new_v4().to_string() }),
        )
        .await
        .data_or_panic();

    // The sale subgraph wrote its event inside the caller's trace, and so
    // did the order subgraph, which the sale subgraph asked to close the
    // order (an internal call, carrying the trace on).
    for subgraph in ["sale", "order"] {
        let db = system.database(subgraph).await;
        let last = outbox::Entity::find()
            .order_by_desc(outbox::Column::Seq)
            .one(&db)
            .await
            .expect("the outbox")
            .expect("an event");
        let event: serde_json::Value = serde_json::from_str(&last.payload).expect("JSON");
        let traceparent = event["traceparent"].as_str().unwrap_or_default();
        assert!(
            traceparent.starts_with(&format!("00-{trace_id}-")),
            "{subgraph}'s event continues the request's trace: {event}"
        );
        assert!(
            !traceparent.contains("00f067aa0ba902b7"),
            "a span of its own"
        );
    }

    // The router exported its spans, and the dashboard, applying the sale
    // in another process, exported a span of the same trace (batched: the
    // first export comes within seconds).
    let mut seen = false;
    for _ in 0..200 {
        seen = exported(&received, trace_id, "salesync-dashboard", true)
            && exported(&received, trace_id, "salesync-dashboard", false);
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen,
        "no span of the trace from the router and the dashboard"
    );
    assert!(
        received
            .lock()
            .unwrap()
            .iter()
            .all(|(content_type, _)| content_type == "application/x-protobuf")
    );
}
