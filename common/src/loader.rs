//! Dataloaders scoped to the caller's store: every entity resolver and
//! nested field that looks rows up by id gathers its lookups of one request
//! into one statement per store (in practice one). Keys carry the store, so
//! a batch can never return another store's rows.

use std::{collections::HashMap, future::Future};

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use crate::{Error, Result};

/// An id as seen by one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scoped {
    pub store_id: Uuid,
    pub id: Uuid,
}

/// Groups keys by store.
pub fn by_store(keys: &[Scoped]) -> HashMap<Uuid, Vec<Uuid>> {
    let mut grouped: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for key in keys {
        grouped.entry(key.store_id).or_default().push(key.id);
    }
    grouped
}

/// How one kind of value is fetched by id for one store.
pub trait FetchByIds: Send + Sync + 'static {
    type Value: Clone + Send + Sync + 'static;
    /// The store's values with these ids; ids it does not have are absent.
    fn fetch(
        &self,
        store_id: Uuid,
        ids: Vec<Uuid>,
    ) -> impl Future<Output = Result<Vec<Self::Value>>> + Send;
    fn id_of(value: &Self::Value) -> Uuid;
}

/// Loads values by [`Scoped`] id through `F`.
pub struct ByIds<F>(F);

/// A dataloader of `F`'s values, batching within async-graphql's short delay.
pub fn by_ids<F: FetchByIds>(fetch: F) -> DataLoader<ByIds<F>> {
    DataLoader::new(ByIds(fetch), tokio::spawn)
}

impl<F: FetchByIds> Loader<Scoped> for ByIds<F> {
    type Value = F::Value;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, F::Value>> {
        let mut found = HashMap::new();
        for (store_id, ids) in by_store(keys) {
            for value in self.0.fetch(store_id, ids).await? {
                let id = F::id_of(&value);
                found.insert(Scoped { store_id, id }, value);
            }
        }
        Ok(found)
    }
}
