//! What the consulting and dashboard subgraphs share: the status of a
//! request for advice, and the events on `consulting` (the earlier system's
//! topic name) that carry its progress from one to the other: a request was
//! made, the advice so far while it is written, and how it ended.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a request stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    async_graphql::Enum,
    sea_orm::DeriveActiveEnum,
    Serialize,
    Deserialize,
    sea_orm::EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsultingStatus {
    /// Stored; a worker takes it shortly.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The advice is being written.
    #[sea_orm(string_value = "RUNNING")]
    Running,
    /// The advice is written.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// It could not be written; `error` says why.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

impl ConsultingStatus {
    /// Later stages replace earlier ones, never the reverse: pending, then
    /// running, then an end.
    pub fn stage(self) -> i32 {
        match self {
            ConsultingStatus::Pending => 0,
            ConsultingStatus::Running => 1,
            ConsultingStatus::Completed | ConsultingStatus::Failed => 2,
        }
    }

    /// Whether it ended.
    pub fn is_final(self) -> bool {
        self.stage() == 2
    }
}

pub const CONSULTING_REQUESTED: &str = "ConsultingRequested";
pub const CONSULTING_PROGRESS: &str = "ConsultingProgress";
pub const CONSULTING_COMPLETED: &str = "ConsultingCompleted";
pub const CONSULTING_FAILED: &str = "ConsultingFailed";

/// `ConsultingRequested`: a store asked for advice on a period.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultingRequested {
    pub request_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// `ConsultingProgress`: the advice written so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultingProgress {
    pub request_id: Uuid,
    pub content: String,
}

/// `ConsultingCompleted`: all of the advice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultingCompleted {
    pub request_id: Uuid,
    pub content: String,
    pub model: String,
    pub completed_at: DateTime<Utc>,
}

/// `ConsultingFailed`: why no advice could be written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultingFailed {
    pub request_id: Uuid,
    pub error: String,
    pub completed_at: DateTime<Utc>,
}
