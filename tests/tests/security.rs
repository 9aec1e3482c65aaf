//! Who may act for a store, proven through the router: a password change or
//! a deletion makes the store's earlier tokens worthless at every subgraph.

use std::time::Duration;

use salesync_tests::{
    Client, Options, TestBus, TestSystem, WsSubscription,
    access::{self, EVERY_SUBGRAPH, assert_accepted_everywhere},
    unique_username,
};
use serde_json::json;

/// How long a subgraph may take to learn of a revocation through the broker:
/// less than the 30 s a token check answers from memory, so a subgraph that
/// only forgot what it knew, instead of hearing the change, fails.
const WITHIN: Duration = Duration::from_secs(20);

async fn kafka_system() -> TestSystem {
    TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        ..Options::default()
    })
    .await
}

/// Waits until every subgraph refuses the token through `client`.
async fn refused_everywhere(client: &Client) -> Duration {
    access::refused_everywhere(client, WITHIN).await
}

const TABLES: &str = "subscription { tableChanged { id } }";

/// The code of the error a subscription's first message carries.
async fn subscription_error(subscription: &mut WsSubscription) -> Option<String> {
    let message = subscription.next_message(Duration::from_secs(10)).await?;
    let errors = match message["type"].as_str() {
        Some("error") => message["payload"].clone(),
        _ => message["payload"]["errors"].clone(),
    };
    errors[0]["extensions"]["code"].as_str().map(str::to_string)
}

async fn log_in(system: &TestSystem, username: &str, password: &str) -> String {
    let response = system
        .client()
        .query(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            json!({ "u": username, "p": password }),
        )
        .await;
    response.data_or_panic()["login"]["token"]
        .as_str()
        .expect("token")
        .to_string()
}

#[tokio::test]
async fn a_password_change_signs_the_store_out_of_every_subgraph() {
    let system = kafka_system().await;
    let username = unique_username("revoke");
    let (first, _) = system.sign_up(&username, "the-password").await;
    let second = log_in(&system, &username, "the-password").await;
    let (bystander, _) = system
        .sign_up(&unique_username("bystander"), "the-password")
        .await;
    let first = system.client().with_token(&first);
    let second = system.client().with_token(&second);
    let bystander = system.client().with_token(&bystander);
    assert_accepted_everywhere(&first).await;
    assert_accepted_everywhere(&second).await;
    // A terminal following its tables: the router keeps a connection to
    // the order subgraph open for the token, and carries the token's later
    // subscriptions over it.
    let following = WsSubscription::start(
        &system.router_ws_url(),
        second.token().expect("token"),
        TABLES,
    )
    .await;

    let changed = first
        .query(
            "mutation { changePassword(currentPassword: \"the-password\", newPassword: \"a-new-password\") }",
            json!({}),
        )
        .await;
    assert_eq!(changed.data_or_panic()["changePassword"], true);

    // The terminal that changed it and the other one are both signed out,
    // through the router and at each subgraph directly.
    let took = refused_everywhere(&second).await;
    refused_everywhere(&first).await;
    for (subgraph, probe) in EVERY_SUBGRAPH {
        system
            .direct(subgraph)
            .with_token(second.token().expect("token"))
            .query(probe, json!({}))
            .await
            .expect_error("UNAUTHENTICATED");
    }
    eprintln!("every subgraph refused the old token after {took:?}");
    // Nor can the old token start a subscription, on the connection the
    // router already holds for it.
    let mut again = WsSubscription::start(
        &system.router_ws_url(),
        second.token().expect("token"),
        TABLES,
    )
    .await;
    assert_eq!(
        subscription_error(&mut again).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    drop(following);

    // The old password no longer logs in; the new one does, and its token
    // works everywhere. Another store never noticed.
    system
        .client()
        .query(
            "mutation($u: String!) { login(username: $u, password: \"the-password\") { token } }",
            json!({ "u": username }),
        )
        .await
        .expect_error("UNAUTHENTICATED");
    let fresh = log_in(&system, &username, "a-new-password").await;
    assert_accepted_everywhere(&system.client().with_token(&fresh)).await;
    assert_accepted_everywhere(&bystander).await;
}

#[tokio::test]
async fn a_deleted_stores_tokens_are_refused_by_every_subgraph() {
    let system = kafka_system().await;
    let username = unique_username("leaving");
    let (token, _) = system.sign_up(&username, "the-password").await;
    let other = log_in(&system, &username, "the-password").await;
    let client = system.client().with_token(&token);
    assert_accepted_everywhere(&client).await;

    let deleted = client
        .query(
            "mutation { deleteStore(password: \"the-password\") }",
            json!({}),
        )
        .await;
    assert_eq!(deleted.data_or_panic()["deleteStore"], true);

    refused_everywhere(&client).await;
    refused_everywhere(&system.client().with_token(&other)).await;
}

/// A token that cannot be checked because the subgraph's database is away is
/// refused as unavailable, never as a bad token: a front end retries instead
/// of signing the owner out.
#[tokio::test]
async fn a_token_that_cannot_be_checked_now_is_unavailable_not_unauthenticated() {
    use sea_orm::ConnectionTrait;

    let system = TestSystem::start().await;
    let (token, _) = system
        .sign_up(&unique_username("unchecked"), "the-password")
        .await;
    let item = system.direct("item").with_token(&token);
    let db = system.database("item").await;
    db.execute_unprepared("ALTER TABLE token_floors RENAME TO token_floors_away")
        .await
        .expect("hide the table");

    let response = item.query("{ categories { id } }", json!({})).await;
    let error = response.expect_error("INTERNAL");
    assert_eq!(error["extensions"]["reason"], "UNAVAILABLE", "{error}");
    assert!(
        error["extensions"]["retryAfterSeconds"].as_u64().is_some(),
        "{error}"
    );

    db.execute_unprepared("ALTER TABLE token_floors_away RENAME TO token_floors")
        .await
        .expect("restore the table");
    let response = item.query("{ categories { id } }", json!({})).await;
    assert!(response.errors().is_empty(), "{}", response.body);
}
