//! The sale subgraph's own configuration: the subgraphs it calls
//! (`[upstream]`), how often recovery looks at unfinished checkouts
//! (`[recovery]`), and a fault switch for tests (`[faults]`).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SaleSections {
    pub upstream: UpstreamSettings,
    pub recovery: RecoverySettings,
    pub faults: FaultSettings,
}

/// The subgraphs the sale subgraph calls directly (not through the router).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// The order subgraph: the table's open order, and its pay endpoint
    /// beside the GraphQL one (`/internal/orders/pay`).
    pub order_url: String,
    /// The store subgraph: a store's calendar when no event brought it yet.
    pub store_url: String,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            order_url: "http://127.0.0.1:4103/graphql".to_string(),
            store_url: "http://127.0.0.1:4101/graphql".to_string(),
        }
    }
}

/// Checkouts a crash left pending are finished (or given up) by a task that
/// runs at start-up and then every `interval_seconds`, taking those older
/// than `grace_seconds` (younger ones are still in flight).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct RecoverySettings {
    pub interval_seconds: u64,
    pub grace_seconds: i64,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        RecoverySettings {
            interval_seconds: 30,
            grace_seconds: 30,
        }
    }
}

/// Stops a checkout between two of its steps, as a crash would, so tests
/// can prove recovery balances the books. Off unless configured.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FaultSettings {
    pub checkout_stop_after: CheckoutStep,
}

/// A step of a checkout after which the fault switch stops it.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStep {
    /// No step: the switch is off.
    #[default]
    Never,
    /// The pending sale is written; the order is not paid yet.
    Pending,
    /// The order is paid; the sale is not completed yet.
    Paid,
}
