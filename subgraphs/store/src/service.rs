//! What a store can do with its account: each use case, with its
//! transaction and the event it publishes.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use salesync_common::{
    Error, Result,
    events::{
        Event, outbox,
        outbox::OutboxSignal,
        store_access::{self, Change, StoreAccess, TokensRevoked},
        topics, types,
    },
};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::{
    config::LoginSettings,
    db::{
        login_throttle::{self, Subject},
        stores,
    },
    domain::{NewPassword, NewStore, StoreChanges, Username},
    events::{StoreDeleted, StoreProfile},
    passwords,
    tokens::TokenIssuer,
};

/// Sign-up, sign-in and the store's profile.
#[derive(Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    tokens: TokenIssuer,
    login: LoginSettings,
    outbox: OutboxSignal,
    /// Told of a revocation or deletion as soon as it commits: this
    /// replica's token checks answer from memory.
    access: StoreAccess,
}

/// A store and a token that acts for it.
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub store: stores::Model,
}

impl Accounts {
    pub fn new(
        db: DatabaseConnection,
        tokens: TokenIssuer,
        login: LoginSettings,
        outbox: OutboxSignal,
        access: StoreAccess,
    ) -> Self {
        Accounts {
            db,
            tokens,
            login,
            outbox,
            access,
        }
    }

    /// Opens the store and signs it in.
    #[tracing::instrument(skip_all, fields(username = store.username.as_str()))]
    pub async fn sign_up(&self, store: NewStore) -> Result<SignedIn> {
        // Every other rule passed before: Argon2 is the costly part.
        let hash = passwords::hash(store.password.expose().to_string()).await?;
        let txn = self.db.begin().await?;
        let store = stores::insert(&txn, store, hash).await?;
        let event = Event::new(types::STORE_OPENED, store.id, StoreProfile::from(&store));
        outbox::enqueue(&txn, topics::STORES, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(store_id = %store.id, "store signed up");
        self.sign_in(store)
    }

    /// Signs in with a username and password. A wrong username and a wrong
    /// password are the same error; a locked username, or an address that
    /// failed too often (`from`, when the router said where the call came
    /// from), is refused.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: String,
        from: Option<IpAddr>,
    ) -> Result<SignedIn> {
        let address = from.map(Subject::Address);
        if let Some(address) = &address {
            self.refuse_locked(address).await?;
        }
        let Ok(username) = Username::parse("username", username) else {
            if let Some(address) = &address {
                login_throttle::record_failure(&self.db, address, self.login).await?;
            }
            return Err(wrong_credentials());
        };
        let store = self
            .check_password(&username, password, address.as_ref())
            .await?;
        self.sign_in(store)
    }

    /// The caller's store. A valid token whose store was deleted no longer
    /// authenticates anyone.
    pub async fn me(&self, store_id: Uuid) -> Result<stores::Model> {
        stores::by_id(&self.db, store_id)
            .await?
            .ok_or_else(|| Error::unauthenticated("this store no longer exists; sign up again"))
    }

    pub async fn username_available(&self, username: &Username) -> Result<bool> {
        Ok(stores::by_username(&self.db, username.as_str())
            .await?
            .is_none())
    }

    /// Changes the profile; other subgraphs learn the new one from `StoreUpdated`.
    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn update(&self, store_id: Uuid, changes: StoreChanges) -> Result<stores::Model> {
        let store = self.me(store_id).await?;
        let txn = self.db.begin().await?;
        let store = stores::update(&txn, store, changes).await?;
        let event = Event::new(types::STORE_UPDATED, store.id, StoreProfile::from(&store));
        outbox::enqueue(&txn, topics::STORES, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(store)
    }

    /// Changes the password after checking the current one, and signs the
    /// store out everywhere: every token issued before, the caller's
    /// included, is refused here at once and by the other subgraphs as soon
    /// as `TokensRevoked` reaches them.
    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn change_password(
        &self,
        store_id: Uuid,
        current: String,
        new: NewPassword,
    ) -> Result<()> {
        let store = self.reconfirm(store_id, current).await?;
        let hash = passwords::hash(new.expose().to_string()).await?;
        let txn = self.db.begin().await?;
        let store = stores::set_password_hash(&txn, store, hash).await?;
        let revoked = TokensRevoked {
            generation: store.token_generation,
        };
        store_access::raise_floor(&txn, store.id, revoked.generation).await?;
        let event = Event::new(types::TOKENS_REVOKED, store.id, revoked);
        outbox::enqueue(&txn, topics::STORES, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        // Refused here at once; other replicas hear it on the bus.
        self.access
            .learn(store.id, Change::Revoked(revoked.generation));
        tracing::info!(
            generation = revoked.generation,
            "password changed; older tokens revoked"
        );
        Ok(())
    }

    /// Whether `password` is the caller's. Failures count towards the lock.
    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn verify_password(&self, store_id: Uuid, password: String) -> Result<bool> {
        match self.reconfirm(store_id, password).await {
            Ok(_) => Ok(true),
            Err(Error::Forbidden(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Closes the store for good after checking its password. The deletion
    /// and its `StoreDeleted` event commit together: every other subgraph
    /// learns of it (through the outbox) exactly when it happened.
    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn delete(&self, store_id: Uuid, password: String) -> Result<()> {
        let store = self.reconfirm(store_id, password).await?;
        let txn = self.db.begin().await?;
        stores::delete(&txn, store.id).await?;
        store_access::record_deleted(&txn, store.id).await?;
        let event = Event::new(
            types::STORE_DELETED,
            store.id,
            StoreDeleted {
                username: store.username,
            },
        );
        outbox::enqueue(&txn, topics::STORES, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        self.access.learn(store.id, Change::Deleted);
        tracing::info!("store deleted");
        Ok(())
    }

    fn sign_in(&self, store: stores::Model) -> Result<SignedIn> {
        let issued = self
            .tokens
            .issue(store.id, &store.username, store.token_generation)?;
        Ok(SignedIn {
            token: issued.token,
            expires_at: issued.expires_at,
            store,
        })
    }

    /// Checks `password` for `username` under the throttle: a locked username
    /// is refused before any check, and a failure counts towards the lock of
    /// the username and of the `address` it came from.
    async fn check_password(
        &self,
        username: &Username,
        password: String,
        address: Option<&Subject>,
    ) -> Result<stores::Model> {
        let subject = Subject::username(username);
        self.refuse_locked(&subject).await?;
        let store = stores::by_username(&self.db, username.as_str()).await?;
        let stored_hash = store.as_ref().map(|s| s.password_hash.clone());
        if passwords::verify(password, stored_hash).await? {
            login_throttle::clear(&self.db, username).await?;
            store.ok_or_else(wrong_credentials)
        } else {
            for subject in std::iter::once(&subject).chain(address) {
                login_throttle::record_failure(&self.db, subject, self.login).await?;
            }
            Err(wrong_credentials())
        }
    }

    /// `TOO_MANY_ATTEMPTS` while `subject` is locked.
    async fn refuse_locked(&self, subject: &Subject) -> Result<()> {
        match login_throttle::locked_for(&self.db, subject).await? {
            Some(retry_after_secs) => Err(Error::Throttled {
                message: "too many failed attempts; try again later".to_string(),
                retry_after_secs,
            }),
            None => Ok(()),
        }
    }

    /// The caller's store, after its password was checked again. A wrong
    /// password is `FORBIDDEN`: the caller is signed in, but not allowed.
    async fn reconfirm(&self, store_id: Uuid, password: String) -> Result<stores::Model> {
        let store = self.me(store_id).await?;
        let username = Username::parse("username", &store.username)
            .map_err(|_| Error::internal(anyhow::anyhow!("stored username is invalid")))?;
        match self.check_password(&username, password, None).await {
            Ok(checked) => Ok(checked),
            Err(Error::Unauthenticated(_)) => Err(Error::forbidden("the password is not correct")),
            Err(other) => Err(other),
        }
    }
}

fn wrong_credentials() -> Error {
    Error::unauthenticated("wrong username or password")
}
