use async_graphql::{Context, Object};
use salesync_common::{Result, auth::CallerExt, scalars::Date};

use super::{ConsultingState, types::ConsultingRequest};
use crate::domain::Language;

pub struct Mutation;

#[Object]
impl Mutation {
    /// Asks for promotion advice on business days `from` to `to` (inclusive,
    /// at most 366 days). Answers at once with the request, PENDING; the
    /// advice is written in the background and arrives on the dashboard's
    /// `consultingResult` subscription (progress, then the result).
    async fn request_consulting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day.")] from: Date,
        #[graphql(desc = "The last business day.")] to: Date,
        #[graphql(desc = "The language of the advice; Korean unless asked.")] language: Option<
            Language,
        >,
    ) -> Result<ConsultingRequest> {
        let state = ctx.data_unchecked::<ConsultingState>();
        let request = state
            .consulting
            .request(
                ctx.store_id()?,
                (from.0, to.0),
                language.unwrap_or_default(),
            )
            .await?;
        Ok(request.into())
    }
}
