//! A restaurant's service as load: terminals that each serve their own
//! tables, opening orders, adding to them, changing them and paying them,
//! retrying a checkout with its key as a terminal must. The fault harness
//! and the soak benchmark both run it; the [`Log`] keeps what every call
//! took, what failed, and every receipt a guest was given.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Client, GraphqlResponse, today};

const PLACE: &str =
    "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { id } }";
const OPEN: &str = "query($t: Int!) { openOrder(tableNo: $t) { id total version lines { item { id } quantity } } }";
const CHANGE: &str = "mutation($t: Int!, $l: [OrderLineInput!]!, $v: Int) { setOrderLines(tableNo: $t, lines: $l, expectedVersion: $v) { id } }";
const CHECKOUT: &str =
    "mutation($input: CheckoutInput!) { checkout(input: $input) { id amount order { id } } }";

/// A sale a terminal was given: what the guest's receipt says.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub sale: String,
    pub order: String,
    pub amount: i64,
    pub at: Instant,
}

/// What the calls took and what they met, shared by every terminal.
#[derive(Default)]
pub struct Log(Mutex<Entries>);

#[derive(Default)]
struct Entries {
    took: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<(&'static str, String), u32>,
    receipts: Vec<Receipt>,
}

impl Log {
    /// Records one call of `operation`; `failure` is its error code.
    pub fn record(&self, operation: &'static str, took: Duration, failure: Option<String>) {
        let mut entries = self.0.lock().expect("the log");
        match failure {
            None => entries.took.entry(operation).or_default().push(took),
            Some(code) => *entries.errors.entry((operation, code)).or_default() += 1,
        }
    }

    /// Sends one call and records it: the response, or the code it failed
    /// with.
    pub async fn call(
        &self,
        operation: &'static str,
        client: &Client,
        query: &str,
        variables: Value,
    ) -> Result<GraphqlResponse, String> {
        let started = Instant::now();
        let response = client.try_query(query, variables).await;
        let failure = failure(&response);
        self.record(operation, started.elapsed(), failure.clone());
        match failure {
            None => Ok(response.expect("a call without a failure answered")),
            Some(code) => Err(code),
        }
    }

    fn receipt(&self, receipt: Receipt) {
        self.0.lock().expect("the log").receipts.push(receipt);
    }

    pub fn receipts(&self) -> Vec<Receipt> {
        self.0.lock().expect("the log").receipts.clone()
    }

    /// Failed calls by operation and code.
    pub fn errors(&self) -> BTreeMap<(&'static str, String), u32> {
        self.0.lock().expect("the log").errors.clone()
    }

    /// What each operation's successful calls took, and clears them: the
    /// soak reads one interval at a time.
    pub fn take_latencies(&self) -> BTreeMap<&'static str, Vec<Duration>> {
        std::mem::take(&mut self.0.lock().expect("the log").took)
    }
}

/// The error code of a call: the GraphQL code, the HTTP status, or the
/// transport's failure; None when it succeeded.
pub fn failure(response: &reqwest::Result<GraphqlResponse>) -> Option<String> {
    match response {
        Err(error) if error.is_timeout() => Some("TIMEOUT".into()),
        Err(error) if error.is_decode() => Some("NOT_GRAPHQL".into()),
        Err(_) => Some("CONNECTION".into()),
        Ok(response) if response.errors().is_empty() && response.status < 300 => None,
        Ok(response) => Some(
            response
                .error_code()
                .unwrap_or_else(|| format!("HTTP {}", response.status)),
        ),
    }
}

/// One terminal and the tables it serves.
pub struct Terminal {
    client: Client,
    items: Vec<String>,
    tables: Vec<i64>,
    rng: StdRng,
    /// How long one checkout keeps retrying with its key before the
    /// terminal leaves it to the sale subgraph's recovery.
    pub checkout_patience: Duration,
}

impl Terminal {
    /// A terminal of the store `client` signs in to, ordering from `items`
    /// at `tables`; `seed` makes its choices repeatable.
    pub fn new(client: Client, items: Vec<String>, tables: Vec<i64>, seed: u64) -> Self {
        Terminal {
            client,
            items,
            tables,
            rng: StdRng::seed_from_u64(seed),
            checkout_patience: Duration::from_secs(45),
        }
    }

    /// Serves its tables in turn until `stop`, finishing the round it is in.
    pub async fn serve(mut self, stop: &AtomicBool, log: &Log) {
        while !stop.load(Ordering::Relaxed) {
            for table in self.tables.clone() {
                self.serve_table(table, log).await;
            }
        }
    }

    /// Orders once or twice, sometimes changes the order, then pays it.
    async fn serve_table(&mut self, table: i64, log: &Log) {
        for _ in 0..self.rng.gen_range(1..=2) {
            let lines = self.some_lines();
            // A failure is in the log; the order is read afresh below.
            let _ = log
                .call(
                    "placeOrder",
                    &self.client,
                    PLACE,
                    json!({ "t": table, "l": lines }),
                )
                .await;
        }
        let Some(mut order) = self.open_order(table, log).await else {
            return;
        };
        if self.rng.gen_bool(0.3) {
            // The guest changes their mind: one more of the first line.
            let mut lines: Vec<Value> = order["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| json!({ "itemId": l["item"]["id"], "quantity": l["quantity"] }))
                .collect();
            if let Some(first) = lines.first_mut() {
                first["quantity"] = json!(first["quantity"].as_i64().unwrap_or(1) + 1);
            }
            let variables = json!({ "t": table, "l": lines, "v": order["version"] });
            // As above: logged, and the order is read again.
            let _ = log
                .call("setOrderLines", &self.client, CHANGE, variables)
                .await;
            match self.open_order(table, log).await {
                Some(changed) => order = changed,
                None => return,
            }
        }
        self.pay(table, &order, log).await;
    }

    fn some_lines(&mut self) -> Vec<Value> {
        (0..self.rng.gen_range(1..=3))
            .map(|_| {
                json!({
                    "itemId": self.items[self.rng.gen_range(0..self.items.len())],
                    "quantity": self.rng.gen_range(1..=4),
                })
            })
            .collect()
    }

    /// The table's open order, if it has one and could be read.
    async fn open_order(&self, table: i64, log: &Log) -> Option<Value> {
        let response = log
            .call("openOrder", &self.client, OPEN, json!({ "t": table }))
            .await
            .ok()?;
        let order = response.body["data"]["openOrder"].clone();
        (!order.is_null()).then_some(order)
    }

    /// Pays `order` by card, retrying with the same key until it is paid,
    /// refused for good, or the terminal's patience runs out.
    async fn pay(&self, table: i64, order: &Value, log: &Log) {
        let input = json!({
            "tableNo": table,
            "idempotencyKey": Uuid::new_v4().to_string(),
            "payments": [{ "method": "CARD", "amount": order["total"] }],
        });
        let started = Instant::now();
        while started.elapsed() < self.checkout_patience {
            let paid = log
                .call(
                    "checkout",
                    &self.client,
                    CHECKOUT,
                    json!({ "input": input }),
                )
                .await;
            match paid {
                Ok(response) => {
                    let sale = &response.body["data"]["checkout"];
                    assert_eq!(
                        sale["order"]["id"], order["id"],
                        "the sale paid the order read"
                    );
                    log.receipt(Receipt {
                        sale: sale["id"].as_str().expect("a sale id").to_string(),
                        order: sale["order"]["id"]
                            .as_str()
                            .expect("an order id")
                            .to_string(),
                        amount: sale["amount"].as_i64().expect("an amount"),
                        at: Instant::now(),
                    });
                    return;
                }
                // The order changed or closed: the next round reads it again.
                Err(code)
                    if matches!(code.as_str(), "NOT_FOUND" | "CONFLICT" | "BAD_USER_INPUT") =>
                {
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// What the owner reads once the system recovered.
pub struct Books {
    /// Completed sales: id → (order id, amount).
    pub sales: HashMap<String, (String, i64)>,
    /// Orders a sale was made for, counting repeats.
    pub sale_orders: Vec<String>,
    /// Quantity sold per item, from the sales' lines.
    pub sold: BTreeMap<String, i64>,
    /// Paid orders: id → total.
    pub paid: HashMap<String, i64>,
    /// The dashboard's figures.
    pub report_volume: i64,
    pub report_sold: BTreeMap<String, i64>,
    pub daily_volume: i64,
    pub daily_orders: i64,
}

pub async fn read_books(client: &Client) -> Books {
    let from = (today() - chrono::Days::new(1)).to_string();
    let to = (today() + chrono::Days::new(1)).to_string();
    let range = json!({ "from": from, "to": to });
    let data = client
        .query(
            "query($from: Date!, $to: Date!) {
               sales(from: $from, to: $to) { id amount status order { id } lines { item { id } quantity } }
               orders(from: $from, to: $to, status: PAID) { id total }
               salesReport(from: $from, to: $to) { salesVolume items { item { id } quantity } }
               dailyVolumes(from: $from, to: $to) { salesVolume orderCount }
             }",
            range,
        )
        .await;
    let data = data.data_or_panic();
    let list = |name: &str| data[name].as_array().cloned().unwrap_or_default();
    let mut books = Books {
        sales: HashMap::new(),
        sale_orders: Vec::new(),
        sold: BTreeMap::new(),
        paid: HashMap::new(),
        report_volume: data["salesReport"]["salesVolume"]
            .as_i64()
            .expect("a volume"),
        report_sold: BTreeMap::new(),
        daily_volume: 0,
        daily_orders: 0,
    };
    for sale in list("sales") {
        assert_eq!(sale["status"], "COMPLETED", "nothing was refunded: {sale}");
        let order = sale["order"]["id"].as_str().expect("an order").to_string();
        books.sale_orders.push(order.clone());
        let amount = sale["amount"].as_i64().expect("an amount");
        books.sales.insert(
            sale["id"].as_str().expect("an id").to_string(),
            (order, amount),
        );
        for line in sale["lines"].as_array().expect("lines") {
            let item = line["item"]["id"].as_str().expect("an item").to_string();
            *books.sold.entry(item).or_default() += line["quantity"].as_i64().expect("a quantity");
        }
    }
    for order in list("orders") {
        books.paid.insert(
            order["id"].as_str().expect("an id").to_string(),
            order["total"].as_i64().expect("a total"),
        );
    }
    for line in data["salesReport"]["items"].as_array().expect("items") {
        books.report_sold.insert(
            line["item"]["id"].as_str().expect("an item").to_string(),
            line["quantity"].as_i64().expect("a quantity"),
        );
    }
    for day in list("dailyVolumes") {
        books.daily_volume += day["salesVolume"].as_i64().expect("a volume");
        books.daily_orders += day["orderCount"].as_i64().expect("a count");
    }
    books
}

impl Books {
    /// What does not add up; empty when the books balance.
    pub fn discrepancies(&self, receipts: &[Receipt]) -> Vec<String> {
        let mut found = Vec::new();
        let sales_total: i64 = self.sales.values().map(|(_, amount)| amount).sum();
        let paid_total: i64 = self.paid.values().sum();
        let distinct: HashSet<&String> = self.sale_orders.iter().collect();
        if distinct.len() != self.sale_orders.len() {
            found.push(format!(
                "{} sales for {} orders: an order was sold twice",
                self.sale_orders.len(),
                distinct.len()
            ));
        }
        let paid_ids: HashSet<&String> = self.paid.keys().collect();
        if distinct != paid_ids {
            found.push(format!(
                "orders with a sale: {}, paid orders: {}, in one only: {:?}",
                distinct.len(),
                paid_ids.len(),
                distinct.symmetric_difference(&paid_ids).collect::<Vec<_>>()
            ));
        }
        for (sale, (order, amount)) in &self.sales {
            if self.paid.get(order).is_some_and(|total| total != amount) {
                found.push(format!(
                    "sale {sale} is {amount}, its order {order} {:?}",
                    self.paid.get(order)
                ));
            }
        }
        if sales_total != paid_total {
            found.push(format!(
                "Σ sales {sales_total} ≠ Σ paid orders {paid_total}"
            ));
        }
        if self.report_volume != sales_total {
            found.push(format!(
                "salesReport {} ≠ Σ sales {sales_total}",
                self.report_volume
            ));
        }
        if self.daily_volume != sales_total {
            found.push(format!(
                "dailyVolumes {} ≠ Σ sales {sales_total}",
                self.daily_volume
            ));
        }
        if self.daily_orders != self.sales.len() as i64 {
            found.push(format!(
                "dailyVolumes counted {} orders for {} sales",
                self.daily_orders,
                self.sales.len()
            ));
        }
        if self.report_sold != self.sold {
            found.push(format!(
                "the dashboard's quantities {:?} ≠ the sales' {:?}",
                self.report_sold, self.sold
            ));
        }
        for receipt in receipts {
            match self.sales.get(&receipt.sale) {
                Some((order, amount)) if *order == receipt.order && *amount == receipt.amount => {}
                other => found.push(format!("receipt {receipt:?} has no such sale: {other:?}")),
            }
        }
        found
    }
}

/// Reads the books until they balance, for at most `within` (recovery:
/// pending checkouts finished, outboxes drained, the dashboard caught up).
/// Returns them, or what still did not add up.
pub async fn balanced_books(
    client: &Client,
    receipts: &[Receipt],
    within: Duration,
) -> Result<Books, Vec<String>> {
    let deadline = Instant::now() + within;
    loop {
        let books = read_books(client).await;
        let discrepancies = books.discrepancies(receipts);
        if discrepancies.is_empty() {
            return Ok(books);
        }
        if Instant::now() >= deadline {
            return Err(discrepancies);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
