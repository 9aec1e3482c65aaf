//! Calls to another subgraph on the caller's behalf, with the caller's own
//! token, so the other subgraph applies its own store scoping. Answers are
//! decoded into the caller's serde types: a value of the wrong shape or
//! range is an internal error, never clamped or defaulted.

use std::time::Duration;

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::{Error, Result, auth::Acting};

/// A GraphQL client for other subgraphs' endpoints (not through the router).
#[derive(Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
}

impl Default for GraphqlClient {
    fn default() -> Self {
        GraphqlClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("BUG: a plain HTTP client always builds"),
        }
    }
}

/// A GraphQL answer: `data` decoded as `T`, and the errors.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct Answer<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Vec<RemoteError>,
}

/// One error of another subgraph's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteError {
    pub message: String,
    #[serde(default)]
    pub extensions: RemoteExtensions,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RemoteExtensions {
    pub code: Option<String>,
}

impl RemoteError {
    pub fn code(&self) -> Option<&str> {
        self.extensions.code.as_deref()
    }

    /// The same error here. Its message was written for clients, so it
    /// passes on, except for internal errors, which stay internal.
    pub fn into_error(self, from: &str) -> Error {
        let message = self.message.clone();
        match self.code() {
            Some("UNAUTHENTICATED") => Error::unauthenticated(message),
            Some("FORBIDDEN") => Error::forbidden(message),
            Some("NOT_FOUND") => Error::not_found(message),
            Some("CONFLICT") => Error::conflict(message),
            _ => Error::internal(anyhow::anyhow!("{from} answered an error: {self:?}")),
        }
    }
}

impl<T> Answer<T> {
    /// The data, or the first error as this subgraph's error.
    pub fn into_data(self, from: &str) -> Result<T> {
        if let Some(error) = self.errors.into_iter().next() {
            return Err(error.into_error(from));
        }
        self.data
            .ok_or_else(|| Error::internal(anyhow::anyhow!("{from} answered no data")))
    }
}

impl GraphqlClient {
    /// Sends `query` to `url` as `caller`.
    pub async fn query<T: DeserializeOwned>(
        &self,
        url: &str,
        caller: &Acting,
        query: &str,
        variables: Value,
    ) -> Result<Answer<T>> {
        let response = self
            .http
            .post(url)
            .headers(crate::telemetry::trace_headers())
            .bearer_auth(&caller.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| {
                Error::internal(anyhow::Error::new(e).context(format!("failed to call {url}")))
            })?;
        response.json::<Answer<T>>().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("unexpected answer from {url}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Me {
        me: Facts,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Facts {
        table_count: i32,
    }

    #[test]
    fn a_value_out_of_range_is_refused_not_clamped() {
        let fits: Answer<Me> =
            serde_json::from_value(json!({ "data": { "me": { "tableCount": 12 } } }))
                .expect("decodes");
        assert_eq!(
            fits.into_data("store").ok().map(|d| d.me.table_count),
            Some(12)
        );
        let answer: serde_json::Result<Answer<Me>> =
            serde_json::from_value(json!({ "data": { "me": { "tableCount": 5_000_000_000i64 } } }));
        assert!(answer.is_err());
    }

    #[test]
    fn errors_keep_their_code_and_internal_ones_stay_internal() {
        let answer: Answer<Me> = serde_json::from_value(json!({
            "data": null,
            "errors": [{ "message": "no such store", "extensions": { "code": "NOT_FOUND" } }]
        }))
        .expect("decodes");
        assert!(
            matches!(answer.into_data("store"), Err(Error::NotFound(m)) if m == "no such store")
        );
        let internal = RemoteError {
            message: "relation does not exist".into(),
            extensions: RemoteExtensions {
                code: Some("INTERNAL".into()),
            },
        };
        assert!(matches!(internal.into_error("store"), Error::Internal(_)));
    }
}
