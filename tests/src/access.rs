//! Whether a token acts for its store at every subgraph: one query per
//! subgraph that needs the caller's store, through the client's router.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::Client;

/// One query per subgraph that needs the caller's store.
pub const EVERY_SUBGRAPH: [(&str, &str); 6] = [
    ("store", "{ me { id } }"),
    ("item", "{ categories { id } }"),
    ("order", "{ openOrders { id } }"),
    (
        "sale",
        "{ salesSummary(from: \"2026-01-01\", to: \"2026-01-02\") { saleCount } }",
    ),
    (
        "dashboard",
        "{ dailyVolumes(from: \"2026-01-01\", to: \"2026-01-02\") { date } }",
    ),
    ("consulting", "{ consultingRequests { id } }"),
];

/// Every subgraph accepts the client's token.
pub async fn assert_accepted_everywhere(client: &Client) {
    for (subgraph, probe) in EVERY_SUBGRAPH {
        let response = client.query(probe, json!({})).await;
        assert!(
            response.errors().is_empty(),
            "{subgraph} refused a valid token: {:?}",
            response.errors()
        );
    }
}

/// Waits until every subgraph refuses the client's token, failing after
/// `within`; returns how long the slowest took.
pub async fn refused_everywhere(client: &Client, within: Duration) -> Duration {
    let started = Instant::now();
    for (subgraph, probe) in EVERY_SUBGRAPH {
        loop {
            let response = client.query(probe, json!({})).await;
            if response.error_code().as_deref() == Some("UNAUTHENTICATED") {
                break;
            }
            assert!(
                started.elapsed() < within,
                "{subgraph} still accepts the old token after {within:?}: {response:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    started.elapsed()
}
