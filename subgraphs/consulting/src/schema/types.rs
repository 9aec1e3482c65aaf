use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::scalars::Date;

use crate::{
    db::requests,
    domain::{ConsultingStatus, Language},
};

/// An owner's request for promotion advice on a period of sales.
#[derive(SimpleObject)]
pub struct ConsultingRequest {
    /// The request's opaque id: also the id of its result on the dashboard
    /// (`consultingResult(requestId:)`).
    pub id: ID,
    /// The first business day of the period.
    pub from: Date,
    /// The last business day of the period.
    pub to: Date,
    /// The language the advice is written in.
    pub language: Language,
    /// PENDING until a worker takes it, RUNNING while the advice is written,
    /// then COMPLETED or FAILED.
    pub status: ConsultingStatus,
    /// The advice in Markdown: the text so far while RUNNING, then all of it.
    pub content: Option<String>,
    /// Why it FAILED.
    pub error: Option<String>,
    /// The model that writes the advice, or `salesync-analyst` (built in).
    pub model: String,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When it ended.
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<requests::Model> for ConsultingRequest {
    fn from(row: requests::Model) -> Self {
        ConsultingRequest {
            id: ID(row.id.to_string()),
            from: Date(row.from_date),
            to: Date(row.to_date),
            language: row.language,
            status: row.status,
            content: row.content,
            error: row.error,
            model: row.model,
            requested_at: row.requested_at,
            completed_at: row.completed_at,
        }
    }
}
