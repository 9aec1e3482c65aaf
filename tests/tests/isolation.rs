//! The isolation matrix: every root field and every entity of the composed
//! supergraph, tried by store B against store A's ids and by a caller with
//! no token, through the router and at the owning subgraph directly. B finds
//! nothing of A's (`NOT_FOUND`, or only its own data), the anonymous caller
//! is `UNAUTHENTICATED`, and A's data is the same afterwards.
//!
//! The fields come from `schema/supergraph.graphql`: a field added to the API
//! without a case here fails the test.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use async_graphql::parser::{
    parse_schema,
    types::{TypeKind, TypeSystemDefinition},
};
use salesync_tests::{Client, GraphqlResponse, TestSystem, WsSubscription, unique_username};
use serde_json::{Value, json};

/// What store B (or an anonymous caller) may get from a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Names A's data: `NOT_FOUND` or null, never A's data.
    Hidden,
    /// Acts on the caller's own store: anything but A's data.
    Own,
    /// Needs no store (signing up and in): anonymous callers may use it.
    Public,
}

/// One operation, as B would send it against A's ids.
struct Case {
    expect: Expect,
    query: String,
    variables: Value,
}

/// Store A's ids, and what B must never see.
struct StoreA {
    client: Client,
    username: String,
    store_id: String,
    category: String,
    item: String,
    order: String,
    sale: String,
    request: String,
}

/// A word in every name A gave, so a leak is found in any response body.
const MARKER: &str = "Secretsauce";

fn today() -> String {
    salesync_tests::today().to_string()
}

fn week_ago() -> String {
    (salesync_tests::today() - chrono::Days::new(7)).to_string()
}

async fn open_store_a(system: &TestSystem) -> StoreA {
    let username = unique_username("store-a");
    let (token, store_id) = system.sign_up(&username, "the-password").await;
    let client = system.client().with_token(&token);
    let data = |r: GraphqlResponse| r.data_or_panic().clone();
    let category = data(
        client
            .query(
                "mutation($n: String!) { createCategory(name: $n) { id } }",
                json!({ "n": format!("{MARKER} Menu") }),
            )
            .await,
    )["createCategory"]["id"]
        .clone();
    let item = data(
        client
            .query(
                "mutation($c: ID!, $n: String!) { createItem(input: { categoryId: $c, name: $n, price: 3000 }) { id } }",
                json!({ "c": category, "n": format!("{MARKER} Tea") }),
            )
            .await,
    )["createItem"]["id"]
        .clone();
    client
        .query(
            "mutation($i: ID!) { setItemCost(itemId: $i, cost: 1000) { id } }",
            json!({ "i": item }),
        )
        .await
        .data_or_panic();
    let place = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 2 }]) { id } }";
    let order =
        data(client.query(place, json!({ "t": 1, "i": item })).await)["placeOrder"]["id"].clone();
    client
        .query(place, json!({ "t": 2, "i": item }))
        .await
        .data_or_panic();
    let sale = data(
        client
            .query(
                "mutation { checkout(input: { tableNo: 2, idempotencyKey: \"a-2\", payments: [{ method: CARD, amount: 6000 }] }) { id } }",
                json!({}),
            )
            .await,
    )["checkout"]["id"]
        .clone();
    let request = data(
        client
            .query(
                "mutation($f: Date!, $t: Date!) { requestConsulting(from: $f, to: $t) { id } }",
                json!({ "f": week_ago(), "t": today() }),
            )
            .await,
    )["requestConsulting"]["id"]
        .clone();
    let text = |v: Value| v.as_str().expect("an id").to_string();
    StoreA {
        client,
        username,
        store_id,
        category: text(category),
        item: text(item),
        order: text(order),
        sale: text(sale),
        request: text(request),
    }
}

/// Everything of A's that B could change, as A reads it.
async fn snapshot(a: &StoreA) -> Value {
    let query = "query($f: Date!, $t: Date!) {
        me { name tableCount }
        categories { id name items { id name price soldOut cost } }
        openOrders { id tableNo version total lines { quantity } }
        sales(from: $f, to: $t) { id amount refundedAmount }
        consultingRequests { id }
        salesReport(from: $f, to: $t) { salesVolume cost profit }
    }";
    a.client
        .query(query, json!({ "f": week_ago(), "t": today() }))
        .await
        .data_or_panic()
        .clone()
}

/// The type definitions of the checked-in supergraph.
fn supergraph_types() -> Vec<TypeSystemDefinition> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/supergraph.graphql");
    let sdl = std::fs::read_to_string(path).expect("the supergraph");
    parse_schema(&sdl)
        .expect("the supergraph parses")
        .definitions
}

/// Every root field, by `Type.field`, with the subgraph that resolves it.
fn root_fields() -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for definition in supergraph_types() {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        if !["Query", "Mutation", "Subscription"].contains(&name.as_str()) {
            continue;
        }
        let TypeKind::Object(object) = &ty.node.kind else {
            continue;
        };
        for field in &object.fields {
            let graph = field
                .node
                .directives
                .iter()
                .find(|d| d.node.name.node == "join__field")
                .and_then(|d| d.node.get_argument("graph"))
                .map(|v| v.node.to_string().to_lowercase())
                .expect("every root field names its subgraph");
            fields.insert(format!("{name}.{}", field.node.name.node), graph);
        }
    }
    fields
}

/// Every entity type, with the subgraphs that resolve it by `id`.
fn entities() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for definition in supergraph_types() {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        for directive in &ty.node.directives {
            let resolvable = directive
                .node
                .get_argument("resolvable")
                .is_none_or(|v| v.node.to_string() != "false");
            if directive.node.name.node != "join__type"
                || directive.node.get_argument("key").is_none()
                || !resolvable
            {
                continue;
            }
            let graph = directive
                .node
                .get_argument("graph")
                .map(|v| v.node.to_string().to_lowercase())
                .expect("a graph");
            found.push((ty.node.name.node.to_string(), graph));
        }
    }
    found
}

fn case(expect: Expect, query: &str, variables: Value) -> Case {
    Case {
        expect,
        query: query.to_string(),
        variables,
    }
}

/// B's case for every root field, against A's ids.
fn cases(a: &StoreA) -> BTreeMap<&'static str, Case> {
    use Expect::*;
    let range = json!({ "f": week_ago(), "t": today() });
    let day = json!({ "d": today() });
    let item = json!({ "i": a.item });
    let lines = json!({ "l": [{ "itemId": a.item, "quantity": 1 }] });
    BTreeMap::from([
        (
            "Query.consultingRequest",
            case(
                Hidden,
                "query($i: ID!) { consultingRequest(id: $i) { id } }",
                json!({ "i": a.request }),
            ),
        ),
        (
            "Query.consultingRequests",
            case(Own, "{ consultingRequests { id } }", json!({})),
        ),
        (
            "Query.salesReport",
            case(
                Own,
                "query($f: Date!, $t: Date!) { salesReport(from: $f, to: $t) { salesVolume items { name } } }",
                range.clone(),
            ),
        ),
        (
            "Query.dailyVolumes",
            case(
                Own,
                "query($f: Date!, $t: Date!) { dailyVolumes(from: $f, to: $t) { date salesVolume } }",
                range.clone(),
            ),
        ),
        (
            "Query.consultingResult",
            case(
                Hidden,
                "query($i: ID!) { consultingResult(requestId: $i) { status } }",
                json!({ "i": a.request }),
            ),
        ),
        (
            "Query.categories",
            case(Own, "{ categories { id name } }", json!({})),
        ),
        (
            "Query.category",
            case(
                Hidden,
                "query($i: ID!) { category(id: $i) { id name } }",
                json!({ "i": a.category }),
            ),
        ),
        ("Query.items", case(Own, "{ items { id name } }", json!({}))),
        (
            "Query.item",
            case(
                Hidden,
                "query($i: ID!) { item(id: $i) { id name } }",
                item.clone(),
            ),
        ),
        (
            "Query.openOrders",
            case(Own, "{ openOrders { id } }", json!({})),
        ),
        (
            "Query.openOrder",
            case(Own, "{ openOrder(tableNo: 1) { id } }", json!({})),
        ),
        (
            "Query.orders",
            case(
                Own,
                "query($f: Date!, $t: Date!) { orders(from: $f, to: $t) { id } }",
                range.clone(),
            ),
        ),
        (
            "Query.order",
            case(
                Hidden,
                "query($i: ID!) { order(id: $i) { id } }",
                json!({ "i": a.order }),
            ),
        ),
        (
            "Query.sales",
            case(
                Own,
                "query($f: Date!, $t: Date!) { sales(from: $f, to: $t) { id } }",
                range.clone(),
            ),
        ),
        (
            "Query.sale",
            case(
                Hidden,
                "query($i: ID!) { sale(id: $i) { id } }",
                json!({ "i": a.sale }),
            ),
        ),
        (
            "Query.salesSummary",
            case(
                Own,
                "query($f: Date!, $t: Date!) { salesSummary(from: $f, to: $t) { saleCount } }",
                range.clone(),
            ),
        ),
        (
            "Query.dayClose",
            case(
                Own,
                "query($d: Date!) { dayClose(businessDate: $d) { businessDate } }",
                day.clone(),
            ),
        ),
        ("Query.me", case(Own, "{ me { id name } }", json!({}))),
        (
            "Query.usernameAvailable",
            case(
                Public,
                "query($u: String!) { usernameAvailable(username: $u) }",
                json!({ "u": a.username }),
            ),
        ),
        (
            "Mutation.requestConsulting",
            case(
                Own,
                "mutation($f: Date!, $t: Date!) { requestConsulting(from: $f, to: $t) { id } }",
                range.clone(),
            ),
        ),
        (
            "Mutation.setItemCost",
            case(
                Hidden,
                "mutation($i: ID!) { setItemCost(itemId: $i, cost: 1) { id } }",
                item.clone(),
            ),
        ),
        (
            "Mutation.setItemCosts",
            case(
                Hidden,
                "mutation($i: ID!) { setItemCosts(costs: [{ itemId: $i, cost: 1 }]) { id } }",
                item.clone(),
            ),
        ),
        (
            "Mutation.createCategory",
            case(
                Own,
                "mutation { createCategory(name: \"B's own\") { id } }",
                json!({}),
            ),
        ),
        (
            "Mutation.renameCategory",
            case(
                Hidden,
                "mutation($i: ID!) { renameCategory(id: $i, name: \"Taken\") { id } }",
                json!({ "i": a.category }),
            ),
        ),
        (
            "Mutation.deleteCategory",
            case(
                Hidden,
                "mutation($i: ID!) { deleteCategory(id: $i) }",
                json!({ "i": a.category }),
            ),
        ),
        (
            "Mutation.createItem",
            case(
                Hidden,
                "mutation($c: ID!) { createItem(input: { categoryId: $c, name: \"Intruder\", price: 1 }) { id } }",
                json!({ "c": a.category }),
            ),
        ),
        (
            "Mutation.updateItem",
            case(
                Hidden,
                "mutation($i: ID!) { updateItem(id: $i, input: { price: 1 }) { id } }",
                item.clone(),
            ),
        ),
        (
            "Mutation.deleteItem",
            case(
                Hidden,
                "mutation($i: ID!) { deleteItem(id: $i) }",
                item.clone(),
            ),
        ),
        (
            "Mutation.placeOrder",
            case(
                Hidden,
                "mutation($l: [OrderLineInput!]!) { placeOrder(tableNo: 1, lines: $l) { id } }",
                lines.clone(),
            ),
        ),
        (
            "Mutation.setOrderLines",
            case(
                Hidden,
                "mutation($l: [OrderLineInput!]!) { setOrderLines(tableNo: 1, lines: $l) { id } }",
                lines.clone(),
            ),
        ),
        (
            "Mutation.cancelOrder",
            case(
                Hidden,
                "mutation { cancelOrder(tableNo: 1) { id } }",
                json!({}),
            ),
        ),
        (
            "Mutation.checkout",
            case(
                Hidden,
                "mutation { checkout(input: { tableNo: 1, idempotencyKey: \"b-1\", payments: [{ method: CASH, amount: 6000 }] }) { id } }",
                json!({}),
            ),
        ),
        (
            "Mutation.refundSale",
            case(
                Hidden,
                "mutation($s: ID!) { refundSale(input: { saleId: $s, idempotencyKey: \"b-r\" }) { id } }",
                json!({ "s": a.sale }),
            ),
        ),
        (
            "Mutation.closeBusinessDay",
            case(
                Own,
                "mutation($d: Date!) { closeBusinessDay(businessDate: $d, counted: [{ method: CASH, amount: 0 }]) { businessDate } }",
                day.clone(),
            ),
        ),
        (
            "Mutation.signUp",
            case(
                Public,
                "mutation($u: String!) { signUp(input: { username: $u, password: \"the-password\", ownerName: \"C\", phone: \"+82 10-0000-0000\", name: \"C\", address: \"C\", storeType: \"cafe\" }) { store { id } } }",
                json!({ "u": unique_username("store-c") }),
            ),
        ),
        (
            "Mutation.login",
            case(
                Public,
                "mutation($u: String!) { login(username: $u, password: \"a-wrong-guess\") { token } }",
                json!({ "u": a.username }),
            ),
        ),
        (
            "Mutation.updateStore",
            case(
                Own,
                "mutation { updateStore(input: { name: \"B renamed\" }) { id } }",
                json!({}),
            ),
        ),
        (
            "Mutation.changePassword",
            case(
                Own,
                "mutation { changePassword(currentPassword: \"not-it-at-all\", newPassword: \"another-one\") }",
                json!({}),
            ),
        ),
        (
            "Mutation.verifyPassword",
            case(
                Own,
                "mutation { verifyPassword(password: \"not-it-at-all\") }",
                json!({}),
            ),
        ),
        (
            "Mutation.deleteStore",
            case(
                Own,
                "mutation { deleteStore(password: \"not-it-at-all\") }",
                json!({}),
            ),
        ),
        (
            "Subscription.consultingResult",
            case(
                Hidden,
                "subscription($i: ID!) { consultingResult(requestId: $i) { status } }",
                json!({ "i": a.request }),
            ),
        ),
        (
            "Subscription.tableChanged",
            case(Own, "subscription { tableChanged { id } }", json!({})),
        ),
    ])
}

/// Whether `body` shows any of A's data.
fn leaks(body: &Value, a: &StoreA) -> bool {
    let text = body.to_string();
    text.contains(MARKER) || text.contains(&a.store_id) || text.contains(&a.order)
}

/// Checks B's answer to one case.
fn judge(name: &str, case: &Case, response: &GraphqlResponse, a: &StoreA) {
    assert!(
        !leaks(&response.body, a),
        "{name}: B saw A's data: {}",
        response.body
    );
    assert_ne!(
        response.error_code().as_deref(),
        Some("INTERNAL"),
        "{name}: {}",
        response.body
    );
    if case.expect == Expect::Hidden {
        let field = name.split('.').nth(1).expect("a field");
        let hidden = response.error_code().as_deref() == Some("NOT_FOUND")
            || response.body["data"][field].is_null() && response.errors().is_empty();
        assert!(hidden, "{name}: not hidden from B: {}", response.body);
    }
}

/// Sends a subscription case over the router's WebSocket; its first message
/// as a response, or none within `wait`.
async fn subscribe(
    system: &TestSystem,
    token: Option<&str>,
    case: &Case,
    wait: Duration,
) -> Option<GraphqlResponse> {
    let query = inline(&case.query, &case.variables);
    let mut subscription = match token {
        Some(token) => WsSubscription::start(&system.router_ws_url(), token, &query).await,
        None => WsSubscription::start_anonymous(&system.router_ws_url(), &query).await,
    };
    let message = subscription.next_message(wait).await?;
    let body = match message["type"].as_str() {
        Some("error") => json!({ "errors": message["payload"] }),
        _ => message["payload"].clone(),
    };
    Some(GraphqlResponse { status: 200, body })
}

/// The subscription with its variables written in (the WebSocket helper
/// sends no variables).
fn inline(query: &str, variables: &Value) -> String {
    let mut query = query.to_string();
    if let Some(start) = query.find('(')
        && query.starts_with("subscription(")
    {
        let end = query.find(')').expect("a closing parenthesis");
        query.replace_range(start..=end, "");
    }
    for (name, value) in variables.as_object().into_iter().flatten() {
        query = query.replace(&format!("${name}"), &value.to_string());
    }
    query
}

#[tokio::test]
async fn store_b_and_anonymous_callers_reach_nothing_of_store_a() {
    let system = TestSystem::start().await;
    let a = open_store_a(&system).await;
    let (b_token, _) = system
        .sign_up(&unique_username("store-b"), "b-password")
        .await;
    let b = system.client().with_token(&b_token);
    let before = snapshot(&a).await;

    let fields = root_fields();
    let cases = cases(&a);
    let named: BTreeSet<&str> = cases.keys().copied().collect();
    let in_schema: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        in_schema, named,
        "every root field of the supergraph needs a case here (and only those)"
    );

    for (name, case) in &cases {
        let subgraph = &fields[*name];
        if name.starts_with("Subscription.") {
            // B: another store's request is NOT_FOUND (after the wait for a
            // request just made); B's own table feed stays silent while A's
            // tables change.
            let wait = Duration::from_secs(20);
            let a_changes = async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                a.client
                    .query(
                        "mutation($i: ID!) { placeOrder(tableNo: 3, lines: [{ itemId: $i, quantity: 1 }]) { id } }",
                        json!({ "i": a.item }),
                    )
                    .await
                    .data_or_panic();
                a.client
                    .query("mutation { cancelOrder(tableNo: 3) { id } }", json!({}))
                    .await
                    .data_or_panic();
            };
            let (response, ()) =
                tokio::join!(subscribe(&system, Some(&b_token), case, wait), a_changes);
            match case.expect {
                Expect::Hidden => {
                    let response = response.expect("B is told");
                    judge(name, case, &response, &a);
                }
                _ => assert!(response.is_none(), "{name}: {response:?}"),
            }
            let anonymous = subscribe(&system, None, case, wait)
                .await
                .expect("an anonymous subscriber is told");
            assert_eq!(
                anonymous.error_code().as_deref(),
                Some("UNAUTHENTICATED"),
                "{name} anonymously: {:?}",
                anonymous.body
            );
            continue;
        }
        let response = b.query(&case.query, case.variables.clone()).await;
        judge(name, case, &response, &a);
        let direct = system
            .direct(subgraph)
            .with_token(&b_token)
            .query(&case.query, case.variables.clone())
            .await;
        judge(&format!("{name} at {subgraph}"), case, &direct, &a);

        if case.expect != Expect::Public {
            for (how, client) in [
                ("through the router", system.client()),
                ("at the subgraph", system.direct(subgraph)),
            ] {
                let response = client.query(&case.query, case.variables.clone()).await;
                assert_eq!(
                    response.error_code().as_deref(),
                    Some("UNAUTHENTICATED"),
                    "{name} anonymously {how}: {}",
                    response.body
                );
            }
        }
    }

    // Entity resolution, at each subgraph that resolves the entity: B naming
    // A's ids finds nothing; no token finds nothing either.
    let ids = BTreeMap::from([
        ("ConsultingRequest", a.request.clone()),
        ("Item", a.item.clone()),
        ("Category", a.category.clone()),
        ("Store", a.store_id.clone()),
        ("Order", a.order.clone()),
        ("Sale", a.sale.clone()),
    ]);
    // A subgraph that only contributes fields to another's entity resolves
    // any reference to a stub whose fields are the caller's own: for A's
    // id they must be empty. Every other subgraph owns the entity and finds
    // nothing.
    let contributed = BTreeMap::from([
        (("Item", "dashboard"), "cost"),
        (("Order", "sale"), "sale { id }"),
    ]);
    let mut resolved = BTreeSet::new();
    for (entity, subgraph) in entities() {
        let id = ids
            .get(entity.as_str())
            .unwrap_or_else(|| panic!("entity {entity} needs one of A's ids here"));
        let fields = contributed
            .get(&(entity.as_str(), subgraph.as_str()))
            .copied();
        let query = format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ __typename ... on {entity} {{ {} }} }} }}",
            fields.unwrap_or("__typename")
        );
        let query = query.as_str();
        let variables = json!({ "r": [{ "__typename": entity, "id": id }] });
        let response = system
            .direct(&subgraph)
            .with_token(&b_token)
            .query(query, variables.clone())
            .await;
        let found = &response.body["data"]["_entities"][0];
        let hidden = response.error_code().as_deref() == Some("NOT_FOUND")
            || found.is_null()
            || fields.is_some()
                && found
                    .as_object()
                    .is_some_and(|o| o.iter().all(|(k, v)| k == "__typename" || v.is_null()));
        assert!(
            hidden,
            "{entity} at {subgraph} resolved A's {id} for B: {}",
            response.body
        );
        let anonymous = system.direct(&subgraph).query(query, variables).await;
        assert_eq!(
            anonymous.error_code().as_deref(),
            Some("UNAUTHENTICATED"),
            "{entity} at {subgraph} without a token: {}",
            anonymous.body
        );
        resolved.insert(entity);
    }
    assert_eq!(resolved.len(), ids.len(), "every entity was tried");

    assert_eq!(snapshot(&a).await, before, "A's data changed");
}

#[tokio::test]
async fn internal_endpoints_are_not_routed_and_refuse_a_wrong_key() {
    let system = TestSystem::start().await;
    let a = open_store_a(&system).await;
    let http = reqwest::Client::new();
    let router_base = system.router_url.trim_end_matches("/graphql").to_string();
    for (subgraph, path) in [
        ("order", "/internal/orders/pay"),
        ("item", "/internal/items/lookup"),
        ("sale", "/internal/sales/history"),
        ("sale", "/internal/sales/stores"),
        ("dashboard", "/internal/dashboard/report"),
    ] {
        let body =
            json!({ "storeId": a.store_id, "tableNo": 1, "from": week_ago(), "to": today() });
        let through_router = http
            .post(format!("{router_base}{path}"))
            .header("x-salesync-internal-key", salesync_tests::INTERNAL_KEY)
            .json(&body)
            .send()
            .await
            .expect("the router answers");
        // The router forwards only GraphQL: any other path gets its own
        // welcome page, never a subgraph's answer.
        let content_type = through_router
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let page = through_router.text().await.expect("a body");
        assert!(
            content_type.starts_with("text/html") && page.contains("Hive Router"),
            "{path} through the router: {content_type} {page}"
        );
        let base = system
            .url(subgraph)
            .trim_end_matches("/graphql")
            .to_string();
        for key in [None, Some("a-wrong-key")] {
            let mut request = http.post(format!("{base}{path}")).json(&body);
            if let Some(key) = key {
                request = request.header("x-salesync-internal-key", key);
            }
            let response = request.send().await.expect("the subgraph answers");
            assert_eq!(response.status().as_u16(), 403, "{path} with key {key:?}");
        }
    }
}
