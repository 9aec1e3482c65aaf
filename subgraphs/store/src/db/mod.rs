//! The store subgraph's database access, through sea-orm only.

pub mod login_throttle;
pub mod stores;

use salesync_common::error::UniqueIndex;

/// Two sign-ups for one username: the loser gets CONFLICT from this index.
pub const UQ_STORES_USERNAME: UniqueIndex = UniqueIndex {
    name: "uq_stores_username",
    table: "stores",
    columns: &["username"],
};
