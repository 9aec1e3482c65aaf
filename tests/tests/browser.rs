//! The playground and the Apollo Client terminal in a real browser:
//! headless Chromium (Debian's, driven by playwright-core from
//! `web/browser/`) against this system through the real router.
//!
//! - The playground: the page and all its files come from the router,
//!   SignUp fills the token bar, a query runs as that store, a subscription
//!   over graphql-ws shows an order placed elsewhere, and nothing is fetched
//!   from any other host.
//! - The terminal (`web/app/`, served from an origin the router allows):
//!   two windows ring up one table and see each other's changes, a payment
//!   clears it on both, today's sales count it, the advice arrives.
//!
//! Screenshots: `target/browser/`. `scripts/test` installs Chromium
//! (`CHROMIUM_PATH` names another).

use salesync_tests::{Options, TestBus, TestSystem, web_tests};

#[tokio::test(flavor = "multi_thread")]
async fn the_playground_and_two_terminals_work_in_a_browser() {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: install Debian's `chromium` (scripts/test does) or set CHROMIUM_PATH"
    );
    // The terminal page's own origin, which the router must allow.
    let app_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let system = TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        router_env: vec![(
            "ROUTER_CORS_ORIGINS",
            format!("http://127.0.0.1:{app_port}"),
        )],
        ..Options::default()
    })
    .await;
    let screenshots = salesync::repo_root().join("target/browser");
    web_tests(
        "browser/",
        &system.router_url,
        &[
            ("CHROMIUM_PATH", chromium),
            ("SALESYNC_APP_PORT", app_port.to_string()),
            ("SALESYNC_SCREENSHOTS", screenshots.display().to_string()),
        ],
        7,
    )
    .await;
}
