//! Consulting end to end, on PostgreSQL and the broker, through the real
//! router: a request answered at once, the advice written in the background
//! by the built-in analyst or by a model (a local OpenAI-compatible server
//! this test starts, `salesync_tests::model`, reached through async-openai),
//! delivered over a WebSocket subscription as progress and then the result.

use std::time::Duration;

use salesync_common::clock::Clock;
use salesync_tests::{
    Client, Options, Shop, TestBus, TestSystem, WsSubscription,
    model::{Behaviour, LocalModel, piece},
};
use serde_json::{Value, json};

const REQUEST: &str = "mutation($f: Date!, $t: Date!, $l: Language) { requestConsulting(from: $f, to: $t, language: $l) { id status model from to } }";

fn result_subscription(id: &str) -> String {
    format!(
        "subscription {{ consultingResult(requestId: \"{id}\") {{ requestId status content error completedAt }} }}"
    )
}

/// A store that sold on 2026-11-20, with costs set: bibimbap earns, tea
/// loses money.
async fn shop_with_sales(system: &TestSystem) -> Shop {
    let shop = system
        .shop(&[("Bibimbap", 12_000), ("Barley tea", 3_000)])
        .await;
    shop.client
        .query(
            "mutation($c: [ItemCostInput!]!) { setItemCosts(costs: $c) { id } }",
            json!({ "c": [{ "itemId": shop.items[0], "cost": 4_000 }, { "itemId": shop.items[1], "cost": 3_500 }] }),
        )
        .await
        .data_or_panic();
    let total = shop
        .client
        .query(
            "mutation($l: [OrderLineInput!]!) { placeOrder(tableNo: 1, lines: $l) { total } }",
            json!({ "l": [{ "itemId": shop.items[0], "quantity": 3 }, { "itemId": shop.items[1], "quantity": 2 }] }),
        )
        .await
        .data_or_panic()["placeOrder"]["total"]
        .clone();
    shop.client
        .query(
            "mutation($i: CheckoutInput!) { checkout(input: $i) { id } }",
            json!({ "i": { "tableNo": 1, "idempotencyKey": "day-1", "payments": [{ "method": "CARD", "amount": total }] } }),
        )
        .await
        .data_or_panic();
    // The dashboard has counted the sale once the report shows it.
    wait_for(
        &shop.client,
        |data| data["salesReport"]["salesVolume"] == 42_000,
        "{ salesReport(from: \"2026-11-20\", to: \"2026-11-20\") { salesVolume } }",
    )
    .await;
    shop
}

async fn wait_for(client: &Client, done: impl Fn(&Value) -> bool, query: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client.query(query, json!({})).await;
        let data = answer.data_or_panic().clone();
        if done(&data) {
            return data;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {data}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn system_options(clock: &Clock, config: Vec<(&'static str, String)>) -> Options {
    Options {
        bus: TestBus::Kafka,
        clock: clock.clone(),
        config,
        ..Options::default()
    }
}

async fn request(shop: &Shop, language: &str) -> Value {
    let answer = shop
        .client
        .query(
            REQUEST,
            json!({ "f": "2026-11-20", "t": "2026-11-20", "l": language }),
        )
        .await;
    answer.data_or_panic()["requestConsulting"].clone()
}

/// Every result the subscription delivers until it completes.
async fn follow(system: &TestSystem, token: &str, id: &str) -> Vec<Value> {
    let mut subscription =
        WsSubscription::start(&system.router_ws_url(), token, &result_subscription(id)).await;
    let mut results = Vec::new();
    loop {
        let message = subscription
            .next_message(Duration::from_secs(60))
            .await
            .unwrap_or_else(|| panic!("the subscription went quiet after {results:?}"));
        match message["type"].as_str() {
            Some("next") => {
                assert!(message["payload"]["errors"].is_null(), "{message}");
                results.push(message["payload"]["data"]["consultingResult"].clone());
            }
            Some("complete") => return results,
            _ => panic!("unexpected message {message}"),
        }
    }
}

#[tokio::test]
async fn the_built_in_analysts_advice_arrives_over_the_subscription_also_after_it_ended() {
    let clock = Clock::manual("2026-11-20T03:00:00Z".parse().expect("instant"));
    let system = TestSystem::start_with(system_options(&clock, Vec::new())).await;
    let shop = shop_with_sales(&system).await;

    let requested = request(&shop, "EN").await;
    assert_eq!(requested["status"], "PENDING");
    assert_eq!(requested["model"], "salesync-analyst");
    let id = requested["id"].as_str().expect("id").to_string();

    let results = follow(&system, &shop.token, &id).await;
    let last = results.last().expect("a result");
    assert_eq!(last["status"], "COMPLETED", "{results:?}");
    assert_eq!(last["requestId"], id.as_str());
    let content = last["content"].as_str().expect("content");
    assert!(content.contains("Bibimbap"), "{content}");
    assert!(
        content.contains("Stop the loss**: Barley tea lost ₩1,000"),
        "{content}"
    );
    assert!(!last["completedAt"].is_null());

    // Subscribed after the end was recorded (the live feed can be a moment
    // ahead of the dashboard's stored copy): the result at once, then complete.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while shop
        .client
        .query(
            "query($id: ID!) { consultingResult(requestId: $id) { status } }",
            json!({ "id": id }),
        )
        .await
        .data_or_panic()["consultingResult"]["status"]
        != "COMPLETED"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the end was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = follow(&system, &shop.token, &id).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], *last);

    // The same through the queries, on both subgraphs.
    let read = shop
        .client
        .query(
            "query($id: ID!) { consultingResult(requestId: $id) { status content } consultingRequest(id: $id) { status content error } consultingRequests { id } }",
            json!({ "id": id }),
        )
        .await;
    let data = read.data_or_panic();
    assert_eq!(data["consultingResult"]["status"], "COMPLETED");
    assert_eq!(data["consultingRequest"]["status"], "COMPLETED");
    assert_eq!(data["consultingRequest"]["content"], last["content"]);
    assert_eq!(data["consultingRequests"][0]["id"], id.as_str());

    // Korean unless asked otherwise.
    let korean = request(&shop, "KO").await;
    let results = follow(&system, &shop.token, korean["id"].as_str().expect("id")).await;
    let content = results.last().expect("a result")["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(content.contains("프로모션"), "{content}");
}

#[tokio::test]
async fn a_store_cannot_read_or_follow_another_stores_request() {
    let clock = Clock::manual("2026-11-20T03:00:00Z".parse().expect("instant"));
    let system = TestSystem::start_with(system_options(&clock, Vec::new())).await;
    let a = shop_with_sales(&system).await;
    let b = system.shop(&[("Tea", 3_000)]).await;
    let id = request(&a, "EN").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let done = follow(&system, &a.token, &id).await;
    assert_eq!(done.last().expect("a result")["status"], "COMPLETED");

    let read = b
        .client
        .query(
            "query($id: ID!) { consultingResult(requestId: $id) { status } consultingRequest(id: $id) { status } consultingRequests { id } }",
            json!({ "id": id }),
        )
        .await;
    let data = read.data_or_panic();
    assert_eq!(data["consultingResult"], Value::Null);
    assert_eq!(data["consultingRequest"], Value::Null);
    assert_eq!(data["consultingRequests"], json!([]));

    let mut subscription =
        WsSubscription::start(&system.router_ws_url(), &b.token, &result_subscription(&id)).await;
    let message = subscription
        .next_message(Duration::from_secs(30))
        .await
        .expect("an answer");
    let errors = if message["type"] == "error" {
        message["payload"].clone()
    } else {
        message["payload"]["errors"].clone()
    };
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{message}");
    assert!(
        message["payload"]["data"]["consultingResult"].is_null(),
        "{message}"
    );

    // Without a token, nothing.
    let anonymous = system
        .client()
        .query(
            "mutation { requestConsulting(from: \"2026-11-20\", to: \"2026-11-20\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(anonymous.error_code().as_deref(), Some("UNAUTHENTICATED"));
    // A bad range is refused before anything is stored.
    let backwards = a
        .client
        .query(
            "mutation { requestConsulting(from: \"2026-11-21\", to: \"2026-11-20\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(backwards.error_code().as_deref(), Some("BAD_USER_INPUT"));
}

fn model_config(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("model.api_key", "sk-test".to_string()),
        ("model.base_url", url.to_string()),
        ("model.name", "fake-model".to_string()),
        ("model.progress_interval_ms", "100".to_string()),
        ("model.timeout_seconds", "3".to_string()),
    ]
}

#[tokio::test]
async fn a_models_streamed_advice_arrives_as_progress_then_the_result() {
    let (fake, url) = LocalModel::start(Behaviour::Streams {
        pieces: 8,
        gap: Duration::from_millis(150),
    })
    .await;
    let clock = Clock::manual("2026-11-20T03:00:00Z".parse().expect("instant"));
    let system = TestSystem::start_with(system_options(&clock, model_config(&url))).await;
    let shop = shop_with_sales(&system).await;
    let requested = request(&shop, "EN").await;
    assert_eq!(requested["model"], "fake-model");
    let id = requested["id"].as_str().expect("id").to_string();

    let results = follow(&system, &shop.token, &id).await;
    let whole: String = (0..8).map(piece).collect();
    let last = results.last().expect("a result");
    assert_eq!(last["status"], "COMPLETED", "{results:?}");
    assert_eq!(last["content"], whole.as_str());
    // Progress before the end: part of the text, growing.
    let progress: Vec<&str> = results
        .iter()
        .filter(|r| r["status"] == "RUNNING")
        .map(|r| r["content"].as_str().expect("text so far"))
        .collect();
    assert!(
        progress.iter().any(|text| text.len() < whole.len()),
        "{results:?}"
    );
    for text in &progress {
        assert!(whole.starts_with(text), "{text}");
    }

    // The prompt carries the report's figures.
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "fake-model");
    assert_eq!(requests[0]["stream"], true);
    let prompt = requests[0]["messages"].to_string();
    for figure in [
        "Bibimbap",
        "Barley tea",
        "42000",
        "36000",
        "-1000",
        "2026-11-20",
    ] {
        assert!(prompt.contains(figure), "{figure} in {prompt}");
    }
}

#[tokio::test]
async fn a_model_that_fails_or_hangs_ends_failed_with_a_reason() {
    for (behaviour, reason) in [
        (Behaviour::Fails, "the model could not be called"),
        (Behaviour::Hangs, "did not finish within 3 seconds"),
    ] {
        let (_fake, url) = LocalModel::start(behaviour).await;
        let clock = Clock::manual("2026-11-20T03:00:00Z".parse().expect("instant"));
        let system = TestSystem::start_with(system_options(&clock, model_config(&url))).await;
        let shop = shop_with_sales(&system).await;
        let id = request(&shop, "EN").await["id"]
            .as_str()
            .expect("id")
            .to_string();
        let results = follow(&system, &shop.token, &id).await;
        let last = results.last().expect("a result");
        assert_eq!(last["status"], "FAILED", "{results:?}");
        let error = last["error"].as_str().expect("a reason");
        assert!(error.contains(reason), "{error}");
        let request = shop
            .client
            .query(
                "query($id: ID!) { consultingRequest(id: $id) { status error } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            request.data_or_panic()["consultingRequest"]["status"],
            "FAILED"
        );
    }
}

#[tokio::test]
async fn a_request_running_when_the_consulting_subgraph_restarts_completes() {
    let (fake, url) = LocalModel::start(Behaviour::Streams {
        pieces: 10,
        gap: Duration::from_millis(300),
    })
    .await;
    let clock = Clock::system();
    let mut config = model_config(&url);
    config.push(("model.timeout_seconds", "30".to_string()));
    config.push(("worker.lease_seconds", "1".to_string()));
    config.push(("worker.poll_seconds", "1".to_string()));
    let mut system = TestSystem::start_with(system_options(&clock, config)).await;
    let shop = system.shop(&[("Tea", 3_000)]).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let id = shop
        .client
        .query(REQUEST, json!({ "f": today, "t": today }))
        .await
        .data_or_panic()["requestConsulting"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    // Once it is being written, the subgraph stops and starts again.
    let mut subscription = WsSubscription::start(
        &system.router_ws_url(),
        &shop.token,
        &result_subscription(&id),
    )
    .await;
    loop {
        let data = subscription
            .next_data(Duration::from_secs(30))
            .await
            .expect("progress");
        if data["consultingResult"]["status"] == "RUNNING" {
            break;
        }
    }
    system.restart("consulting", &[]).await;

    let whole: String = (0..10).map(piece).collect();
    let mut last = Value::Null;
    while last["status"] != "COMPLETED" {
        let message = subscription
            .next_message(Duration::from_secs(60))
            .await
            .expect("the subscription goes on");
        assert_eq!(message["type"], "next", "{message}");
        last = message["payload"]["data"]["consultingResult"].clone();
    }
    assert_eq!(last["content"], whole.as_str());
    assert_eq!(fake.requests().len(), 2, "written again after the restart");
}
