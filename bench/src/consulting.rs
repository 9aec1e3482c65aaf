//! Consulting's result from its event to 1,000 subscribers, through the
//! router, with every subgraph its own process on PostgreSQL and the broker.
//!
//! The advice comes from a model: a local OpenAI-compatible server
//! (`salesync_tests::model`, no model can be reached from here) that
//! streams its text and then holds the answer open until every subscriber
//! follows the request, so the end arrives while all 1,000 listen. For each
//! subscriber, the time from the result's `completedAt` (when the consulting
//! subgraph stored it with its event) to the `COMPLETED` message; the
//! clocks are one machine's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use salesync_tests::{
    WsSubscription,
    model::{Behaviour, LocalModel},
    restaurant::Log,
    today,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::{
    Options,
    report::{Samples, Section, machine, ms},
    soak::{Restaurant, restaurant_of_processes},
    writes::pay_one,
};

const SUBSCRIBERS: usize = 1_000;
const REQUESTS: usize = 3;
const REQUEST: &str =
    "mutation($f: Date!, $t: Date!) { requestConsulting(from: $f, to: $t) { id } }";

/// What one subscriber heard.
enum Heard {
    /// Its first message: it follows the request.
    Following,
    /// The result, when it arrived and when it was stored.
    Completed {
        at: DateTime<Utc>,
        completed_at: DateTime<Utc>,
    },
    /// Anything else that ended it.
    Ended(String),
}

pub async fn run(_options: &Options) -> anyhow::Result<Section> {
    let (model, url) = LocalModel::start(Behaviour::Streams {
        pieces: 5,
        gap: Duration::from_millis(50),
    })
    .await;
    let restaurant = restaurant_of_processes(
        12,
        &[
            ("OPENAI_API_KEY", "sk-local"),
            ("OPENAI_BASE_URL", &url),
            ("SALESYNC_MODEL__NAME", "local-model"),
        ],
    )
    .await?;
    let Restaurant { system, shop, .. } = &restaurant;
    // Something to advise on.
    pay_one(&shop.client, &Log::default(), 1, &shop.items[0]).await;
    let ws_url = system.router_ws_url();

    let mut all = Samples::default();
    let mut slowest = Samples::default();
    let (mut followed, mut missing, mut ended) = (0, 0, Vec::new());
    for round in 1..=REQUESTS {
        model.hold();
        let requested = shop
            .client
            .query(REQUEST, json!({ "f": today(), "t": today() }))
            .await;
        let id = requested.data_or_panic()["requestConsulting"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no request id"))?
            .to_string();
        let query = format!(
            "subscription {{ consultingResult(requestId: \"{id}\") {{ status completedAt }} }}"
        );
        eprintln!("request {round}: connecting {SUBSCRIBERS} subscribers through the router...");
        let (heard_tx, mut heard_rx) = mpsc::unbounded_channel::<Heard>();
        for batch in (0..SUBSCRIBERS).collect::<Vec<_>>().chunks(50) {
            let subscriptions = join_all(
                batch
                    .iter()
                    .map(|_| WsSubscription::start(&ws_url, &shop.token, &query)),
            )
            .await;
            for subscription in subscriptions {
                tokio::spawn(listen(subscription, heard_tx.clone()));
            }
        }
        drop(heard_tx);

        let mut following = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while following < SUBSCRIBERS {
            match tokio::time::timeout_at(deadline, heard_rx.recv()).await {
                Ok(Some(Heard::Following)) => following += 1,
                Ok(Some(Heard::Ended(why))) => ended.push(why),
                Ok(Some(Heard::Completed { .. })) => ended.push("completed early".into()),
                Ok(None) | Err(_) => break,
            }
        }
        eprintln!("  {following} follow; the model finishes the advice...");
        model.release();
        let mut times = Vec::new();
        let quiet = tokio::time::Instant::now() + Duration::from_secs(30);
        while times.len() < following {
            match tokio::time::timeout_at(quiet, heard_rx.recv()).await {
                Ok(Some(Heard::Completed { at, completed_at })) => {
                    times.push((at - completed_at).to_std().unwrap_or(Duration::ZERO))
                }
                Ok(Some(Heard::Ended(why))) => ended.push(why),
                Ok(Some(Heard::Following)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        eprintln!(
            "  {} heard the result; slowest after {} ms",
            times.len(),
            ms(times.iter().max().copied().unwrap_or_default())
        );
        followed += following;
        missing += following - times.len();
        if let Some(last) = times.iter().max() {
            slowest.push(*last);
        }
        for time in times {
            all.push(time);
        }
    }

    let mut problems = Vec::new();
    if followed < SUBSCRIBERS * REQUESTS {
        problems.push(format!(
            "{followed} of {} subscriptions followed",
            SUBSCRIBERS * REQUESTS
        ));
    }
    if missing > 0 {
        problems.push(format!("{missing} results missing"));
    }
    if !ended.is_empty() {
        problems.push(format!(
            "{} subscriptions ended otherwise: {:?}",
            ended.len(),
            &ended[..ended.len().min(3)]
        ));
    }
    let markdown = format!(
        "## Consulting: the result to {SUBSCRIBERS} subscribers\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench consulting` (release builds; PostgreSQL on 127.0.0.1; a tansu \
           broker; each subgraph its own process behind the router; the subscribers in the \
           load generator on the same 2 cores)\n\
         - Run: {date}\n\
         - Load: {REQUESTS} consulting requests, one after the other; for each, {SUBSCRIBERS} \
           graphql-transport-ws clients subscribed to `consultingResult` through the router with \
           the owner's token. The model is a local OpenAI-compatible server that streams the \
           advice and ends it once every subscriber follows. Time from the result's \
           `completedAt` to each subscriber's `COMPLETED` message.\n\n\
         | subscriptions | missing | p50 ms | p99 ms | slowest subscriber per request, p50 ms | max ms |\n\
         |---|---|---|---|---|---|\n\
         | {followed} | {missing} | {p50} | {p99} | {last50} | {last_max} |\n\n\
         Goal: p99 under 100 ms from the stored result to the last subscriber.\n",
        machine = machine(),
        date = Utc::now().date_naive(),
        p50 = ms(all.median()),
        p99 = ms(all.percentile(99.0)),
        last50 = ms(slowest.median()),
        last_max = ms(slowest.percentile(100.0)),
    );
    Ok(Section {
        name: "consulting",
        markdown,
        problems,
    })
}

/// Reports what `subscription` hears until its result or its end.
async fn listen(mut subscription: WsSubscription, heard: mpsc::UnboundedSender<Heard>) {
    let mut first = true;
    loop {
        let Some(message) = subscription.next_message(Duration::from_secs(90)).await else {
            let _ = heard.send(Heard::Ended("quiet for 90 s".into()));
            return;
        };
        let result = &message["payload"]["data"]["consultingResult"];
        if message["type"] != "next" || !message["payload"]["errors"].is_null() {
            let _ = heard.send(Heard::Ended(message.to_string()));
            return;
        }
        if first {
            first = false;
            let _ = heard.send(Heard::Following);
        }
        if result["status"] == "COMPLETED" {
            let at = Utc::now();
            let completed_at = result["completedAt"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            let _ = heard.send(match completed_at {
                Some(completed_at) => Heard::Completed { at, completed_at },
                None => Heard::Ended(format!("no completedAt: {result}")),
            });
            return;
        }
    }
}
