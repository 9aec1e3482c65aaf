use async_graphql::{Context, Object};
use salesync_common::{Result, auth::CallerExt, graphql::ClientAddress};

use super::types::{AuthPayload, SignUpInput, Store, UpdateStoreInput};
use crate::{domain::NewPassword, service::Accounts};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Opens a store and signs it in.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<AuthPayload> {
        let accounts = ctx.data_unchecked::<Accounts>();
        Ok(accounts.sign_up(input.try_into()?).await?.into())
    }

    /// Signs a store in. A wrong username and a wrong password give the same
    /// error; after repeated failures the username, and the address they
    /// came from, are locked for a while (`extensions.reason`
    /// `TOO_MANY_ATTEMPTS`, with `retryAfterSeconds`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The store's username.")] username: String,
        #[graphql(desc = "The store's password.")] password: String,
    ) -> Result<AuthPayload> {
        let accounts = ctx.data_unchecked::<Accounts>();
        let from = ctx.data_opt::<ClientAddress>().and_then(|a| a.0);
        Ok(accounts.login(&username, password, from).await?.into())
    }

    /// Changes the signed-in store's profile.
    async fn update_store(&self, ctx: &Context<'_>, input: UpdateStoreInput) -> Result<Store> {
        let changes = input.try_into()?;
        let accounts = ctx.data_unchecked::<Accounts>();
        Ok(accounts.update(ctx.store_id()?, changes).await?.into())
    }

    /// Changes the password after checking the current one, and signs the
    /// store out everywhere: every token issued before, this one included,
    /// is refused within seconds by every subgraph. Log in again with the
    /// new password for a new token.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password in use now.")] current_password: String,
        #[graphql(desc = "The new password: 8 to 128 characters.")] new_password: String,
    ) -> Result<bool> {
        let new_password = NewPassword::parse("newPassword", &new_password)?;
        let accounts = ctx.data_unchecked::<Accounts>();
        accounts
            .change_password(ctx.store_id()?, current_password, new_password)
            .await?;
        Ok(true)
    }

    /// Re-checks the signed-in store's password before a sensitive screen.
    /// Failures count towards the login throttle.
    async fn verify_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password to check.")] password: String,
    ) -> Result<bool> {
        let accounts = ctx.data_unchecked::<Accounts>();
        accounts.verify_password(ctx.store_id()?, password).await
    }

    /// Closes the store for good after checking its password: it can no
    /// longer sign in, and its data is removed from every subgraph.
    async fn delete_store(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The store's password.")] password: String,
    ) -> Result<bool> {
        let accounts = ctx.data_unchecked::<Accounts>();
        accounts.delete(ctx.store_id()?, password).await?;
        Ok(true)
    }
}
