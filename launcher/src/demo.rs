//! `salesync demo`: a store with something to show. A Korean restaurant
//! with a menu priced in won (and what each dish costs), then `days` of
//! business ending today: orders at its tables, paid by card or cash, a few
//! refunded. The dashboard and the consultant have real numbers to read.
//!
//! History cannot be written through the API (a sale is dated when it is
//! paid), so the demo starts the subgraphs itself, on the configured
//! databases and bus, with a clock it moves through each day, and rings
//! everything up through their GraphQL APIs: the same rules as any
//! terminal. Run it while the system is stopped; `salesync run` then shows
//! the store.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use salesync_common::{clock::Clock, config::Layers, shutdown};
use serde_json::{Value, json};

use crate::subgraphs;

/// What to create.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub username: String,
    pub password: String,
    /// Business days of history, the last one today.
    pub days: u32,
    /// Orders on an average day (weekends busier).
    pub orders_per_day: u32,
    /// Shows a progress bar on the terminal.
    pub progress: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            username: "demo".into(),
            password: "salesync-demo".into(),
            days: 14,
            orders_per_day: 40,
            progress: true,
        }
    }
}

/// What the demo created, as the dashboard reports it.
#[derive(Debug)]
pub struct DemoStore {
    pub store_id: String,
    pub items: usize,
    pub orders: u32,
    pub refunds: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Sales volume (sales less refunds) per business day, in won.
    pub daily_volume: BTreeMap<NaiveDate, i64>,
}

const TIMEZONE: Tz = chrono_tz::Asia::Seoul;
const TABLES: i64 = 12;

/// A dish: name, price and cost, in won.
type Dish = (&'static str, i64, i64);

/// The menu by category.
const MENU: &[(&str, &[Dish])] = &[
    (
        "식사",
        &[
            ("김치찌개", 9_000, 3_200),
            ("된장찌개", 8_500, 2_900),
            ("비빔밥", 10_000, 3_500),
            ("제육볶음", 11_000, 4_200),
            ("불고기 정식", 14_000, 5_800),
        ],
    ),
    (
        "면",
        &[
            ("물냉면", 10_000, 3_300),
            ("비빔냉면", 10_000, 3_400),
            ("칼국수", 8_000, 2_500),
        ],
    ),
    (
        "분식",
        &[
            ("떡볶이", 6_000, 1_800),
            ("김밥", 4_500, 1_500),
            ("해물파전", 15_000, 5_500),
        ],
    ),
    (
        "음료·주류",
        &[
            ("콜라", 2_000, 700),
            ("사이다", 2_000, 700),
            ("소주", 5_000, 1_600),
            ("맥주", 5_000, 1_900),
        ],
    ),
];

/// Creates the demo store on the databases and bus that `layers` name.
pub async fn create(layers: &Layers, options: &DemoOptions) -> anyhow::Result<DemoStore> {
    anyhow::ensure!(options.days >= 1, "--days must be at least 1");
    anyhow::ensure!(options.orders_per_day >= 1, "--orders must be at least 1");
    let clock = Clock::manual(Utc::now());
    let system = InProcess::start(layers, &clock).await?;
    let result = ring_up(&system, &clock, options).await;
    system.stop().await;
    result
}

/// Every subgraph in this process on a free port, each told where the
/// others are, all reading `clock`.
struct InProcess {
    urls: BTreeMap<&'static str, String>,
    trigger: shutdown::Trigger,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl InProcess {
    async fn start(layers: &Layers, clock: &Clock) -> anyhow::Result<Self> {
        let mut layers = layers.clone();
        let (trigger, stop) = shutdown::channel();
        let mut urls = BTreeMap::new();
        let mut tasks = Vec::new();
        for subgraph in subgraphs() {
            let app = (subgraph.build)(&layers, &|settings| {
                settings.port = 0;
                settings.clock = clock.clone();
            })
            .await
            .with_context(|| format!("the {} subgraph did not start", subgraph.name))?;
            let url = subgraph.url(app.port());
            layers = layers.with(&format!("upstream.{}_url", subgraph.name), url.clone())?;
            if subgraph.name == "store" {
                let jwks = url.replace("/graphql", "/.well-known/jwks.json");
                layers = layers.with("auth.jwks_url", jwks)?;
            }
            urls.insert(subgraph.name, url);
            let mut stop = stop.clone();
            tasks.push(tokio::spawn(
                app.run_until_stopped(async move { stop.wait().await }),
            ));
        }
        Ok(InProcess {
            urls,
            trigger,
            tasks,
            http: reqwest::Client::new(),
        })
    }

    async fn stop(self) {
        self.trigger.stop();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    /// One operation sent straight to the subgraph that owns it.
    async fn call(
        &self,
        subgraph: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.urls[subgraph])
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request
            .send()
            .await
            .with_context(|| format!("the {subgraph} subgraph did not answer"))?
            .json()
            .await?;
        if let Some(error) = body["errors"].get(0) {
            bail!(
                "{} ({})",
                error["message"].as_str().unwrap_or("error"),
                error["extensions"]["code"].as_str().unwrap_or("?")
            );
        }
        Ok(body["data"].clone())
    }
}

/// Local `hour:minute` on `day` in Seoul, as an instant.
fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, minute, 0).expect("a valid time");
    TIMEZONE
        .from_local_datetime(&local)
        .single()
        .expect("Seoul has no DST gaps")
        .with_timezone(&Utc)
}

async fn ring_up(
    system: &InProcess,
    clock: &Clock,
    options: &DemoOptions,
) -> anyhow::Result<DemoStore> {
    let signed_up = system
        .call(
            "store",
            None,
            "mutation($i: SignUpInput!) { signUp(input: $i) { token store { id } } }",
            json!({ "i": {
                "username": options.username, "password": options.password,
                "ownerName": "김민지", "phone": "010-1234-5678",
                "name": "민지네 한식당", "address": "서울특별시 마포구 월드컵로 12",
                "storeType": "RESTAURANT", "tableCount": TABLES,
                "timezone": TIMEZONE.name(), "currency": "KRW",
            }}),
        )
        .await
        .map_err(|e| {
            if e.to_string().contains("CONFLICT") || e.to_string().contains("taken") {
                anyhow::anyhow!(
                    "the username {:?} is taken on this database: choose another with --username",
                    options.username
                )
            } else {
                e.context("signing up the demo store")
            }
        })?;
    let token = signed_up["signUp"]["token"]
        .as_str()
        .context("no token")?
        .to_string();
    let store_id = signed_up["signUp"]["store"]["id"]
        .as_str()
        .context("no store id")?
        .to_string();
    let token = Some(token.as_str());

    // The menu, and what each dish costs.
    let mut menu = Vec::new();
    let mut costs = Vec::new();
    for (category, items) in MENU {
        let created = system
            .call(
                "item",
                token,
                "mutation($n: String!) { createCategory(name: $n) { id } }",
                json!({ "n": category }),
            )
            .await?;
        let category_id = created["createCategory"]["id"].clone();
        for (name, price, cost) in *items {
            let item = system
                .call(
                    "item",
                    token,
                    "mutation($i: CreateItemInput!) { createItem(input: $i) { id } }",
                    json!({ "i": { "categoryId": category_id, "name": name, "price": price } }),
                )
                .await?;
            let id = item["createItem"]["id"]
                .as_str()
                .context("no item id")?
                .to_string();
            costs.push(json!({ "itemId": id, "cost": cost }));
            menu.push((id, *price));
        }
    }
    system
        .call(
            "dashboard",
            token,
            "mutation($c: [ItemCostInput!]!) { setItemCosts(costs: $c) { id } }",
            json!({ "c": costs }),
        )
        .await?;

    // The days, oldest first; weekends are busier. Seeded: the same options
    // give the same store.
    let mut rng = StdRng::seed_from_u64(20_261_125);
    let today = Utc::now().with_timezone(&TIMEZONE).date_naive();
    let first_day = today
        .checked_sub_days(Days::new(u64::from(options.days - 1)))
        .context("too many days")?;
    let plan: Vec<(NaiveDate, u32)> = (0..options.days)
        .map(|offset| {
            let day = first_day + Days::new(u64::from(offset));
            let weekend = matches!(
                chrono::Datelike::weekday(&day),
                chrono::Weekday::Fri | chrono::Weekday::Sat
            );
            let base = if weekend {
                options.orders_per_day * 3 / 2
            } else {
                options.orders_per_day
            };
            let spread = (base / 5).max(1);
            (
                day,
                rng.gen_range(base - spread.min(base - 1)..=base + spread),
            )
        })
        .collect();
    let total: u32 = plan.iter().map(|(_, n)| n).sum();
    let mut progress = Progress::new(options.progress, total);

    let mut expected: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut refunds = 0;
    for (day, orders) in &plan {
        // Lunch and dinner, 11:00 to 21:30, in order; never after now.
        let mut minutes: Vec<u32> = (0..*orders).map(|_| rng.gen_range(0..630)).collect();
        minutes.sort_unstable();
        for (n, minute) in minutes.into_iter().enumerate() {
            let when = at(*day, 11 + minute / 60, minute % 60).min(Utc::now());
            clock.set(when);
            let table = (n as i64 % TABLES) + 1;
            let dishes = rng.gen_range(1..=4);
            let lines: Vec<Value> = menu
                .choose_multiple(&mut rng, dishes)
                .map(|(id, _)| json!({ "itemId": id, "quantity": rng.gen_range(1..=3) }))
                .collect();
            let placed = system
                .call(
                    "order",
                    token,
                    "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { total } }",
                    json!({ "t": table, "l": lines }),
                )
                .await?;
            let amount = placed["placeOrder"]["total"].as_i64().context("no total")?;
            let method = if rng.gen_bool(0.7) { "CARD" } else { "CASH" };
            // Paid 20 to 60 minutes later.
            let paid_at = when + chrono::Duration::minutes(rng.gen_range(20..60));
            clock.set(paid_at.min(Utc::now()));
            let paid = system
                .call(
                    "sale",
                    token,
                    "mutation($i: CheckoutInput!) { checkout(input: $i) { id businessDate lines { item { id } quantity unitPrice } } }",
                    json!({ "i": {
                        "tableNo": table,
                        "idempotencyKey": format!("demo-{day}-{n}"),
                        "payments": [{ "method": method, "amount": amount }],
                    }}),
                )
                .await?;
            let sale = &paid["checkout"];
            let business_date: NaiveDate = sale["businessDate"]
                .as_str()
                .context("no business date")?
                .parse()?;
            *expected.entry(business_date).or_default() += amount;
            // One sale in twenty gives a dish back.
            if n % 20 == 7 {
                let line = &sale["lines"][0];
                system
                    .call(
                        "sale",
                        token,
                        "mutation($i: RefundInput!) { refundSale(input: $i) { id } }",
                        json!({ "i": {
                            "saleId": sale["id"],
                            "idempotencyKey": format!("demo-refund-{day}-{n}"),
                            "lines": [{ "itemId": line["item"]["id"], "quantity": 1 }],
                            "reason": "음식이 늦게 나옴",
                        }}),
                    )
                    .await?;
                *expected.entry(business_date).or_default() -=
                    line["unitPrice"].as_i64().context("no unit price")?;
                refunds += 1;
            }
            progress.tick(*day);
        }
    }
    progress.finish();
    clock.set(Utc::now());

    // The dashboard counts from events: wait until it has them all.
    let mut daily_volume = BTreeMap::new();
    for _ in 0..300 {
        let read = system
            .call(
                "dashboard",
                token,
                "query($f: Date!, $t: Date!) { dailyVolumes(from: $f, to: $t) { date salesVolume } }",
                json!({ "f": first_day.to_string(), "t": today.to_string() }),
            )
            .await?;
        daily_volume = read["dailyVolumes"]
            .as_array()
            .context("no daily volumes")?
            .iter()
            .filter_map(|d| {
                let volume = d["salesVolume"].as_i64()?;
                (volume != 0).then(|| Some((d["date"].as_str()?.parse().ok()?, volume)))?
            })
            .collect();
        if daily_volume == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(
        daily_volume == expected,
        "the dashboard did not catch up: it shows {daily_volume:?}, the sales were {expected:?}"
    );
    Ok(DemoStore {
        store_id,
        items: menu.len(),
        orders: total,
        refunds,
        first_day,
        last_day: today,
        daily_volume,
    })
}

/// A one-line progress bar on stderr (or nothing).
struct Progress {
    on: bool,
    total: u32,
    done: u32,
}

impl Progress {
    fn new(on: bool, total: u32) -> Self {
        Progress { on, total, done: 0 }
    }

    fn tick(&mut self, day: NaiveDate) {
        self.done += 1;
        let done = self.done;
        if !self.on {
            return;
        }
        let width = 30;
        let filled = (done as usize * width) / self.total.max(1) as usize;
        eprint!(
            "\r  [{}{}] {done}/{} orders  {day}",
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.total
        );
    }

    fn finish(&self) {
        if self.on {
            eprintln!();
        }
    }
}
