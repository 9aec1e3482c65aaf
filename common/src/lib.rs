//! What every Salesync subgraph shares.
//!
//! A subgraph is a small program built from these parts: it loads its
//! [`config::Settings`], opens its database through [`db`], verifies callers
//! with [`auth`], answers with [`error::Error`] and is served by
//! [`server::Server`]. Test support lives in [`testing`] behind the
//! `test-support` feature.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod graphql;
pub mod scalars;
pub mod server;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;

pub use error::{Error, Result, ResultExt};
