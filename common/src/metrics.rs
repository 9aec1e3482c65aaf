//! What a subgraph counts, served as Prometheus text at `/metrics`:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `salesync_graphql_requests_total` | `operation`, `kind`, `outcome` | GraphQL operations executed: `operation` is the root field (`placeOrder`, `_entities`; `+more` when there are several), `outcome` `ok` or the first error's code; `rejected` requests failed to parse or validate |
//! | `salesync_graphql_request_duration_seconds` | `operation`, `kind` | how long each took |
//! | `salesync_subscriptions_active` | | subscriptions open now (WebSocket, from the router) |
//! | `salesync_outbox_backlog` | | events written but not yet published to the bus, read at scrape time |
//! | `salesync_events_applied_total` | `consumer` | events a consumer applied (not counting ones it had applied before) |
//! | `salesync_consumer_lag` | `consumer`, `topic`, `partition` | messages on the bus after the last one the consumer handled |
//!
//! Every metric carries `service` (the subgraph). The operation label comes
//! from the schema's own field names after validation, so clients cannot
//! grow it without bound.
//!
//! Operations are measured around the schema ([`Measured`]), not by a
//! schema extension: with any extension, async-graphql sends every field of
//! every response through its extension chain (a boxed future and two
//! registry lookups per field, each list element too), which a menu of 24
//! items pays about 130 times per read, and every subscriber per event.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use async_graphql::{
    Data, Executor, Request, Response, Value,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    },
};
use futures::{Stream, StreamExt, stream::BoxStream};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// One subgraph's metrics. Clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    subscriptions: IntGauge,
    outbox_backlog: IntGauge,
    events_applied: IntCounterVec,
    consumer_lag: IntGaugeVec,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let registry = Registry::new_custom(
            None,
            Some([("service".to_string(), service.to_string())].into()),
        )
        .expect("valid labels");
        let requests = IntCounterVec::new(
            Opts::new(
                "salesync_graphql_requests_total",
                "GraphQL operations by root field, kind and outcome",
            ),
            &["operation", "kind", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "salesync_graphql_request_duration_seconds",
                "How long GraphQL operations took",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation", "kind"],
        )
        .expect("valid metric");
        let subscriptions = IntGauge::new(
            "salesync_subscriptions_active",
            "GraphQL subscriptions open now",
        )
        .expect("valid metric");
        let outbox_backlog = IntGauge::new(
            "salesync_outbox_backlog",
            "Events in the outbox not yet published to the bus",
        )
        .expect("valid metric");
        let events_applied = IntCounterVec::new(
            Opts::new("salesync_events_applied_total", "Events a consumer applied"),
            &["consumer"],
        )
        .expect("valid metric");
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "salesync_consumer_lag",
                "Messages on the bus after the last one the consumer handled",
            ),
            &["consumer", "topic", "partition"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(subscriptions.clone()),
            Box::new(outbox_backlog.clone()),
            Box::new(events_applied.clone()),
            Box::new(consumer_lag.clone()),
        ] {
            registry.register(metric).expect("each metric once");
        }
        Metrics(Arc::new(Inner {
            registry,
            requests,
            latency,
            subscriptions,
            outbox_backlog,
            events_applied,
            consumer_lag,
        }))
    }

    pub fn event_applied(&self, consumer: &str) {
        self.0.events_applied.with_label_values(&[consumer]).inc();
    }

    pub fn consumer_lag(&self, consumer: &str, topic: &str, partition: i32, lag: i64) {
        self.0
            .consumer_lag
            .with_label_values(&[consumer, topic, &partition.to_string()])
            .set(lag);
    }

    pub fn outbox_backlog(&self, events: u64) {
        self.0
            .outbox_backlog
            .set(i64::try_from(events).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.0.registry.gather(), &mut text)
            .expect("metrics encode");
        String::from_utf8(text).expect("the text format is UTF-8")
    }

    fn record(&self, operation: &str, kind: &str, outcome: &str, seconds: f64) {
        self.0
            .requests
            .with_label_values(&[operation, kind, outcome])
            .inc();
        self.0
            .latency
            .with_label_values(&[operation, kind])
            .observe(seconds);
    }

    /// Counts one response to `operation` (its kind and label, none when
    /// the document did not parse), begun at `started`.
    fn record_response(
        &self,
        operation: Option<&Operation>,
        response: &Response,
        started: Instant,
    ) {
        let seconds = started.elapsed().as_secs_f64();
        match operation {
            // A subscription's events are not requests; its opening is
            // counted by the gauge.
            Some((kind, _)) if *kind == "subscription" => {}
            Some((kind, label)) if !rejected(response) => {
                self.record(label, kind, &outcome(response), seconds)
            }
            _ => self.record("invalid", "unknown", "rejected", seconds),
        }
    }
}

/// An operation's kind and root-field label.
type Operation = (&'static str, String);

/// A schema whose operations are counted and timed, and whose subscriptions
/// are counted while they are open. Clones share the metrics.
#[derive(Clone)]
pub struct Measured<E> {
    inner: E,
    metrics: Metrics,
}

impl<E> Measured<E> {
    pub fn new(inner: E, metrics: Metrics) -> Self {
        Measured { inner, metrics }
    }
}

impl<E: Executor> Executor for Measured<E> {
    async fn execute(&self, mut request: Request) -> Response {
        let operation = describe(&mut request);
        let started = Instant::now();
        let response = self.inner.execute(request).await;
        self.metrics
            .record_response(operation.as_ref(), &response, started);
        response
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let operation = describe(&mut request);
        let stream = self.inner.execute_stream(request, session_data);
        if operation
            .as_ref()
            .is_some_and(|(kind, _)| *kind == "subscription")
        {
            return Box::pin(Counted::new(stream, self.metrics.0.subscriptions.clone()));
        }
        // A query or mutation over the socket: one response.
        let metrics = self.metrics.clone();
        let started = Instant::now();
        stream
            .map(move |response| {
                metrics.record_response(operation.as_ref(), &response, started);
                response
            })
            .boxed()
    }
}

/// The kind and label of the operation `request` runs, from its parsed
/// document (parsed here if nothing parsed it yet; the schema then uses that
/// parse); none when it does not parse.
fn describe(request: &mut Request) -> Option<Operation> {
    let name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    Some(operation_of(document, name.as_deref()))
}

/// Whether the schema refused the request before any resolver ran (it did
/// not parse or validate, or names no operation of its document): no data,
/// and no error belongs to a field. A resolver's error always has a path.
fn rejected(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// The kind and label of the operation `name` (or the only or first one)
/// of `document`; `unknown` when it has no such operation.
fn operation_of(document: &ExecutableDocument, name: Option<&str>) -> Operation {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    operation.map_or(("unknown", "unknown".to_string()), |operation| {
        describe_operation(&operation.node)
    })
}

/// The kind and root-field label of one operation.
fn describe_operation(operation: &OperationDefinition) -> Operation {
    let kind = match operation.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    let fields: Vec<&str> = operation
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|selection| match &selection.node {
            Selection::Field(field) => Some(field.node.name.node.as_str()),
            _ => None,
        })
        .filter(|name| *name != "__typename")
        .collect();
    let label = match fields.as_slice() {
        [] => "__typename".to_string(),
        [one] => (*one).to_string(),
        [first, ..] => format!("{first}+more"),
    };
    (kind, label)
}

/// The first error's `extensions.code`, or `ok`.
fn outcome(response: &Response) -> String {
    response.errors.first().map_or_else(
        || "ok".to_string(),
        |error| {
            error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .map(|code| code.to_string().trim_matches('"').to_string())
                .unwrap_or_else(|| "error".to_string())
        },
    )
}

/// A stream counted in a gauge while it lives.
struct Counted<'s> {
    inner: BoxStream<'s, Response>,
    gauge: IntGauge,
}

impl<'s> Counted<'s> {
    fn new(inner: BoxStream<'s, Response>, gauge: IntGauge) -> Self {
        gauge.inc();
        Counted { inner, gauge }
    }
}

impl Stream for Counted<'_> {
    type Item = Response;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Response>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a document")
    }

    #[test]
    fn an_operation_is_named_by_its_root_field() {
        let document = parsed(
            "query A { me { id } } mutation B { placeOrder(tableNo: 1, lines: []) { id } setOrderLines { id } }",
        );
        assert_eq!(operation_of(&document, Some("A")), ("query", "me".into()));
        assert_eq!(
            operation_of(&document, Some("B")),
            ("mutation", "placeOrder+more".into())
        );
        assert_eq!(
            operation_of(&parsed("{ __typename }"), None),
            ("query", "__typename".into())
        );
    }

    #[tokio::test]
    async fn operations_are_counted_by_root_field_and_refused_documents_as_rejected() {
        struct Query;
        #[async_graphql::Object]
        impl Query {
            async fn ok(&self) -> i32 {
                1
            }
            async fn fails(&self) -> async_graphql::Result<i32> {
                Err("no".into())
            }
        }
        let metrics = Metrics::new("test");
        let schema = Measured::new(
            async_graphql::Schema::new(
                Query,
                async_graphql::EmptyMutation,
                async_graphql::EmptySubscription,
            ),
            metrics.clone(),
        );
        for query in [
            "{ ok }",
            "{ ok }",
            "{ fails }",
            "{ nope }",
            "{ ok",
            "query A { ok }",
        ] {
            schema.execute(Request::new(query)).await;
        }
        // Names no operation of its document: refused before execution.
        schema
            .execute(Request::new("query A { ok }").operation_name("B"))
            .await;
        let text = metrics.render();
        for (labels, count) in [
            (r#"kind="query",operation="ok",outcome="ok""#, 3),
            (r#"kind="query",operation="fails",outcome="error""#, 1),
            (
                r#"kind="unknown",operation="invalid",outcome="rejected""#,
                3,
            ),
        ] {
            let line =
                format!(r#"salesync_graphql_requests_total{{{labels},service="test"}} {count}"#);
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(!text.contains(r#"operation="nope""#), "{text}");
    }

    #[test]
    fn rendered_metrics_carry_the_service() {
        let metrics = Metrics::new("order");
        metrics.record("placeOrder", "mutation", "ok", 0.004);
        metrics.outbox_backlog(3);
        metrics.consumer_lag("order.store-facts", "salesync.stores", 0, 2);
        let text = metrics.render();
        assert!(text.contains(
            r#"salesync_graphql_requests_total{kind="mutation",operation="placeOrder",outcome="ok",service="order"} 1"#
        ), "{text}");
        assert!(text.contains(r#"salesync_outbox_backlog{service="order"} 3"#));
        assert!(text.contains(r#"partition="0""#));
    }
}
