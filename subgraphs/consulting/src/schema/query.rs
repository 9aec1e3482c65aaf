use async_graphql::{Context, ID, Object};
use salesync_common::{
    Error, Result,
    auth::CallerExt,
    input,
    loader::{FetchByIds, Scoped},
};
use uuid::Uuid;

use super::{ConsultingState, types::ConsultingRequest};
use crate::{db::requests, service::Consulting};

pub struct Query;

#[Object]
impl Query {
    /// One of the caller's requests; null if it has none with this id.
    async fn consulting_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: ID,
    ) -> Result<Option<ConsultingRequest>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&id, "consulting request") else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<ConsultingState>();
        Ok(state
            .by_id
            .load_one(Scoped { store_id, id })
            .await?
            .map(Into::into))
    }

    /// The caller's latest 100 requests, newest first.
    async fn consulting_requests(&self, ctx: &Context<'_>) -> Result<Vec<ConsultingRequest>> {
        let state = ctx.data_unchecked::<ConsultingState>();
        let rows = state.consulting.latest(ctx.store_id()?).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Resolves a `ConsultingRequest` reference of the caller's store.
    #[graphql(entity)]
    async fn find_consulting_request_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ConsultingRequest> {
        let key = Scoped {
            store_id: ctx.store_id()?,
            id: input::id(&id, "consulting request")?,
        };
        let state = ctx.data_unchecked::<ConsultingState>();
        state
            .by_id
            .load_one(key)
            .await?
            .map(Into::into)
            .ok_or_else(|| Error::not_found("no such consulting request"))
    }
}

/// Requests by id.
pub struct RequestsById(pub Consulting);

impl FetchByIds for RequestsById {
    type Value = requests::Model;

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<requests::Model>> {
        self.0.by_ids(store_id, ids).await
    }

    fn id_of(request: &requests::Model) -> Uuid {
        request.id
    }
}
