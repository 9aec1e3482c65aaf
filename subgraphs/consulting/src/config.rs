//! The consulting subgraph's own configuration: the dashboard it reads
//! reports from (`[upstream]`), the model (`[model]`) and the workers
//! (`[worker]`).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConsultingSections {
    pub upstream: UpstreamSettings,
    pub model: ModelSettings,
    pub worker: WorkerSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// The dashboard subgraph: the period's report, from its internal
    /// endpoint beside the GraphQL one (`/internal/dashboard/report`).
    pub dashboard_url: String,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            dashboard_url: "http://127.0.0.1:4105/graphql".to_string(),
        }
    }
}

/// An OpenAI-compatible model. Without a key (here or `OPENAI_API_KEY`),
/// the built-in analyst writes the advice.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ModelSettings {
    /// Else `OPENAI_API_KEY`. A secret: never logged.
    pub api_key: Option<SecretString>,
    /// Else `OPENAI_BASE_URL`, else OpenAI's.
    pub base_url: Option<String>,
    pub name: String,
    /// A call that takes longer ends `FAILED`.
    pub timeout_seconds: u64,
    /// How often the text so far is published while it is written.
    pub progress_interval_ms: u64,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            api_key: None,
            base_url: None,
            name: "gpt-4o-mini".to_string(),
            timeout_seconds: 120,
            progress_interval_ms: 500,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// Requests worked at once by one replica.
    pub concurrency: usize,
    /// How often a replica looks for requests another one took in.
    pub poll_seconds: u64,
    /// How long a worker owns a running request without news of it; a
    /// request left running longer (its worker crashed) is taken again.
    pub lease_seconds: i64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 4,
            poll_seconds: 2,
            lease_seconds: 30,
        }
    }
}
