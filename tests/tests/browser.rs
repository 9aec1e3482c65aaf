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

use std::process::Stdio;

use salesync_tests::{Options, TestBus, TestSystem};

#[tokio::test(flavor = "multi_thread")]
async fn the_playground_and_two_terminals_work_in_a_browser() {
    let root = salesync::repo_root();
    let web = root.join("web");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ (scripts/test does)"
    );
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

    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-reporter=spec", "browser/"])
        .current_dir(&web)
        .env("SALESYNC_ROUTER_URL", &system.router_url)
        .env("CHROMIUM_PATH", &chromium)
        .env("SALESYNC_APP_PORT", app_port.to_string())
        .env("SALESYNC_SCREENSHOTS", root.join("target/browser"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    salesync::dies_with_parent(&mut node);
    let output = tokio::time::timeout(std::time::Duration::from_secs(180), node.output())
        .await
        .expect("the browser finishes within 3 minutes")
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    assert!(report.contains("pass 7"), "not every step ran:\n{report}");
}
