//! `tableChanged` from the mutation's reply to 1,000 subscribers, through
//! the router, with every subgraph its own process on PostgreSQL and the
//! broker. Every subscriber follows the store's tables over
//! graphql-transport-ws; a terminal changes a table every 500 ms. For each
//! change, the time from `placeOrder`'s reply to each subscriber's message,
//! and what each process spent on a change beyond what it spends idle.

use std::time::{Duration, Instant};

use futures::future::join_all;
use salesync_tests::{Shop, TestSystem, WsSubscription};
use serde_json::json;
use tokio::{sync::mpsc, task::JoinSet};

use crate::{
    Options,
    procfs::{CpuSpans, SystemCpu},
    report::{Samples, Section, machine},
    soak::{Restaurant, restaurant_of_processes},
};

const SUBSCRIBERS: usize = 1_000;
const CHANGES: usize = 20;
/// How far apart the changes are.
const PACE: Duration = Duration::from_millis(500);
/// The CPU spans `deliveries` fills: nothing changing, then the changes.
const IDLE: usize = 0;
const CHANGING: usize = 1;
pub(crate) const TABLES: &str = "subscription { tableChanged { id version } }";
const PLACE: &str = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 1 }]) { id version } }";

/// One message a subscriber received: which change, and when.
pub(crate) struct Heard {
    order: String,
    version: i64,
    at: Instant,
}

/// A change a terminal made: its order and version, and when its reply came.
pub(crate) type Sent = (String, i64, Instant);

/// Sends what `subscription` hears of `tableChanged` to `heard`, until the
/// stream ends, is quiet for 30 s or `listeners` is dropped: whoever
/// measures drops it before the system stops, so no listener is left to
/// see its router go away.
pub(crate) fn listen(
    listeners: &mut JoinSet<()>,
    mut subscription: WsSubscription,
    heard: mpsc::UnboundedSender<Heard>,
) {
    listeners.spawn(async move {
        while let Some(message) = subscription.next_message(Duration::from_secs(30)).await {
            if message["type"] != "next" || !message["payload"]["errors"].is_null() {
                // Whoever counts what was heard reports the changes missed;
                // this says why.
                eprintln!("  a subscription ended: {message}");
                return;
            }
            let change = &message["payload"]["data"]["tableChanged"];
            let message = Heard {
                order: change["id"].as_str().unwrap_or_default().to_string(),
                version: change["version"].as_i64().unwrap_or_default(),
                at: Instant::now(),
            };
            if heard.send(message).is_err() {
                return;
            }
        }
    });
}

/// What arrives on `heard` within `wait`.
pub(crate) async fn heard_within(
    heard: &mut mpsc::UnboundedReceiver<Heard>,
    wait: Duration,
) -> Vec<Heard> {
    let mut messages = Vec::new();
    let until = Instant::now() + wait;
    while let Ok(Some(message)) = tokio::time::timeout_at(until.into(), heard.recv()).await {
        messages.push(message);
    }
    messages
}

/// From each change's reply to each of `followers` hearing it.
pub(crate) fn delays(sent: &[Sent], heard: &[Heard], followers: usize) -> Deliveries {
    let mut all = Samples::default();
    let mut last = Samples::default();
    let mut missing = 0;
    for (order, version, replied) in sent {
        let times: Vec<Duration> = heard
            .iter()
            .filter(|h| h.order == *order && h.version == *version)
            .map(|h| h.at.saturating_duration_since(*replied))
            .collect();
        missing += followers.saturating_sub(times.len());
        if let Some(slowest) = times.iter().max() {
            last.push(*slowest);
        }
        for time in times {
            all.push(time);
        }
    }
    Deliveries {
        all,
        last,
        followed: followers,
        missing,
    }
}

pub async fn run(_options: &Options) -> anyhow::Result<Section> {
    let restaurant = restaurant_of_processes(12, &[]).await?;
    let Restaurant {
        system,
        shop,
        broker,
        ..
    } = &restaurant;
    // The subscribers share the 2 cores: what they cost is counted too.
    let mut processes = system.process_ids();
    processes.push(("load generator", std::process::id()));
    let mut cpu = CpuSpans::new(SystemCpu::new(&processes, broker)?)?;
    let Deliveries {
        all,
        last,
        followed: ready,
        missing,
    } = deliveries(system, shop, SUBSCRIBERS, CHANGES, Some(&mut cpu)).await?;
    let beyond = cpu.beyond(CHANGING, IDLE);
    let by_process = cpu.table(&[
        (format!("idle, per {} ms", PACE.as_millis()), CHANGES),
        ("changing, per change".to_string(), CHANGES),
        ("a change beyond idle".to_string(), CHANGES),
    ]);
    eprintln!(
        "CPU for a change beyond idle: {:.1} ms",
        crate::procfs::ms_per_call(cpu.total(beyond), CHANGES)
    );
    let mut problems = Vec::new();
    if ready < SUBSCRIBERS {
        problems.push(format!("{ready} of {SUBSCRIBERS} subscribers followed"));
    }
    if missing > 0 {
        problems.push(format!("{missing} deliveries missing"));
    }
    eprintln!(
        "p50 {} ms, p99 {} ms; last subscriber p99 {} ms; missing {missing}",
        all.ms_at(50.0),
        all.ms_at(99.0),
        last.ms_at(99.0)
    );
    let markdown = format!(
        "## Fan-out: tableChanged to {SUBSCRIBERS} subscribers\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench fanout` (release builds; PostgreSQL on 127.0.0.1; a tansu \
           broker; each subgraph its own process behind the router; the subscribers in the \
           load generator on the same 2 cores)\n\
         - Run: {date}\n\
         - Load: {SUBSCRIBERS} graphql-transport-ws clients subscribed to `tableChanged` through \
           the router with the owner's token ({ready} followed); {CHANGES} `placeOrder` calls, \
           one every 500 ms. Time from the mutation's reply to each subscriber's message.\n\n\
         | deliveries | missing | p50 ms | p99 ms | slowest subscriber per change, p50 ms | p99 ms |\n\
         |---|---|---|---|---|---|\n\
         | {delivered} | {missing} | {p50} | {p99} | {last50} | {last99} |\n\n\
         Goal: p99 under 100 ms from the reply to the last subscriber.\n\n\
         CPU ms by process: first {idle_s} s with every subscriber following and nothing \
         changing, then the {CHANGES} changes over as long; what a change cost is the \
         difference (the load generator is the subscribers' side; PostgreSQL is all its \
         processes):\n\n\
         {by_process}",
        idle_s = CHANGES as f64 * PACE.as_secs_f64(),
        machine = machine(),
        date = chrono::Utc::now().date_naive(),
        delivered = all.len(),
        p50 = all.ms_at(50.0),
        p99 = all.ms_at(99.0),
        last50 = last.ms_at(50.0),
        last99 = last.ms_at(99.0),
    );
    Ok(Section {
        name: "fanout",
        markdown,
        problems,
    })
}

/// What subscribers heard of a run of changes.
pub(crate) struct Deliveries {
    /// From each change's reply to each subscriber's message.
    pub all: Samples,
    /// From each change's reply to the last subscriber's message.
    pub last: Samples,
    /// Subscribers that heard the first change (the others are not counted).
    pub followed: usize,
    /// Messages a following subscriber never received.
    pub missing: usize,
}

/// Connects `subscribers` to `tableChanged` through the router as `shop`'s
/// owner, makes sure they follow, then changes a table every 500 ms,
/// `changes` times, and times each delivery from the mutation's reply.
/// With `cpu`, span [`IDLE`] is as long as the changes take with nothing
/// happening first, and span [`CHANGING`] the changes.
pub(crate) async fn deliveries(
    system: &TestSystem,
    shop: &Shop,
    subscribers: usize,
    changes: usize,
    mut cpu: Option<&mut CpuSpans>,
) -> anyhow::Result<Deliveries> {
    let url = system.router_ws_url();

    eprintln!("connecting {subscribers} subscribers through the router...");
    let (heard_tx, mut heard_rx) = mpsc::unbounded_channel::<Heard>();
    let mut listeners = JoinSet::new();
    let mut connected = 0;
    for batch in (0..subscribers).collect::<Vec<_>>().chunks(50) {
        let subscriptions = join_all(
            batch
                .iter()
                .map(|_| WsSubscription::start(&url, &shop.token, TABLES)),
        )
        .await;
        for subscription in subscriptions {
            connected += 1;
            listen(&mut listeners, subscription, heard_tx.clone());
        }
    }
    drop(heard_tx);

    // A first change every subscriber must hear: all are following.
    let place = |table: i64| {
        let (client, item) = (shop.client.clone(), shop.items[0].clone());
        async move {
            let reply = client
                .query(PLACE, json!({ "t": table, "i": item }))
                .await
                .data_or_panic()["placeOrder"]
                .clone();
            let order = reply["id"].as_str().expect("an id").to_string();
            let version = reply["version"].as_i64().expect("a version");
            (order, version, Instant::now())
        }
    };
    let (order, version, _) = place(1).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ready: usize = 0;
    while ready < connected && Instant::now() < deadline {
        if let Ok(Some(heard)) = tokio::time::timeout(Duration::from_secs(1), heard_rx.recv()).await
            && heard.order == order
            && heard.version == version
        {
            ready += 1;
        }
    }
    eprintln!(
        "{ready} of {connected} subscribers heard the first change; measuring {changes} changes..."
    );

    let changing = PACE * changes as u32;
    if let Some(cpu) = cpu.as_deref_mut() {
        cpu.restart()?;
        tokio::time::sleep(changing).await;
        cpu.add_to(IDLE)?;
    }
    let mut sent = Vec::new();
    for n in 0..changes {
        sent.push(place((n % 11) as i64 + 2).await);
        tokio::time::sleep(PACE).await;
    }
    if let Some(cpu) = cpu {
        cpu.add_to(CHANGING)?;
    }
    let heard = heard_within(&mut heard_rx, Duration::from_secs(5)).await;
    Ok(delays(&sent, &heard, ready))
}
