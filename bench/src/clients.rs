//! Concurrent clients, each sending its next call as soon as the last one
//! answered, for a while: the load of the `writes` and `reads` scenarios.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use salesync_tests::restaurant::Log;

use crate::report::{Samples, ms};

/// What `clients` clients achieved with one operation.
pub struct Row {
    pub operation: &'static str,
    /// How the operation was sent, e.g. "router" or "subgraph directly".
    pub via: &'static str,
    pub clients: usize,
    pub seconds: f64,
    pub samples: Samples,
    pub errors: BTreeMap<String, u32>,
}

impl Row {
    pub fn per_second(&self) -> f64 {
        self.samples.len() as f64 / self.seconds
    }

    pub fn failed(&self) -> u32 {
        self.errors.values().sum()
    }

    /// One line of progress while the scenario runs.
    pub fn show(&self) {
        eprintln!(
            "  {:.0} calls/s, p50 {} ms, p99 {} ms, failed: {:?}",
            self.per_second(),
            ms(self.samples.median()),
            ms(self.samples.percentile(99.0)),
            self.errors
        );
    }
}

/// Runs `clients` clients for `duration`; client `n` repeats `call(n, log)`,
/// which records `operation` in the log. Other operations it records, such
/// as a set-up call, are not timed, but their failures are the row's,
/// named `operation: CODE`.
pub async fn for_a_while<F, Fut>(
    operation: &'static str,
    via: &'static str,
    clients: usize,
    duration: Duration,
    call: F,
) -> anyhow::Result<Row>
where
    F: Fn(usize, Arc<Log>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    eprintln!(
        "{operation} ({via}): {clients} clients for {} s...",
        duration.as_secs()
    );
    let log = Arc::new(Log::default());
    let stop = Arc::new(AtomicBool::new(false));
    let call = Arc::new(call);
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let (log, stop, call) = (log.clone(), stop.clone(), call.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    call(n, log.clone()).await;
                }
            })
        })
        .collect();
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.context("a client failed")?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut samples = Samples::default();
    for took in log.take_latencies().remove(operation).unwrap_or_default() {
        samples.push(took);
    }
    let errors = log
        .errors()
        .into_iter()
        .map(|((op, code), n)| match op == operation {
            true => (code, n),
            false => (format!("{op}: {code}"), n),
        })
        .collect();
    let row = Row {
        operation,
        via,
        clients,
        seconds,
        samples,
        errors,
    };
    row.show();
    Ok(row)
}
