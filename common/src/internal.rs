//! Endpoints between subgraphs, outside the public API: not in any GraphQL
//! schema (so the router cannot reach them), refused without the internal
//! key (`SALESYNC_INTERNAL_KEY`). A call on a client's behalf carries the
//! client's token, which scopes the store; a subgraph acting on its own
//! (recovery, a rebuild) names the store instead, the key vouching for it.
//!
//! Both ends live here: [`guarded`] and [`store_of`] for the endpoint,
//! [`InternalClient`] for the caller. Errors travel as
//! `{"error": {"code", "message"}}` with the status that matches the code.

use std::time::Duration;

use axum::http::{HeaderMap, header::AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::{Error, Result, auth::TokenVerifier};

/// The header that carries the internal key.
pub const KEY_HEADER: &str = "x-salesync-internal-key";

/// `routes` behind the internal key: a request without it is `FORBIDDEN`
/// before anything else of it is read.
pub fn guarded(routes: axum::Router, key: SecretString) -> axum::Router {
    routes.route_layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let checked = require_key(request.headers(), &key);
            async move {
                match checked {
                    Ok(()) => next.run(request).await,
                    Err(refused) => axum::response::IntoResponse::into_response(refused),
                }
            }
        },
    ))
}

/// `FORBIDDEN` unless the request carries the internal key.
pub fn require_key(headers: &HeaderMap, key: &SecretString) -> Result<()> {
    let matches = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| constant_time_eq(given.as_bytes(), key.expose_secret().as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(Error::forbidden(
            "this endpoint is for Salesync subgraphs only",
        ))
    }
}

/// The store a call acts for: the token's, when it carries one (a named
/// store must then be the same), else the one it names.
pub async fn store_of(
    headers: &HeaderMap,
    verifier: &TokenVerifier,
    named: Option<Uuid>,
) -> Result<Uuid> {
    match headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(header) => {
            let store_id = verifier.caller_from_header(Some(header)).await.store_id()?;
            if named.is_some_and(|named| named != store_id) {
                return Err(Error::forbidden("the token is another store's"));
            }
            Ok(store_id)
        }
        None => named.ok_or_else(|| Error::unauthenticated("name the store or send its token")),
    }
}

/// The internal endpoint `path` of the subgraph whose GraphQL endpoint is
/// `graphql_url`: both are served at the same address.
pub fn endpoint(graphql_url: &str, path: &str) -> String {
    format!("{}{path}", graphql_url.trim_end_matches("/graphql"))
}

/// Compares secrets without leaking, through timing, how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Calls other subgraphs' internal endpoints with the internal key.
#[derive(Clone)]
pub struct InternalClient {
    http: reqwest::Client,
    key: SecretString,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

impl InternalClient {
    pub fn new(key: SecretString, timeout: Duration) -> Self {
        InternalClient {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("BUG: a plain HTTP client always builds"),
            key,
        }
    }

    /// POSTs `body` to `url` (with the client's `token`, if acting for one)
    /// and decodes the answer; an error answer becomes the same error here,
    /// but internal ones, which stay internal.
    pub async fn post<T: DeserializeOwned>(
        &self,
        url: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> Result<T> {
        let mut request = self
            .http
            .post(url)
            .headers(crate::telemetry::trace_headers())
            .header(KEY_HEADER, self.key.expose_secret());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.json(body).send().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("failed to call {url}")))
        })?;
        let status = response.status();
        if status.is_success() {
            return response.json::<T>().await.map_err(|e| {
                Error::internal(
                    anyhow::Error::new(e).context(format!("unexpected answer from {url}")),
                )
            });
        }
        let error = response.json::<ErrorBody>().await.map_err(|e| {
            Error::internal(anyhow::Error::new(e).context(format!("{url} answered {status}")))
        })?;
        Err(match error.error.code.as_str() {
            "NOT_FOUND" => Error::not_found(error.error.message),
            "CONFLICT" => Error::conflict(error.error.message),
            "UNAUTHENTICATED" => Error::unauthenticated(error.error.message),
            _ => Error::internal(anyhow::anyhow!(
                "{url} answered {status}: {} {}",
                error.error.code,
                error.error.message
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_served_beside_graphql() {
        assert_eq!(
            endpoint("http://item:4102/graphql", "/internal/items/lookup"),
            "http://item:4102/internal/items/lookup"
        );
    }

    #[test]
    fn keys_must_match_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn a_request_without_the_key_is_forbidden() {
        let key = SecretString::from("k3y".to_string());
        let mut headers = HeaderMap::new();
        assert_eq!(
            require_key(&headers, &key).unwrap_err().code().as_str(),
            "FORBIDDEN"
        );
        headers.insert(KEY_HEADER, "wrong".parse().unwrap());
        assert!(require_key(&headers, &key).is_err());
        headers.insert(KEY_HEADER, "k3y".parse().unwrap());
        assert!(require_key(&headers, &key).is_ok());
    }
}
