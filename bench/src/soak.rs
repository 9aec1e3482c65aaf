//! A restaurant's service held for minutes: every subgraph as its own
//! process on PostgreSQL and the broker, behind the router. Terminals open,
//! change and pay orders at their tables; the open-tables screen and the
//! dashboard are read; now and then the owner asks for consulting and waits
//! for the advice over the subscription. Every call must succeed, each
//! process's memory must stay flat, and at the end the books must balance.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use salesync_tests::{
    Client, OwnBroker, Shop, TestBus, TestSystem, WsSubscription,
    restaurant::{Log, Terminal, balanced_books},
    today,
};
use serde_json::{Value, json};

use crate::{
    Options,
    dashboard::korean_restaurant,
    procfs::{CpuSpans, SystemCpu, resident_mib},
    report::{Samples, Section, machine, ms},
    upkeep::Upkeep,
};

const SUBGRAPHS: [&str; 6] = ["store", "item", "order", "sale", "dashboard", "consulting"];
/// How often memory is read and progress shown.
const INTERVAL: Duration = Duration::from_secs(10);
/// Memory counts as flat when it grew less than this from the end of the
/// first minute (warm caches, pools at size) to the end.
const FLAT_MIB: f64 = 8.0;

const OPEN_TABLES: &str =
    "{ openOrders { tableNo total version lines { item { name } quantity amount } } }";
const DASHBOARD: &str = "query($f: Date!, $t: Date!) { salesReport(from: $t, to: $t) { salesVolume profit items { item { name } quantity } } dailyVolumes(from: $f, to: $t) { date salesVolume orderCount } }";
const CONSULT: &str =
    "mutation($f: Date!, $t: Date!) { requestConsulting(from: $f, to: $t) { id } }";

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    let restaurant = restaurant_of_processes(12, &[]).await?;
    let Restaurant {
        broker,
        system,
        shop,
        upkeep,
    } = &restaurant;
    let processes = system.process_ids();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut memory = Memory::new(&processes);
    memory.sample()?;
    let mut cpu = CpuSpans::new(SystemCpu::new(&processes, broker)?)?;

    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Log::default());
    let mut tasks = Vec::new();
    for n in 0..options.terminals {
        // The store's 12 tables, dealt out to the terminals in turn.
        let tables = (1..=12).filter(|t| (t - 1) % options.terminals as i64 == n as i64);
        let terminal = Terminal::new(
            shop.client.clone(),
            shop.items.clone(),
            tables.collect(),
            n as u64,
        );
        let (stop, log) = (stop.clone(), log.clone());
        tasks.push(tokio::spawn(
            async move { terminal.serve(&stop, &log).await },
        ));
    }
    for _ in 0..2 {
        tasks.push(spawn_reader(
            &shop.client,
            &stop,
            &log,
            "openOrders",
            OPEN_TABLES,
            json!({}),
            250,
        ));
    }
    let week =
        json!({ "f": (today() - chrono::Days::new(6)).to_string(), "t": today().to_string() });
    tasks.push(spawn_reader(
        &shop.client,
        &stop,
        &log,
        "dashboard",
        DASHBOARD,
        week.clone(),
        1_000,
    ));
    tasks.push(tokio::spawn(consult(
        shop.client.clone(),
        system.router_ws_url(),
        week,
        stop.clone(),
        log.clone(),
    )));

    eprintln!(
        "soaking for {} s: {} terminals, 2 open-tables screens, a dashboard, consulting...",
        options.seconds, options.terminals
    );
    let started = Instant::now();
    let mut latencies: BTreeMap<&'static str, Samples> = BTreeMap::new();
    // Successful calls per minute of the run, to show whether it slows.
    let mut per_minute: Vec<usize> = Vec::new();
    while started.elapsed() < Duration::from_secs(options.seconds) {
        tokio::time::sleep(INTERVAL).await;
        memory.sample()?;
        let calls = gather(&log, &mut latencies);
        let minute = (started.elapsed().as_secs().saturating_sub(1) / 60) as usize;
        per_minute.resize(per_minute.len().max(minute + 1), 0);
        per_minute[minute] += calls;
        cpu.add_to(minute)?;
        let failed: u32 = log.errors().values().sum();
        eprintln!(
            "{:>4.0} s  {:>6.0} calls/s  {failed} failed  {:.0} MiB in all",
            started.elapsed().as_secs_f64(),
            calls as f64 / INTERVAL.as_secs_f64(),
            memory.total_now()
        );
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.context("a load task failed")?;
    }
    let soaked = started.elapsed();
    gather(&log, &mut latencies);

    let receipts = log.receipts();
    let books = balanced_books(&shop.client, &receipts, Duration::from_secs(60)).await;
    let errors = log.errors();
    let mut problems = Vec::new();
    if !errors.is_empty() {
        problems.push(format!("failed calls: {errors:?}"));
    }
    if let Err(discrepancies) = &books {
        problems.push(format!("the books do not balance: {discrepancies:?}"));
    }
    for (name, growth) in memory.growth() {
        if growth >= FLAT_MIB {
            problems.push(format!(
                "{name} grew {growth:.1} MiB after the first minute"
            ));
        }
    }

    let mut calls_table = String::from(
        "| operation | calls | per second | failed | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n",
    );
    for (operation, samples) in &latencies {
        let failed: u32 = errors
            .iter()
            .filter(|((op, _), _)| op == operation)
            .map(|(_, n)| n)
            .sum();
        calls_table.push_str(&format!(
            "| {operation} | {} | {:.0} | {failed} | {} | {} |\n",
            samples.len(),
            samples.len() as f64 / soaked.as_secs_f64(),
            ms(samples.median()),
            ms(samples.percentile(99.0)),
        ));
    }
    let books_line = match &books {
        Ok(books) => format!(
            "{} sales, Σ {} KRW: each paid order has one sale of its total, every receipt is one of them, and the dashboard counted each once",
            books.sales.len(),
            books.paid.values().sum::<i64>()
        ),
        Err(_) => "**did not balance**".to_string(),
    };
    let pace = per_minute
        .iter()
        .enumerate()
        .map(|(minute, calls)| format!("minute {}: {:.0}", minute + 1, *calls as f64 / 60.0))
        .collect::<Vec<_>>()
        .join(", ");
    let verdict = if problems.is_empty() {
        "zero failed calls, memory flat, books balanced".to_string()
    } else {
        format!("**failed**: {}", problems.join("; "))
    };
    let markdown = format!(
        "## Soak: a restaurant's service for {minutes:.0} minutes\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench soak --seconds {seconds} --terminals {terminals}` (release builds; \
           PostgreSQL on 127.0.0.1; a tansu broker; each subgraph its own process behind the router)\n\
         - Database upkeep: {upkeep}\n\
         - Run: {date}\n\
         - Load: {terminals} terminals serving the store's 12 tables (open an order, add to it, \
           change it now and then, pay by card with an idempotency key), two open-tables screens \
           every 250 ms, the dashboard every second, a consulting request answered over the \
           subscription every 10 s; no pauses at the terminals\n\
         - Result: {verdict}\n\
         - Books: {books_line}\n\
         - Calls per second, by minute: {pace}\n\n\
         {calls_table}\n\
         Resident memory (MiB), read every {interval} s; flat means less than {FLAT_MIB} MiB of \
         growth from the end of the first minute to the end:\n\n\
         {memory_table}\n\
         CPU per call (ms), by minute: each process's CPU time in the minute over the calls \
         that succeeded in it (PostgreSQL is all its processes):\n\n\
         {cpu_table}",
        minutes = soaked.as_secs_f64() / 60.0,
        upkeep = upkeep.describe(),
        machine = machine(),
        seconds = options.seconds,
        terminals = options.terminals,
        date = chrono::Utc::now().date_naive(),
        interval = INTERVAL.as_secs(),
        memory_table = memory.table(),
        cpu_table = cpu.table(
            &per_minute
                .iter()
                .enumerate()
                .map(|(minute, calls)| (format!("minute {}", minute + 1), *calls))
                .collect::<Vec<_>>()
        ),
    );
    Ok(Section {
        name: "soak",
        markdown,
        problems,
    })
}

/// What the scenarios with every subgraph its own process run against:
/// the system and what was set up in it before the subgraphs moved out
/// (`shop`: one restaurant, or a store per client). Dropped field by field
/// in this order: the upkeep stops before the databases go, and the system
/// before its broker.
pub(crate) struct Restaurant<S = Shop> {
    pub upkeep: Upkeep,
    pub system: TestSystem,
    pub shop: S,
    /// Stops the broker when dropped.
    pub broker: OwnBroker,
}

/// A tansu broker; the system on it with every subgraph its own process
/// (with `environment` besides its own) behind the router; a Korean
/// restaurant with `items` dishes (costs set); and the databases kept as
/// autovacuum would keep them.
pub(crate) async fn restaurant_of_processes(
    items: usize,
    environment: &[(&str, &str)],
) -> anyhow::Result<Restaurant> {
    system_of_processes(environment, async |system| {
        korean_restaurant(system, items).await
    })
    .await
}

/// [`restaurant_of_processes`] with what `set_up` makes in the system
/// while it still runs in this process (stores and their menus, through
/// the router), instead of the one restaurant.
pub(crate) async fn system_of_processes<S>(
    environment: &[(&str, &str)],
    set_up: impl AsyncFnOnce(&TestSystem) -> S,
) -> anyhow::Result<Restaurant<S>> {
    eprintln!("starting the system: a broker, every subgraph as a process, the router...");
    let broker = OwnBroker::start().await;
    let mut system = TestSystem::start_with(salesync_tests::Options {
        bus: TestBus::KafkaAt(broker.port()),
        ..salesync_tests::Options::default()
    })
    .await;
    let shop = set_up(&system).await;
    for subgraph in SUBGRAPHS {
        system.run_as_process_with(subgraph, environment).await;
    }
    let upkeep = Upkeep::start(&system, &SUBGRAPHS).await?;
    Ok(Restaurant {
        upkeep,
        system,
        shop,
        broker,
    })
}

/// Moves what the calls took since the last time from the log into
/// `latencies`; returns how many calls that was.
fn gather(log: &Log, latencies: &mut BTreeMap<&'static str, Samples>) -> usize {
    let mut calls = 0;
    for (operation, took) in log.take_latencies() {
        calls += took.len();
        let samples = latencies.entry(operation).or_default();
        for t in took {
            samples.push(t);
        }
    }
    calls
}

/// Reads `query` every `pause_ms` until `stop`, as a screen refreshing.
fn spawn_reader(
    client: &Client,
    stop: &Arc<AtomicBool>,
    log: &Arc<Log>,
    operation: &'static str,
    query: &'static str,
    variables: Value,
    pause_ms: u64,
) -> tokio::task::JoinHandle<()> {
    let (client, stop, log) = (client.clone(), stop.clone(), log.clone());
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            // A screen only shows what it read; a failure is in the log.
            let _ = log.call(operation, &client, query, variables.clone()).await;
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    })
}

/// Asks for advice every 10 s and waits for it over `consultingResult`
/// through the router: the time from the request to the advice.
async fn consult(
    client: Client,
    ws_url: String,
    range: Value,
    stop: Arc<AtomicBool>,
    log: Arc<Log>,
) {
    let token = client.token().expect("a signed-in client").to_string();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let Ok(requested) = log
            .call("requestConsulting", &client, CONSULT, range.clone())
            .await
        else {
            continue;
        };
        let id = requested.body["data"]["requestConsulting"]["id"]
            .as_str()
            .expect("a request id")
            .to_string();
        let query = format!(
            "subscription {{ consultingResult(requestId: \"{id}\") {{ status content }} }}"
        );
        let mut subscription = WsSubscription::start(&ws_url, &token, &query).await;
        let mut outcome = Some("NO_RESULT".to_string());
        while let Some(message) = subscription.next_message(Duration::from_secs(60)).await {
            match message["type"].as_str() {
                Some("next") if message["payload"]["errors"].is_null() => {
                    if message["payload"]["data"]["consultingResult"]["status"] == "COMPLETED" {
                        outcome = None;
                    }
                }
                Some("complete") => break,
                _ => {
                    outcome = Some(format!("SUBSCRIPTION {message}"));
                    break;
                }
            }
        }
        log.record("consulting (request to advice)", started.elapsed(), outcome);
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// Resident memory of each process, read from `/proc`.
struct Memory {
    processes: Vec<(&'static str, u32)>,
    /// MiB per process, one row per reading.
    readings: Vec<Vec<f64>>,
    first_minute: Option<usize>,
    started: Instant,
}

impl Memory {
    fn new(processes: &[(&'static str, u32)]) -> Self {
        Memory {
            processes: processes.to_vec(),
            readings: Vec::new(),
            first_minute: None,
            started: Instant::now(),
        }
    }

    fn sample(&mut self) -> anyhow::Result<()> {
        let row = self
            .processes
            .iter()
            .map(|(name, pid)| resident_mib(*pid).with_context(|| format!("the memory of {name}")))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        self.readings.push(row);
        if self.first_minute.is_none() && self.started.elapsed() >= Duration::from_secs(65) {
            self.first_minute = Some(self.readings.len() - 1);
        }
        Ok(())
    }

    fn total_now(&self) -> f64 {
        self.readings.last().map(|r| r.iter().sum()).unwrap_or(0.0)
    }

    /// Growth of each process from the first minute's reading to the last.
    fn growth(&self) -> Vec<(&'static str, f64)> {
        let (Some(minute), Some(last)) = (self.first_minute, self.readings.last()) else {
            return Vec::new();
        };
        self.processes
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (*name, last[i] - self.readings[minute][i]))
            .collect()
    }

    fn table(&self) -> String {
        let mut table = String::from(
            "| process | idle | after 1 min | end | peak | growth after 1 min |\n|---|---|---|---|---|---|\n",
        );
        let growth: BTreeMap<&str, f64> = self.growth().into_iter().collect();
        for (i, (name, _)) in self.processes.iter().enumerate() {
            let at = |row: Option<&Vec<f64>>| {
                row.map(|r| format!("{:.1}", r[i]))
                    .unwrap_or_else(|| "–".to_string())
            };
            let peak = self.readings.iter().map(|r| r[i]).fold(0.0, f64::max);
            table.push_str(&format!(
                "| {name} | {} | {} | {} | {peak:.1} | {} |\n",
                at(self.readings.first()),
                at(self.first_minute.map(|m| &self.readings[m])),
                at(self.readings.last()),
                growth
                    .get(name)
                    .map(|g| format!("{g:+.1}"))
                    .unwrap_or_else(|| "–".to_string()),
            ));
        }
        table
    }
}
