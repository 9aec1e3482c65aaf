use async_graphql::{Context, ID, Object};
use salesync_common::{Error, Result, auth::CallerExt};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::{StoreState, types::Store};
use crate::{db::stores, domain::Username};

pub struct Query;

#[Object]
impl Query {
    /// The signed-in store.
    #[tracing::instrument(skip_all)]
    async fn me(&self, ctx: &Context<'_>) -> Result<Store> {
        let store_id = ctx.store_id()?;
        load_caller_store(ctx, store_id).await.map(Store::from)
    }

    /// Whether a username is still free to sign up with. A malformed
    /// username is `BAD_USER_INPUT`, so forms can show why.
    async fn username_available(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username to check.")] username: String,
    ) -> Result<bool> {
        let username = Username::parse("username", &username)?;
        let state = ctx.data_unchecked::<StoreState>();
        let taken = crate::store_by_username(&state.db, username.as_str())
            .await?
            .is_some();
        Ok(!taken)
    }

    /// Resolves a `Store` reference: only the caller's own store resolves.
    #[graphql(entity)]
    async fn find_store_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Store> {
        let store_id = ctx.store_id()?;
        match Uuid::parse_str(&id) {
            Ok(requested) if requested == store_id => {
                load_caller_store(ctx, store_id).await.map(Store::from)
            }
            _ => Err(Error::not_found("no such store")),
        }
    }
}

/// The caller's store row. A valid token whose store was deleted no longer
/// authenticates anyone.
pub(crate) async fn load_caller_store(ctx: &Context<'_>, store_id: Uuid) -> Result<stores::Model> {
    let state = ctx.data_unchecked::<StoreState>();
    stores::Entity::find_by_id(store_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| Error::unauthenticated("this store no longer exists; sign up again"))
}
