//! The front end's own tests: `web/test/` drives a restaurant's day through
//! Apollo Client and graphql-ws (the set-up a POS web app copies) against
//! this system: PostgreSQL, the broker, the real router, real WebSockets.
//! Once as is, once through a router that runs only persisted documents.
//! `scripts/test` installs `web/`'s packages (`npm ci`) first.

use std::process::Stdio;

use salesync_tests::{Options, TestBus, TestSystem};

/// Runs `node --test` in web/ against a fresh system; returns its report.
async fn run_scenario(trusted_documents: bool) -> String {
    let web = salesync::repo_root().join("web");
    assert!(
        web.join("node_modules/@apollo/client").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ (scripts/test does)"
    );
    let router_env = if trusted_documents {
        vec![("ROUTER_PERSISTED_DOCUMENTS", "true".to_string())]
    } else {
        Vec::new()
    };
    let system = TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        router_env,
        ..Options::default()
    })
    .await;

    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-reporter=spec", "test/"])
        .current_dir(&web)
        .env("SALESYNC_ROUTER_URL", &system.router_url)
        .env(
            "SALESYNC_PERSISTED_DOCUMENTS",
            if trusted_documents { "1" } else { "0" },
        )
        .stdin(Stdio::null())
        .kill_on_drop(true);
    salesync::dies_with_parent(&mut node);
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), node.output())
        .await
        .expect("the scenario finishes within 2 minutes")
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the Apollo Client scenario failed:\n{report}"
    );
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restaurant_day_through_apollo_client() {
    let report = run_scenario(false).await;
    // Every step ran (a file that stopped loading would pass with none);
    // the trusted-documents step is skipped here.
    assert!(report.contains("pass 5"), "not every step ran:\n{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_day_through_a_router_that_runs_only_persisted_documents() {
    let report = run_scenario(true).await;
    assert!(report.contains("pass 6"), "not every step ran:\n{report}");
}
