//! One place that sets up `tracing`: logs (JSON for log collectors, pretty
//! for people; `RUST_LOG` filters, the default keeps SQL and HTTP internals
//! quiet) and traces.
//!
//! Traces follow a request across processes with W3C trace context: the
//! router sends `traceparent` to a subgraph ([`request_span`] continues it,
//! and a subgraph calling another sends it on),
//! an event written during the request carries it ([`traceparent`], into
//! the event's envelope), and the consumer that applies the event continues
//! it again ([`continue_trace`]). Spans are exported over OTLP/HTTP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
//! set, named by `OTEL_SERVICE_NAME` or the service.

use std::collections::HashMap;

use opentelemetry::{
    Context, global,
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider,
};
use opentelemetry_sdk::{
    Resource, propagation::TraceContextPropagator, runtime::TokioCurrentThread,
    trace::SdkTracerProvider, trace::span_processor_with_async_runtime::BatchSpanProcessor,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

use crate::config::LogFormat;

/// The default filter of logs.
const QUIET_INTERNALS: &str = "info,sqlx=warn,sea_orm=warn,hyper=warn,tower_http=warn";

/// Installs the global subscriber (logs and traces), and a panic hook that
/// logs the panic through it (as JSON in production) before the default
/// report. Safe to call more than once (tests, the one-process launcher):
/// only the first call takes effect.
pub fn init(service: &str, format: LogFormat) {
    init_with_default(service, format, QUIET_INTERNALS);
}

/// [`init`] with another log filter for when `RUST_LOG` is unset (a command
/// whose output is a progress bar keeps to warnings; tests keep silent).
pub fn init_with_default(service: &str, format: LogFormat, default_filter: &str) {
    static PANIC_HOOK: std::sync::Once = std::sync::Once::new();
    PANIC_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(ToString::to_string);
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let thread = std::thread::current().name().map(str::to_string);
            tracing::error!(?location, ?thread, %message, "panic");
            default(info);
        }));
    });
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let logs = match format {
        LogFormat::Json => fmt::layer().json().flatten_event(true).boxed(),
        LogFormat::Pretty => fmt::layer().compact().boxed(),
    }
    .with_filter(filter);
    // Traces are kept apart from the log filter: a span that is not logged
    // still carries its trace on to the next process.
    // Nothing here reads `opentelemetry::Context::current()` (the trace is
    // read from the span itself), and busy/idle times are not exported: both
    // would cost every entry and exit of every span, on every poll of an
    // instrumented future.
    let traces = tracing_opentelemetry::layer()
        .with_tracer(tracer(service))
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init();
}

/// The tracer, exporting over OTLP/HTTP when an endpoint is configured.
fn tracer(service: &str) -> opentelemetry_sdk::trace::Tracer {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| format!("salesync-{service}"));
    let mut provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(name).build());
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()));
    if configured {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            // Exports on a thread of its own, batched, off the request path.
            Ok(exporter) => {
                provider = provider.with_span_processor(
                    BatchSpanProcessor::builder(exporter, TokioCurrentThread).build(),
                );
            }
            Err(error) => eprintln!("traces are not exported: {error}"),
        }
    }
    let provider = provider.build();
    let tracer = provider.tracer("salesync");
    global::set_tracer_provider(provider);
    tracer
}

/// HTTP headers as a source of trace context.
struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// The span of one request to a subgraph, continuing the caller's trace
/// (the router's or another subgraph's `traceparent`) when there is one.
pub fn request_span(headers: &axum::http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!("request", otel.kind = "server");
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
    span
}

/// The current trace as a W3C `traceparent`, for an event written now.
pub fn traceparent() -> Option<String> {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut carrier);
    carrier.remove("traceparent")
}

/// The current trace as HTTP headers, for a call to another subgraph.
pub fn trace_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(value) = traceparent().and_then(|t| t.parse().ok()) {
        headers.insert("traceparent", value);
    }
    headers
}

/// A span continuing the trace an event carried.
pub fn continue_trace(span: tracing::Span, traceparent: Option<&str>) -> tracing::Span {
    if let Some(traceparent) = traceparent {
        let carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
        let parent: Context = TraceContextPropagator::new().extract(&carrier);
        let _ = span.set_parent(parent);
    }
    span
}
