//! Hostile input through the router, as a client could send it: numbers
//! past 64 bits, negative and fractional money, 100 kB and blank texts,
//! control characters, deep nesting. Each is refused with a clear code
//! (`BAD_USER_INPUT`, or the router's `GRAPHQL_VALIDATION_FAILED` for what
//! does not fit the schema at all), never `INTERNAL`, and writes nothing.
//! Unusual but valid input (unicode names, the largest order) is accepted,
//! with totals exact to the unit.

use salesync_tests::{Shop, TestSystem};
use serde_json::{Value, json};

const CREATE_ITEM: &str = "mutation($c: ID!, $n: String!, $p: Money!, $d: String) { createItem(input: { categoryId: $c, name: $n, price: $p, description: $d }) { id name price } }";
const PLACE: &str = "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { id total } }";
const CHECKOUT: &str = "mutation($t: Int!, $k: String!, $p: [PaymentInput!]!) { checkout(input: { tableNo: $t, idempotencyKey: $k, payments: $p }) { id amount } }";

/// The id of the shop's one category.
async fn category_of(shop: &Shop) -> Value {
    shop.client
        .query("{ categories { id } }", json!({}))
        .await
        .data_or_panic()["categories"][0]["id"]
        .clone()
}

/// What the shop holds, as it reads it.
async fn snapshot(shop: &Shop) -> Value {
    shop.client
        .query(
            "{ me { name phone tableCount } categories { name items { name price description } } openOrders { tableNo total version } }",
            json!({}),
        )
        .await
        .data_or_panic()
        .clone()
}

#[tokio::test]
async fn hostile_input_is_refused_clearly_and_writes_nothing() {
    let system = TestSystem::start().await;
    let shop = system.shop(&[("Tea", 3_000)]).await;
    let category = category_of(&shop).await;
    let tea = shop.items[0].clone();
    let huge = "가".repeat(100_000);
    let line = |quantity: Value| json!([{ "itemId": tea, "quantity": quantity }]);
    let nested = |levels: usize| (0..levels).fold(json!(tea), |inner, _| json!([inner]));
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "price past 64 bits",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": 9_223_372_036_854_775_808u64 }),
        ),
        (
            "negative price",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": -1 }),
        ),
        (
            "fractional price",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": 1.5 }),
        ),
        (
            "price as text",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": "100" }),
        ),
        (
            "price over the largest",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": 100_000_001 }),
        ),
        (
            "100 kB name",
            CREATE_ITEM,
            json!({ "c": category, "n": huge, "p": 1 }),
        ),
        (
            "blank name",
            CREATE_ITEM,
            json!({ "c": category, "n": "  \t ", "p": 1 }),
        ),
        (
            "NUL in a name",
            CREATE_ITEM,
            json!({ "c": category, "n": "Te\u{0}a", "p": 1 }),
        ),
        (
            "100 kB description",
            CREATE_ITEM,
            json!({ "c": category, "n": "X", "p": 1, "d": huge }),
        ),
        ("quantity 0", PLACE, json!({ "t": 1, "l": line(json!(0)) })),
        (
            "negative quantity",
            PLACE,
            json!({ "t": 1, "l": line(json!(-5)) }),
        ),
        (
            "quantity over 999",
            PLACE,
            json!({ "t": 1, "l": line(json!(1000)) }),
        ),
        (
            "quantity past 32 bits",
            PLACE,
            json!({ "t": 1, "l": line(json!(4_294_967_296u64)) }),
        ),
        (
            "table past 32 bits",
            PLACE,
            json!({ "t": 9_223_372_036_854_775_807u64, "l": line(json!(1)) }),
        ),
        ("table 0", PLACE, json!({ "t": 0, "l": line(json!(1)) })),
        // The deepest the router accepts (16 levels of JSON with the body).
        (
            "lines nested 14 deep",
            PLACE,
            json!({ "t": 1, "l": nested(14) }),
        ),
        (
            "lines nested 100 deep",
            PLACE,
            json!({ "t": 1, "l": nested(100) }),
        ),
        (
            "1000 of one item over two lines",
            PLACE,
            json!({ "t": 1, "l": [{ "itemId": tea, "quantity": 999 }, { "itemId": tea, "quantity": 1 }] }),
        ),
        (
            "payment past 64 bits",
            CHECKOUT,
            json!({ "t": 1, "k": "k", "p": [{ "method": "CARD", "amount": 18_446_744_073_709_551_615u64 }] }),
        ),
        (
            "negative payment",
            CHECKOUT,
            json!({ "t": 1, "k": "k", "p": [{ "method": "CARD", "amount": -3000 }] }),
        ),
        (
            "unknown method",
            CHECKOUT,
            json!({ "t": 1, "k": "k", "p": [{ "method": "BITCOIN", "amount": 3000 }] }),
        ),
        (
            "100 kB idempotency key",
            CHECKOUT,
            json!({ "t": 1, "k": huge, "p": [{ "method": "CARD", "amount": 3000 }] }),
        ),
    ];

    // One open table, so a checkout case would have something to pay.
    shop.client
        .query(PLACE, json!({ "t": 1, "l": line(json!(1)) }))
        .await
        .data_or_panic();
    let before = snapshot(&shop).await;
    for (name, query, variables) in &cases {
        let response = shop.client.query(query, variables.clone()).await;
        let code = response.error_code();
        assert!(
            matches!(
                code.as_deref(),
                Some("BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED")
            ),
            "{name}: {}",
            response.body
        );
        assert!(
            response.body["data"].is_null()
                || response.body["data"]
                    .as_object()
                    .is_none_or(|d| d.values().all(Value::is_null)),
            "{name}: {}",
            response.body
        );
        assert!(response.status < 500, "{name}: {}", response.status);
    }
    assert_eq!(
        snapshot(&shop).await,
        before,
        "a refused input wrote something"
    );
}

#[tokio::test]
async fn unusual_but_valid_input_is_kept_exactly() {
    let system = TestSystem::start().await;
    let shop = system.shop(&[("Tea", 3_000)]).await;
    let category = category_of(&shop).await;
    let name = "김치찌개 🍲 Ünïcödé";
    let created = shop
        .client
        .query(
            CREATE_ITEM,
            json!({ "c": category, "n": format!("  {name}  "), "p": 100_000_000, "d": "line one\nline two\ttabbed" }),
        )
        .await;
    let item = created.data_or_panic()["createItem"].clone();
    assert_eq!(item["name"], name, "trimmed, otherwise as typed");
    assert_eq!(item["price"], 100_000_000);

    // The largest quantity at the largest price: exact, in 64 bits.
    let placed = shop
        .client
        .query(
            PLACE,
            json!({ "t": 2, "l": [{ "itemId": item["id"], "quantity": 999 }] }),
        )
        .await;
    assert_eq!(
        placed.data_or_panic()["placeOrder"]["total"],
        json!(99_900_000_000i64)
    );
    let paid = shop
        .client
        .query(
            CHECKOUT,
            json!({ "t": 2, "k": "biggest", "p": [{ "method": "CARD", "amount": 99_900_000_000i64 }] }),
        )
        .await;
    assert_eq!(
        paid.data_or_panic()["checkout"]["amount"],
        json!(99_900_000_000i64)
    );
}
