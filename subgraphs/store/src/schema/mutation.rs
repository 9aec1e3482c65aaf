use async_graphql::{Context, Object};
use chrono::Utc;
use salesync_common::{
    Error, Result,
    auth::CallerExt,
    events::{Event, outbox, topics, types},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, TransactionTrait};
use uuid::Uuid;

use super::{
    StoreState,
    query::load_caller_store,
    types::{AuthPayload, SignUpInput, Store, UpdateStoreInput},
};
use crate::{
    db::{UQ_STORES_USERNAME, login_throttle, stores},
    domain::{self, NewPassword, Username},
    passwords,
};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Opens a store and signs it in.
    #[tracing::instrument(skip_all)]
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<StoreState>();
        let username = Username::parse("input.username", &input.username)?;
        let password = NewPassword::parse("input.password", &input.password)?;
        let now = Utc::now();
        let row = stores::ActiveModel {
            id: Set(Uuid::new_v4()),
            username: Set(username.as_str().to_string()),
            password_hash: Set(String::new()),
            owner_name: Set(domain::text("input.ownerName", &input.owner_name, 100)?),
            phone: Set(domain::phone("input.phone", &input.phone)?),
            name: Set(domain::text("input.name", &input.name, 100)?),
            address: Set(domain::text("input.address", &input.address, 200)?),
            store_type: Set(domain::text("input.storeType", &input.store_type, 50)?),
            table_count: Set(domain::table_count(
                "input.tableCount",
                input.table_count.unwrap_or(domain::DEFAULT_TABLE_COUNT),
            )?),
            timezone: Set(domain::timezone(
                "input.timezone",
                input
                    .timezone
                    .as_deref()
                    .unwrap_or(domain::DEFAULT_TIMEZONE),
            )?),
            currency: Set(domain::currency(
                "input.currency",
                input
                    .currency
                    .as_deref()
                    .unwrap_or(domain::DEFAULT_CURRENCY),
            )?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        // Hash only once every other rule passed: Argon2 is the costly part.
        let mut row = row;
        row.password_hash = Set(passwords::hash(password.expose().to_string()).await?);
        let store = row.insert(&state.db).await.map_err(|e| {
            if UQ_STORES_USERNAME.is_violated_by(&e) {
                Error::conflict("this username is taken")
            } else {
                Error::from(e)
            }
        })?;
        tracing::info!(store_id = %store.id, "store signed up");
        sign_in(state, store)
    }

    /// Signs a store in. A wrong username and a wrong password give the same
    /// error; after repeated failures the username is locked for a while.
    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The store's username.")] username: String,
        #[graphql(desc = "The store's password.")] password: String,
    ) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<StoreState>();
        let Ok(username) = Username::parse("username", &username) else {
            return Err(wrong_credentials());
        };
        let store = check_password(state, username.as_str(), password).await?;
        sign_in(state, store)
    }

    /// Changes the signed-in store's profile.
    #[tracing::instrument(skip_all)]
    async fn update_store(&self, ctx: &Context<'_>, input: UpdateStoreInput) -> Result<Store> {
        let state = ctx.data_unchecked::<StoreState>();
        let store_id = ctx.store_id()?;
        let mut row = load_caller_store(ctx, store_id).await?.into_active_model();
        if let Some(v) = &input.owner_name {
            row.owner_name = Set(domain::text("input.ownerName", v, 100)?);
        }
        if let Some(v) = &input.phone {
            row.phone = Set(domain::phone("input.phone", v)?);
        }
        if let Some(v) = &input.name {
            row.name = Set(domain::text("input.name", v, 100)?);
        }
        if let Some(v) = &input.address {
            row.address = Set(domain::text("input.address", v, 200)?);
        }
        if let Some(v) = &input.store_type {
            row.store_type = Set(domain::text("input.storeType", v, 50)?);
        }
        if let Some(v) = input.table_count {
            row.table_count = Set(domain::table_count("input.tableCount", v)?);
        }
        if let Some(v) = &input.timezone {
            row.timezone = Set(domain::timezone("input.timezone", v)?);
        }
        row.updated_at = Set(Utc::now());
        Ok(row.update(&state.db).await?.into())
    }

    /// Changes the password after checking the current one. Tokens already
    /// issued stay valid until they expire.
    #[tracing::instrument(skip_all)]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password in use now.")] current_password: String,
        #[graphql(desc = "The new password: at least 8 characters.")] new_password: String,
    ) -> Result<bool> {
        let state = ctx.data_unchecked::<StoreState>();
        let store = reconfirm(ctx, current_password).await?;
        let new_password = NewPassword::parse("newPassword", &new_password)?;
        let hash = passwords::hash(new_password.expose().to_string()).await?;
        let mut row = store.into_active_model();
        row.password_hash = Set(hash);
        row.updated_at = Set(Utc::now());
        row.update(&state.db).await?;
        Ok(true)
    }

    /// Re-checks the signed-in store's password before a sensitive screen.
    /// Failures count towards the login throttle.
    #[tracing::instrument(skip_all)]
    async fn verify_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password to check.")] password: String,
    ) -> Result<bool> {
        match reconfirm(ctx, password).await {
            Ok(_) => Ok(true),
            Err(Error::Forbidden(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Closes the store for good after checking its password: it can no
    /// longer sign in, and its data is removed from every subgraph.
    #[tracing::instrument(skip_all)]
    async fn delete_store(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The store's password.")] password: String,
    ) -> Result<bool> {
        let state = ctx.data_unchecked::<StoreState>();
        let store = reconfirm(ctx, password).await?;
        // The deletion and its event commit together: every other subgraph
        // learns of it (through the outbox) exactly when it happened.
        let txn = state.db.begin().await?;
        stores::Entity::delete_by_id(store.id).exec(&txn).await?;
        let event = Event::new(
            types::STORE_DELETED,
            store.id,
            StoreDeleted {
                username: store.username.clone(),
            },
        );
        outbox::enqueue(&txn, topics::STORES, &event).await?;
        txn.commit().await?;
        state.outbox.notify();
        tracing::info!(store_id = %store.id, "store deleted");
        Ok(true)
    }
}

/// The payload of `StoreDeleted` on `salesync.stores`.
#[derive(serde::Serialize)]
struct StoreDeleted {
    username: String,
}

fn sign_in(state: &StoreState, store: stores::Model) -> Result<AuthPayload> {
    let issued = state.tokens.issue(store.id, &store.username)?;
    Ok(AuthPayload {
        token: issued.token,
        expires_at: issued.expires_at,
        store: store.into(),
    })
}

fn wrong_credentials() -> Error {
    Error::unauthenticated("wrong username or password")
}

/// Checks `password` for `username` under the throttle: a locked username
/// is refused before any check, and a failure counts towards the lock.
async fn check_password(
    state: &StoreState,
    username: &str,
    password: String,
) -> Result<stores::Model> {
    if let Some(retry_after_secs) = login_throttle::locked_for(&state.db, username).await? {
        return Err(Error::Throttled {
            message: "too many failed attempts; try again later".to_string(),
            retry_after_secs,
        });
    }
    let store = crate::store_by_username(&state.db, username).await?;
    let stored_hash = store.as_ref().map(|s| s.password_hash.clone());
    if passwords::verify(password, stored_hash).await? {
        login_throttle::clear(&state.db, username).await?;
        store.ok_or_else(wrong_credentials)
    } else {
        login_throttle::record_failure(&state.db, username, state.login).await?;
        Err(wrong_credentials())
    }
}

/// The signed-in store, after its password was checked again.
/// A wrong password is `FORBIDDEN`: the caller is signed in, but not allowed.
async fn reconfirm(ctx: &Context<'_>, password: String) -> Result<stores::Model> {
    let state = ctx.data_unchecked::<StoreState>();
    let store_id = ctx.store_id()?;
    let store = load_caller_store(ctx, store_id).await?;
    match check_password(state, &store.username, password).await {
        Ok(checked) => Ok(checked),
        Err(Error::Unauthenticated(_)) => {
            Err(Error::Forbidden("the password is not correct".into()))
        }
        Err(other) => Err(other),
    }
}
