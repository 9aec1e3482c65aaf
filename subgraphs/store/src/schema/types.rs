use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::db::stores;

/// A shop or restaurant using Salesync: its owner's account and its profile.
#[derive(Debug, Clone, SimpleObject)]
pub struct Store {
    /// The store's opaque id.
    pub id: ID,
    /// The login name: 3–32 of a-z, 0-9, `.`, `_`, `-`.
    pub username: String,
    /// The owner's name.
    pub owner_name: String,
    /// A phone number to reach the store.
    pub phone: String,
    /// The store's name as guests see it.
    pub name: String,
    /// The store's street address.
    pub address: String,
    /// What kind of business this is, such as "restaurant" or "cafe".
    pub store_type: String,
    /// Tables on the floor; orders are rung up for table 1 to this number.
    pub table_count: i32,
    /// The IANA time zone in which the store's business days are counted.
    pub timezone: String,
    /// The ISO 4217 currency of every Money amount of this store. Fixed at sign-up.
    pub currency: String,
    /// When the store signed up.
    pub created_at: DateTime<Utc>,
}

impl From<stores::Model> for Store {
    fn from(row: stores::Model) -> Self {
        Store {
            id: ID(row.id.to_string()),
            username: row.username,
            owner_name: row.owner_name,
            phone: row.phone,
            name: row.name,
            address: row.address,
            store_type: row.store_type,
            table_count: row.table_count,
            timezone: row.timezone,
            currency: row.currency,
            created_at: row.created_at,
        }
    }
}

/// A signed-in session: send `token` as `Authorization: Bearer <token>`.
#[derive(Debug, SimpleObject)]
pub struct AuthPayload {
    /// The bearer token.
    pub token: String,
    /// When the token stops working; log in again after.
    pub expires_at: DateTime<Utc>,
    /// The signed-in store.
    pub store: Store,
}

/// Everything needed to open a store.
#[derive(Debug, InputObject)]
pub struct SignUpInput {
    /// The login name: 3–32 of a-z, 0-9, `.`, `_`, `-` (stored in lower case).
    pub username: String,
    /// At least 8 characters.
    pub password: String,
    /// The owner's name.
    pub owner_name: String,
    /// A phone number to reach the store.
    pub phone: String,
    /// The store's name.
    pub name: String,
    /// The store's street address.
    pub address: String,
    /// What kind of business this is, such as "restaurant" or "cafe".
    pub store_type: String,
    /// Tables on the floor, 1–500. Default 12.
    pub table_count: Option<i32>,
    /// An IANA time zone. Default "Asia/Seoul".
    pub timezone: Option<String>,
    /// An ISO 4217 currency code. Default "KRW". Cannot be changed later.
    pub currency: Option<String>,
}

/// Changes to the store's profile; absent fields stay as they are.
#[derive(Debug, InputObject)]
pub struct UpdateStoreInput {
    /// The owner's name.
    pub owner_name: Option<String>,
    /// A phone number to reach the store.
    pub phone: Option<String>,
    /// The store's name.
    pub name: Option<String>,
    /// The store's street address.
    pub address: Option<String>,
    /// What kind of business this is.
    pub store_type: Option<String>,
    /// Tables on the floor, 1–500.
    pub table_count: Option<i32>,
    /// An IANA time zone.
    pub timezone: Option<String>,
}
