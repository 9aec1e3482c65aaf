//! The item subgraph (the menu) through the real router, on PostgreSQL.

use futures::future::join_all;
use salesync_tests::{Client, TestSystem, unique_username};
use serde_json::{Value, json};

const CREATE_CATEGORY: &str = "mutation($n: String!) { createCategory(name: $n) { id name } }";
const CREATE_ITEM: &str = "mutation($i: CreateItemInput!) { createItem(input: $i) { id name price soldOut description category { id name } } }";
const UPDATE_ITEM: &str = "mutation($id: ID!, $i: UpdateItemInput!) { updateItem(id: $id, input: $i) { id name price soldOut description category { id name } } }";
const MENU: &str =
    "{ me { name categories { id name items { id name price soldOut } } items { id name } } }";

async fn owner(system: &TestSystem) -> Client {
    let (token, _) = system
        .sign_up(&unique_username("menu"), "the-password")
        .await;
    system.client().with_token(&token)
}

async fn create_category(client: &Client, name: &str) -> String {
    let response = client.query(CREATE_CATEGORY, json!({ "n": name })).await;
    response.data_or_panic()["createCategory"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn create_item(client: &Client, category: &str, name: &str, price: i64) -> String {
    let response = client
        .query(
            CREATE_ITEM,
            json!({ "i": { "categoryId": category, "name": name, "price": price } }),
        )
        .await;
    response.data_or_panic()["createItem"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn the_menu_lives_through_rename_move_sold_out_and_delete() {
    let system = TestSystem::start().await;
    let client = owner(&system).await;

    let drinks = create_category(&client, "Drinks").await;
    let food = create_category(&client, "Food").await;
    let latte = create_item(&client, &drinks, "Latte", 4500).await;
    let bagel = create_item(&client, &drinks, "Bagel", 3000).await;
    let _soup = create_item(&client, &food, "Soup", 7000).await;

    // One query through the router: the store (store subgraph) and its menu (item subgraph).
    let menu = client.query(MENU, json!({})).await;
    let me = &menu.data_or_panic()["me"];
    assert_eq!(
        names(&me["categories"]),
        ["Drinks", "Food"],
        "creation order"
    );
    assert_eq!(names(&me["categories"][0]["items"]), ["Latte", "Bagel"]);
    assert_eq!(me["categories"][0]["items"][0]["price"], 4500);
    assert_eq!(names(&me["items"]), ["Latte", "Bagel", "Soup"]);

    // Rename a category.
    let renamed = client
        .query(
            "mutation($id: ID!) { renameCategory(id: $id, name: \"Coffee\") { name } }",
            json!({ "id": drinks }),
        )
        .await;
    assert_eq!(renamed.data_or_panic()["renameCategory"]["name"], "Coffee");

    // Move the bagel to Food, mark the latte sold out and change its price.
    let moved = client
        .query(
            UPDATE_ITEM,
            json!({ "id": bagel, "i": { "categoryId": food } }),
        )
        .await;
    assert_eq!(
        moved.data_or_panic()["updateItem"]["category"]["name"],
        "Food"
    );
    let changed = client
        .query(
            UPDATE_ITEM,
            json!({ "id": latte, "i": { "soldOut": true, "price": 5000, "description": "Oat milk" } }),
        )
        .await;
    let latte_now = &changed.data_or_panic()["updateItem"];
    assert_eq!(latte_now["soldOut"], true);
    assert_eq!(latte_now["price"], 5000);
    assert_eq!(latte_now["description"], "Oat milk");

    let menu = client.query(MENU, json!({})).await;
    let me = &menu.data_or_panic()["me"];
    assert_eq!(names(&me["categories"]), ["Coffee", "Food"]);
    assert_eq!(names(&me["categories"][0]["items"]), ["Latte"]);
    assert_eq!(names(&me["categories"][1]["items"]), ["Bagel", "Soup"]);

    // Delete the latte: gone from lists, but it still resolves, flagged deleted.
    let deleted = client
        .query(
            "mutation($id: ID!) { deleteItem(id: $id) }",
            json!({ "id": latte }),
        )
        .await;
    assert_eq!(deleted.data_or_panic()["deleteItem"], latte.as_str());
    let items = client.query("{ items { name } }", json!({})).await;
    assert_eq!(names(&items.data_or_panic()["items"]), ["Bagel", "Soup"]);
    let old = client
        .query(
            "query($id: ID!) { item(id: $id) { name deleted } }",
            json!({ "id": latte }),
        )
        .await;
    assert_eq!(
        old.data_or_panic()["item"],
        json!({ "name": "Latte", "deleted": true })
    );
    client
        .query(UPDATE_ITEM, json!({ "id": latte, "i": { "price": 1 } }))
        .await
        .expect_error("NOT_FOUND");

    // Delete Food: its items leave the menu with it.
    client
        .query(
            "mutation($id: ID!) { deleteCategory(id: $id) }",
            json!({ "id": food }),
        )
        .await
        .data_or_panic();
    let menu = client.query(MENU, json!({})).await;
    let me = &menu.data_or_panic()["me"];
    assert_eq!(names(&me["categories"]), ["Coffee"]);
    assert_eq!(
        me["categories"][0]["items"],
        json!([]),
        "a category whose items are all deleted is listed, empty"
    );
    assert!(names(&me["items"]).is_empty());

    // A deleted name can be used again.
    create_category(&client, "Food").await;
}

#[tokio::test]
async fn duplicate_names_are_conflicts_even_when_requests_race() {
    let system = TestSystem::start().await;
    let client = owner(&system).await;

    let drinks = create_category(&client, "Drinks").await;
    client
        .query(CREATE_CATEGORY, json!({ "n": "drinks" }))
        .await
        .expect_error("CONFLICT");
    create_item(&client, &drinks, "Latte", 4500).await;
    client
        .query(
            CREATE_ITEM,
            json!({ "i": { "categoryId": drinks, "name": " LATTE ", "price": 1 } }),
        )
        .await
        .expect_error("CONFLICT");
    // The same item name in another category is fine.
    let food = create_category(&client, "Food").await;
    create_item(&client, &food, "Latte", 100).await;
    // Renaming onto a taken name is a conflict too.
    client
        .query(
            "mutation($id: ID!) { renameCategory(id: $id, name: \"DRINKS\") { name } }",
            json!({ "id": food }),
        )
        .await
        .expect_error("CONFLICT");

    // Eight terminals create the same category at once: one wins.
    let attempts =
        join_all((0..8).map(|_| client.query(CREATE_CATEGORY, json!({ "n": "Desserts" })))).await;
    let codes: Vec<Option<String>> = attempts.iter().map(|r| r.error_code()).collect();
    assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "{codes:?}");
    assert!(codes.iter().flatten().all(|c| c == "CONFLICT"), "{codes:?}");

    // And the same item.
    let attempts = join_all((0..8).map(|_| {
        client.query(
            CREATE_ITEM,
            json!({ "i": { "categoryId": drinks, "name": "Mocha", "price": 5000 } }),
        )
    }))
    .await;
    let codes: Vec<Option<String>> = attempts.iter().map(|r| r.error_code()).collect();
    assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "{codes:?}");
    assert!(codes.iter().flatten().all(|c| c == "CONFLICT"), "{codes:?}");
    let categories = client.query("{ categories { name } }", json!({})).await;
    assert_eq!(
        names(&categories.data_or_panic()["categories"]),
        ["Drinks", "Food", "Desserts"]
    );
}

#[tokio::test]
async fn another_store_cannot_see_change_or_resolve_the_menu() {
    let system = TestSystem::start().await;
    let (token_a, store_a) = system.sign_up(&unique_username("a"), "the-password").await;
    let a = system.client().with_token(&token_a);
    let (token_b, _) = system.sign_up(&unique_username("b"), "the-password").await;
    let b = system.client().with_token(&token_b);

    let category = create_category(&a, "Secret Menu").await;
    let item = create_item(&a, &category, "Secret Sauce", 100).await;

    // Reads: B's lists are empty and A's ids are unknown.
    let lists = b
        .query("{ categories { id } items { id } }", json!({}))
        .await;
    assert_eq!(
        lists.data_or_panic(),
        &json!({ "categories": [], "items": [] })
    );
    let one = b
        .query(
            "query($c: ID!, $i: ID!) { category(id: $c) { name } item(id: $i) { name } }",
            json!({ "c": category, "i": item }),
        )
        .await;
    assert_eq!(
        one.data_or_panic(),
        &json!({ "category": null, "item": null })
    );

    // Writes: exactly like ids that do not exist.
    for (query, variables) in [
        (
            "mutation($id: ID!) { renameCategory(id: $id, name: \"Mine\") { id } }",
            json!({ "id": category }),
        ),
        (
            "mutation($id: ID!) { deleteCategory(id: $id) }",
            json!({ "id": category }),
        ),
        (UPDATE_ITEM, json!({ "id": item, "i": { "price": 0 } })),
        (
            "mutation($id: ID!) { deleteItem(id: $id) }",
            json!({ "id": item }),
        ),
        (
            CREATE_ITEM,
            json!({ "i": { "categoryId": category, "name": "Intruder", "price": 1 } }),
        ),
    ] {
        b.query(query, variables).await.expect_error("NOT_FOUND");
    }

    // Entity resolution at the subgraph: A's category, item and store stay hidden from B.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { name } ... on Category { name } ... on Store { categories { name } } } }";
    for representation in [
        json!({ "__typename": "Item", "id": item }),
        json!({ "__typename": "Category", "id": category }),
        json!({ "__typename": "Store", "id": store_a }),
    ] {
        let response = system
            .direct("item")
            .with_token(&token_b)
            .query(entities, json!({ "r": [representation] }))
            .await;
        response.expect_error("NOT_FOUND");
        assert!(
            !response.body.to_string().contains("Secret"),
            "{}",
            response.body
        );
    }

    // A's menu is untouched.
    let menu = a.query(MENU, json!({})).await;
    assert_eq!(
        names(&menu.data_or_panic()["me"]["items"]),
        ["Secret Sauce"]
    );
    assert_eq!(menu.data_or_panic()["me"]["items"][0]["id"], item.as_str());
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    let system = TestSystem::start().await;
    let client = owner(&system).await;
    let drinks = create_category(&client, "Drinks").await;
    let latte = create_item(&client, &drinks, "Latte", 4500).await;

    let bad_creates: Vec<(Value, &str, Option<&str>)> = vec![
        (
            json!({ "categoryId": drinks, "name": "Tea", "price": -1 }),
            "BAD_USER_INPUT",
            Some("input.price"),
        ),
        (
            json!({ "categoryId": drinks, "name": "Tea", "price": 100_000_001 }),
            "BAD_USER_INPUT",
            Some("input.price"),
        ),
        (
            json!({ "categoryId": drinks, "name": "  ", "price": 1 }),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        (
            json!({ "categoryId": drinks, "name": "x".repeat(101), "price": 1 }),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        (
            json!({ "categoryId": drinks, "name": "Tea", "price": 1, "description": "x".repeat(501) }),
            "BAD_USER_INPUT",
            Some("input.description"),
        ),
        (
            json!({ "categoryId": "0191d2c4-0000-7000-8000-000000000000", "name": "Tea", "price": 1 }),
            "NOT_FOUND",
            None,
        ),
        (
            json!({ "categoryId": "not-an-id", "name": "Tea", "price": 1 }),
            "NOT_FOUND",
            None,
        ),
        // PostgreSQL cannot store a NUL byte: refused as input, never INTERNAL.
        (
            json!({ "categoryId": drinks, "name": "Te\u{0}a", "price": 1 }),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        (
            json!({ "categoryId": drinks, "name": "Te\u{1b}[2Ja", "price": 1 }),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        (
            json!({ "categoryId": drinks, "name": "Tea", "price": 1, "description": "hot\u{0}" }),
            "BAD_USER_INPUT",
            Some("input.description"),
        ),
        (
            json!({ "categoryId": format!("{drinks}\u{0}"), "name": "Tea", "price": 1 }),
            "NOT_FOUND",
            None,
        ),
    ];
    for (input, code, field) in bad_creates {
        let response = client.query(CREATE_ITEM, json!({ "i": input })).await;
        let error = response.expect_error(code);
        if let Some(field) = field {
            assert_eq!(error["extensions"]["field"], field, "{}", response.body);
        }
    }
    // A price that is not a whole number never reaches the resolver.
    client
        .query(
            CREATE_ITEM,
            json!({ "i": { "categoryId": drinks, "name": "Tea", "price": 1.5 } }),
        )
        .await
        .expect_error("BAD_USER_INPUT");
    // Bad updates and category names.
    client
        .query(UPDATE_ITEM, json!({ "id": latte, "i": { "price": -5 } }))
        .await
        .expect_error("BAD_USER_INPUT");
    client
        .query(UPDATE_ITEM, json!({ "id": "42", "i": { "price": 5 } }))
        .await
        .expect_error("NOT_FOUND");
    client
        .query(CREATE_CATEGORY, json!({ "n": "" }))
        .await
        .expect_error("BAD_USER_INPUT");
    let nul = client
        .query(CREATE_CATEGORY, json!({ "n": "Dri\u{0}nks" }))
        .await;
    assert_eq!(
        nul.expect_error("BAD_USER_INPUT")["extensions"]["field"],
        "name"
    );
    let nul = client
        .query(
            UPDATE_ITEM,
            json!({ "id": latte, "i": { "name": "La\u{0}tte" } }),
        )
        .await;
    assert_eq!(
        nul.expect_error("BAD_USER_INPUT")["extensions"]["field"],
        "input.name"
    );

    let menu = client.query(MENU, json!({})).await;
    let me = &menu.data_or_panic()["me"];
    assert_eq!(names(&me["categories"]), ["Drinks"]);
    assert_eq!(names(&me["items"]), ["Latte"]);
    assert_eq!(
        me["categories"][0]["items"][0]["price"], 4500,
        "the failed update wrote nothing"
    );
}

/// Creates `categories` categories of `items` items each, 10 mutations a request (the router allows 10 root fields).
async fn fill_menu(client: &Client, categories: usize, items: usize) {
    let mut ids = Vec::new();
    for chunk in (0..categories).collect::<Vec<_>>().chunks(10) {
        let fields: String = chunk
            .iter()
            .map(|c| format!("c{c}: createCategory(name: \"Category {c}\") {{ id }} "))
            .collect();
        let response = client
            .query(&format!("mutation {{ {fields} }}"), json!({}))
            .await;
        let data = response.data_or_panic();
        ids.extend(chunk.iter().map(|c| {
            data[format!("c{c}")]["id"]
                .as_str()
                .expect("id")
                .to_string()
        }));
    }
    let all: Vec<(usize, usize)> = (0..categories)
        .flat_map(|c| (0..items).map(move |i| (c, i)))
        .collect();
    for chunk in all.chunks(10) {
        let fields: String = chunk
            .iter()
            .map(|(c, i)| {
                format!(
                    "i{c}_{i}: createItem(input: {{ categoryId: \"{}\", name: \"Item {i}\", price: {} }}) {{ id }} ",
                    ids[*c],
                    1000 + i
                )
            })
            .collect();
        client
            .query(&format!("mutation {{ {fields} }}"), json!({}))
            .await
            .data_or_panic();
    }
}

/// SQL statements the item subgraph runs for one menu query.
async fn statements_for(system: &TestSystem, client: &Client, query: &str) -> (u64, Value) {
    let before = system.statements("item");
    let response = client.query(query, json!({})).await;
    let after = system.statements("item");
    (after - before, response.data_or_panic().clone())
}

#[tokio::test]
async fn a_nested_menu_query_runs_a_fixed_number_of_statements() {
    let system = TestSystem::start().await;
    let small = owner(&system).await;
    fill_menu(&small, 2, 1).await;
    let large = owner(&system).await;
    fill_menu(&large, 50, 20).await;

    let menu_query = "{ me { categories { name items { name price category { name } } } } }";
    let (small_count, _) = statements_for(&system, &small, menu_query).await;
    let (large_count, menu) = statements_for(&system, &large, menu_query).await;

    let categories = menu["me"]["categories"].as_array().expect("categories");
    assert_eq!(categories.len(), 50);
    assert!(
        categories
            .iter()
            .all(|c| c["items"].as_array().map(Vec::len) == Some(20))
    );
    assert_eq!(categories[7]["items"][3]["category"]["name"], "Category 7");
    // The categories and their items, side by side (each item's category is
    // handed down), and the token's store check when memory cannot answer
    // it: one statement each, for 2 items or 1,000.
    assert_eq!(
        large_count, small_count,
        "statement count grew with the menu: {small_count} for 2 items, {large_count} for 1,000"
    );
    // Exactly one more than the categories alone (both asked again, now
    // that the token has been seen, so the store check is alike): their
    // items, all in one statement. A join of the two was measured and cost
    // more than the second statement (docs/benchmarks.md).
    let categories_only = "{ me { categories { name } } }";
    let (menu_again, _) = statements_for(&system, &large, menu_query).await;
    let (alone, _) = statements_for(&system, &large, categories_only).await;
    assert_eq!(
        menu_again,
        alone + 1,
        "the menu with its items cost {menu_again} statements, the categories alone {alone}"
    );

    // The flat list, each item asking for its category: the store check,
    // the items, their categories.
    let flat_query = "{ items { name category { name } } }";
    let (small_flat, _) = statements_for(&system, &small, flat_query).await;
    let (large_flat, flat) = statements_for(&system, &large, flat_query).await;
    assert_eq!(flat["items"].as_array().map(Vec::len), Some(1000));
    assert_eq!(flat["items"][999]["category"]["name"], "Category 49");
    assert_eq!(large_flat, small_flat, "{small_flat} vs {large_flat}");
    assert!(large_flat <= 3, "{large_flat} statements for the flat list");
}

#[tokio::test]
async fn the_internal_lookup_answers_the_callers_items_only() {
    let system = TestSystem::start().await;
    let (token, store_a) = system
        .sign_up(&unique_username("lookup"), "the-password")
        .await;
    let client = system.client().with_token(&token);
    let drinks = create_category(&client, "Drinks").await;
    let latte = create_item(&client, &drinks, "Latte", 4500).await;
    let tea = create_item(&client, &drinks, "Tea", 3000).await;
    let gone = create_item(&client, &drinks, "Gone", 1000).await;
    client
        .query(UPDATE_ITEM, json!({ "id": tea, "i": { "soldOut": true } }))
        .await
        .data_or_panic();
    client
        .query(
            "mutation($id: ID!) { deleteItem(id: $id) }",
            json!({ "id": gone }),
        )
        .await
        .data_or_panic();
    let (other_token, _) = system
        .sign_up(&unique_username("lookup"), "the-password")
        .await;
    let other = system.client().with_token(&other_token);
    let theirs = create_item(&other, &create_category(&other, "Food").await, "Soup", 7000).await;

    let url = system
        .url("item")
        .replace("/graphql", "/internal/items/lookup");
    let http = reqwest::Client::new();
    let lookup = |token: Option<&str>, key: Option<&str>, body: Value| {
        let mut request = http.post(&url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("x-salesync-internal-key", key);
        }
        request.send()
    };
    let key = Some(salesync_tests::INTERNAL_KEY);
    let unknown = uuid::Uuid::now_v7().to_string();

    let answer = lookup(
        Some(&token),
        key,
        json!({ "ids": [latte, tea, gone, theirs, unknown] }),
    )
    .await
    .expect("the item subgraph answers");
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.expect("json");
    let mut items = answer["items"].as_array().expect("items").clone();
    items.sort_by_key(|item| item["name"].as_str().map(str::to_string));
    assert_eq!(
        Value::Array(items),
        json!([
            { "id": gone, "name": "Gone", "price": 1000, "soldOut": false, "deleted": true },
            { "id": latte, "name": "Latte", "price": 4500, "soldOut": false, "deleted": false },
            { "id": tea, "name": "Tea", "price": 3000, "soldOut": true, "deleted": false },
        ]),
        "the store's items, deleted ones flagged; another store's and unknown ids absent"
    );

    // The other store's token finds only its own item.
    let theirs_only: Value = lookup(Some(&other_token), key, json!({ "ids": [latte, theirs] }))
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(theirs_only["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(theirs_only["items"][0]["id"], json!(theirs));

    // Without the key, nothing; a named store must be the token's.
    let no_key = lookup(Some(&token), None, json!({ "ids": [latte] }))
        .await
        .expect("answers");
    assert_eq!(no_key.status(), 403);
    let mismatched = lookup(
        Some(&other_token),
        key,
        json!({ "storeId": store_a, "ids": [latte] }),
    )
    .await
    .expect("answers");
    assert_eq!(mismatched.status(), 403);
    let nobody = lookup(None, key, json!({ "ids": [latte] }))
        .await
        .expect("answers");
    assert_eq!(nobody.status(), 401);

    let too_many: Vec<String> = (0..1_001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let refused = lookup(Some(&token), key, json!({ "ids": too_many }))
        .await
        .expect("answers");
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["error"]["code"], "BAD_USER_INPUT");
}
