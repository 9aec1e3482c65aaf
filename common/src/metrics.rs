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

use std::{
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Instant,
};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
        NextSubscribe,
    },
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    },
};
use futures::{Stream, stream::BoxStream};
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

    /// The schema extension that counts operations and subscriptions.
    pub fn graphql(&self) -> GraphqlMetrics {
        GraphqlMetrics(self.clone())
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
}

/// Counts each GraphQL request of the schema it is added to.
pub struct GraphqlMetrics(Metrics);

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestMetrics {
            metrics: self.0.clone(),
            operations: Mutex::new(Vec::new()),
            executed: AtomicBool::new(false),
        })
    }
}

/// One request's measurements.
struct RequestMetrics {
    metrics: Metrics,
    /// The document's operations, named and labelled once parsed; which
    /// one runs is known only at execution.
    operations: Mutex<Vec<Described>>,
    /// Whether it got past validation (else it counts as rejected).
    executed: AtomicBool,
}

/// One operation of a document: its name, kind and root-field label.
struct Described {
    name: Option<String>,
    kind: &'static str,
    label: String,
}

/// Every operation of `document`.
fn describe_all(document: &ExecutableDocument) -> Vec<Described> {
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![(None, operation)],
        DocumentOperations::Multiple(operations) => operations
            .iter()
            .map(|(name, operation)| (Some(name.to_string()), operation))
            .collect(),
    };
    operations
        .into_iter()
        .map(|(name, operation)| {
            let (kind, label) = describe_operation(&operation.node);
            Described { name, kind, label }
        })
        .collect()
}

/// The kind and label of the operation `name` (or the first) of `operations`.
fn pick(operations: &[Described], name: Option<&str>) -> (&'static str, String) {
    operations
        .iter()
        .find(|operation| {
            name.is_none() || operation.name.is_none() || operation.name.as_deref() == name
        })
        .map_or(("unknown", "unknown".to_string()), |operation| {
            (operation.kind, operation.label.clone())
        })
}

/// The kind and root-field label of one operation.
fn describe_operation(operation: &OperationDefinition) -> (&'static str, String) {
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

#[async_trait::async_trait]
impl Extension for RequestMetrics {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        if !self.executed.load(Ordering::Relaxed) {
            self.metrics.record(
                "invalid",
                "unknown",
                "rejected",
                started.elapsed().as_secs_f64(),
            );
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.operations.lock().expect("not poisoned") = describe_all(&document);
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.executed.store(true, Ordering::Relaxed);
        let (kind, label) = pick(
            &self.operations.lock().expect("not poisoned"),
            operation_name,
        );
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        // A subscription's events are not requests; its opening is counted
        // by the gauge below.
        if kind != "subscription" {
            self.metrics.record(
                &label,
                kind,
                &outcome(&response),
                started.elapsed().as_secs_f64(),
            );
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        self.executed.store(true, Ordering::Relaxed);
        Box::pin(Counted::new(
            next.run(ctx, stream),
            self.metrics.0.subscriptions.clone(),
        ))
    }
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
        assert_eq!(
            pick(&describe_all(&document), Some("A")),
            ("query", "me".into())
        );
        assert_eq!(
            pick(&describe_all(&document), Some("B")),
            ("mutation", "placeOrder+more".into())
        );
        assert_eq!(
            pick(&describe_all(&parsed("{ __typename }")), None),
            ("query", "__typename".into())
        );
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
