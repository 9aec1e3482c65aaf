use async_graphql::{Context, ID, Object};
use salesync_common::{Result, auth::CallerExt};

use super::types::Store;
use crate::{domain::Username, service::Accounts};

pub struct Query;

#[Object]
impl Query {
    /// The signed-in store.
    #[tracing::instrument(skip_all)]
    async fn me(&self, ctx: &Context<'_>) -> Result<Store> {
        let accounts = ctx.data_unchecked::<Accounts>();
        Ok(accounts.me(ctx.store_id()?).await?.into())
    }

    /// Whether a username is still free to sign up with. A malformed
    /// username is `BAD_USER_INPUT`, so forms can show why.
    async fn username_available(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username to check.")] username: String,
    ) -> Result<bool> {
        let username = Username::parse("username", &username)?;
        ctx.data_unchecked::<Accounts>()
            .username_available(&username)
            .await
    }

    /// Resolves a `Store` reference: only the caller's own store resolves.
    #[graphql(entity)]
    async fn find_store_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Store> {
        let store_id = ctx.own_store(&id)?;
        Ok(ctx.data_unchecked::<Accounts>().me(store_id).await?.into())
    }
}
