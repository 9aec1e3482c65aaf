use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::Error;

use crate::{
    db::stores,
    domain::{self, NewPassword, NewStore, StoreChanges, Username},
    service::SignedIn,
};

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
    /// The local hour (0-23) at which the business day turns: with 4, a sale
    /// at 01:30 counts for the day before. Default 0 (midnight).
    pub closeout_hour: i32,
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
            closeout_hour: row.closeout_hour,
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

impl From<SignedIn> for AuthPayload {
    fn from(signed_in: SignedIn) -> Self {
        AuthPayload {
            token: signed_in.token,
            expires_at: signed_in.expires_at,
            store: signed_in.store.into(),
        }
    }
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
    /// The local hour (0-23) at which the business day turns.
    pub closeout_hour: Option<i32>,
}

impl TryFrom<SignUpInput> for NewStore {
    type Error = Error;

    fn try_from(input: SignUpInput) -> Result<Self, Error> {
        Ok(NewStore {
            username: Username::parse("input.username", &input.username)?,
            password: NewPassword::parse("input.password", &input.password)?,
            owner_name: domain::name("input.ownerName", &input.owner_name)?,
            phone: domain::phone("input.phone", &input.phone)?,
            name: domain::name("input.name", &input.name)?,
            address: domain::address("input.address", &input.address)?,
            store_type: domain::store_type("input.storeType", &input.store_type)?,
            table_count: domain::table_count(
                "input.tableCount",
                input.table_count.unwrap_or(domain::DEFAULT_TABLE_COUNT),
            )?,
            timezone: domain::timezone(
                "input.timezone",
                input
                    .timezone
                    .as_deref()
                    .unwrap_or(domain::DEFAULT_TIMEZONE),
            )?,
            currency: domain::currency(
                "input.currency",
                input
                    .currency
                    .as_deref()
                    .unwrap_or(domain::DEFAULT_CURRENCY),
            )?,
        })
    }
}

impl TryFrom<UpdateStoreInput> for StoreChanges {
    type Error = Error;

    fn try_from(input: UpdateStoreInput) -> Result<Self, Error> {
        let text =
            |field: &str, value: Option<String>, parse: fn(&str, &str) -> Result<String, Error>| {
                value.map(|v| parse(field, &v)).transpose()
            };
        Ok(StoreChanges {
            owner_name: text("input.ownerName", input.owner_name, domain::name)?,
            phone: text("input.phone", input.phone, domain::phone)?,
            name: text("input.name", input.name, domain::name)?,
            address: text("input.address", input.address, domain::address)?,
            store_type: text("input.storeType", input.store_type, domain::store_type)?,
            table_count: input
                .table_count
                .map(|v| domain::table_count("input.tableCount", v))
                .transpose()?,
            timezone: text("input.timezone", input.timezone, domain::timezone)?,
            closeout_hour: input
                .closeout_hour
                .map(|v| domain::closeout_hour("input.closeoutHour", v))
                .transpose()?,
        })
    }
}
