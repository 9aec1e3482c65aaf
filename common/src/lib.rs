//! What every Salesync subgraph shares.
//!
//! A subgraph is a small program built from these parts: [`app`] reads its
//! [`config`], opens its database through [`db`] and its [`events`] bus, and
//! hands them to the subgraph's own `build`; callers are verified with
//! [`auth`], input is parsed with [`input`], rows are batched by [`loader`],
//! answers are [`error::Error`]s,
//! other subgraphs are asked through [`upstream`] (GraphQL) and [`internal`]
//! (endpoints outside the public API), and [`server`] serves it
//! until [`shutdown`], counted by [`metrics`] and traced by [`telemetry`]. Test support lives in [`testing`] behind the
//! `test-support` feature.

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod consulting;
pub mod db;
pub mod error;
pub mod events;
pub mod graphql;
pub mod input;
pub mod internal;
pub mod loader;
pub mod metrics;
pub mod scalars;
pub mod server;
pub mod shutdown;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;
pub mod upstream;

pub use error::{Error, Result};

/// The allocator of every Salesync binary, set in each `main.rs` as its
/// `#[global_allocator]` (a library never picks one for a program):
/// mimalloc, as in the router. Under load glibc's `malloc` and `free` were
/// a fifth of a subgraph's instructions; with mimalloc a menu read and a
/// `placeOrder` cost 15 % fewer (`docs/benchmarks.md`).
pub use mimalloc::MiMalloc as Allocator;
