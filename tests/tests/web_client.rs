//! The front end's own tests: `web/test/` drives a restaurant's day through
//! Apollo Client and graphql-ws (the set-up a POS web app copies) against
//! this system: PostgreSQL, the broker, the real router, real WebSockets.
//! Once as is, once through a router that runs only persisted documents.
//! `scripts/test` installs `web/`'s packages (`npm ci`) first.

use salesync_tests::{Options, TestBus, TestSystem, web_tests};

async fn system(router_env: Vec<(&'static str, String)>) -> TestSystem {
    TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        router_env,
        ..Options::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restaurant_day_through_apollo_client() {
    let system = system(Vec::new()).await;
    // Every step but the trusted-documents one, which is skipped here.
    web_tests(
        "test/",
        &system.router_url,
        &[("SALESYNC_PERSISTED_DOCUMENTS", "0".into())],
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_day_through_a_router_that_runs_only_persisted_documents() {
    let system = system(vec![("ROUTER_PERSISTED_DOCUMENTS", "true".into())]).await;
    web_tests(
        "test/",
        &system.router_url,
        &[("SALESYNC_PERSISTED_DOCUMENTS", "1".into())],
        6,
    )
    .await;
}
