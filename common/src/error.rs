//! The one error type of a subgraph, and the one place where it becomes a
//! GraphQL error with `extensions.code` (`docs/api.md` lists the codes).
//!
//! `Error` deliberately does not implement `Display`: async-graphql converts
//! anything displayable into a bare error, which would let a database message
//! reach a client. Every conversion goes through `From<Error>` below, which
//! logs internal causes and sends the client a generic message.

use std::{fmt, sync::Arc};

use async_graphql::ErrorExtensions;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The contract's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::Conflict => "CONFLICT",
            Code::Internal => "INTERNAL",
        }
    }
}

/// What can go wrong in a subgraph, as the client should learn it.
#[derive(Clone)]
pub enum Error {
    /// No valid token, or a token for a store that no longer exists.
    Unauthenticated(String),
    /// Authenticated, but this caller may not do this.
    Forbidden(String),
    /// The thing does not exist for this caller (another store's data included).
    NotFound(String),
    /// The input broke a rule; `field` names the argument or input field.
    BadUserInput { field: String, message: String },
    /// The change clashes with the current state (a taken name, a stale version).
    Conflict(String),
    /// Refused for a while; the client may retry after the given seconds.
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// A part the request needs is away for now (a subscription's feed lost
    /// the broker); the client may try again after the given seconds.
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// Anything else. Logged with its cause chain; the client sees a generic message.
    Internal(Arc<anyhow::Error>),
}

impl Error {
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Error::Unauthenticated(message.into())
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    /// A live feed lost the broker: what happened meanwhile may be missing,
    /// so the client subscribes again (once the feed is back) and re-reads.
    pub fn interrupted() -> Self {
        Error::Unavailable {
            message: "live updates were interrupted; subscribe again and re-read the current state"
                .to_string(),
            retry_after_secs: 1,
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Error::Internal(Arc::new(error.into()))
    }

    pub fn code(&self) -> Code {
        match self {
            Error::Unauthenticated(_) | Error::Throttled { .. } => Code::Unauthenticated,
            Error::Forbidden(_) => Code::Forbidden,
            Error::NotFound(_) => Code::NotFound,
            Error::BadUserInput { .. } => Code::BadUserInput,
            Error::Conflict(_) => Code::Conflict,
            Error::Unavailable { .. } | Error::Internal(_) => Code::Internal,
        }
    }

    /// The message a client may see.
    pub fn client_message(&self) -> String {
        match self {
            Error::Unauthenticated(m)
            | Error::Forbidden(m)
            | Error::NotFound(m)
            | Error::Conflict(m)
            | Error::Throttled { message: m, .. }
            | Error::Unavailable { message: m, .. } => m.clone(),
            Error::BadUserInput { field, message } => format!("{field}: {message}"),
            Error::Internal(_) => "internal error; it has been logged".to_string(),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(e) => write!(f, "Internal({e:?})"),
            other => write!(f, "{}({})", other.code().as_str(), other.client_message()),
        }
    }
}

impl From<Error> for async_graphql::Error {
    fn from(error: Error) -> Self {
        if let Error::Internal(cause) = &error {
            tracing::error!(error = ?cause, "internal error");
        }
        async_graphql::Error::new(error.client_message()).extend_with(|_, ext| {
            ext.set("code", error.code().as_str());
            match &error {
                Error::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Error::Throttled {
                    retry_after_secs, ..
                } => {
                    ext.set("reason", "TOO_MANY_ATTEMPTS");
                    ext.set("retryAfterSeconds", *retry_after_secs);
                }
                Error::Unavailable {
                    retry_after_secs, ..
                } => {
                    ext.set("reason", "UNAVAILABLE");
                    ext.set("retryAfterSeconds", *retry_after_secs);
                }
                _ => {}
            }
        })
    }
}

/// The one mapping to HTTP, for endpoints outside GraphQL (the order
/// subgraph's internal pay endpoint): the status that matches the code, and
/// `{"error": {"code", "message"}}`. Internal causes are logged, never sent.
impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;
        if let Error::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        let status = match self.code() {
            _ if matches!(self, Error::Unavailable { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::BadUserInput => StatusCode::BAD_REQUEST,
            Code::Conflict => StatusCode::CONFLICT,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = serde_json::json!({
            "error": { "code": self.code().as_str(), "message": self.client_message() }
        });
        (status, axum::Json(body)).into_response()
    }
}

/// For background work (consumers, relays), whose failures are logged and
/// retried rather than sent to a client.
impl From<Error> for anyhow::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Internal(cause) => anyhow::anyhow!("{cause:?}"),
            other => anyhow::anyhow!("{other:?}"),
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        Error::internal(anyhow::Error::new(error).context("database error"))
    }
}

/// A unique index, named so that a violation can be recognised on both
/// PostgreSQL (which reports the index name) and SQLite (which reports the
/// columns as `table.column, ...`).
#[derive(Debug, Clone, Copy)]
pub struct UniqueIndex {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl UniqueIndex {
    /// Whether `error` is a violation of this index.
    pub fn is_violated_by(&self, error: &sea_orm::DbErr) -> bool {
        let Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
            return false;
        };
        if message.contains(self.name) {
            return true;
        }
        let sqlite_columns = self
            .columns
            .iter()
            .map(|c| format!("{}.{}", self.table, c))
            .collect::<Vec<_>>()
            .join(", ");
        message.ends_with(&sqlite_columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_graphql_an_error_is_its_status_and_code() {
        use axum::response::IntoResponse;
        let response = Error::conflict("taken").into_response();
        assert_eq!(response.status(), 409);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "CONFLICT", "message": "taken"}})
        );
        let internal = Error::internal(anyhow::anyhow!("secret SQL")).into_response();
        assert_eq!(internal.status(), 500);
    }

    fn extensions(error: Error) -> async_graphql::ErrorExtensionValues {
        async_graphql::Error::from(error)
            .extensions
            .expect("BUG: every error carries extensions")
    }

    #[test]
    fn bad_input_names_the_field() {
        let ext = extensions(Error::bad_input("input.username", "too short"));
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.username"))
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = Error::internal(anyhow::anyhow!("relation \"stores\" does not exist"));
        let gql = async_graphql::Error::from(error);
        assert!(!gql.message.contains("stores"), "{}", gql.message);
        assert_eq!(
            gql.extensions.and_then(|e| e.get("code").cloned()),
            Some(async_graphql::Value::from("INTERNAL"))
        );
    }

    #[test]
    fn throttling_is_unauthenticated_with_a_retry_hint() {
        let ext = extensions(Error::Throttled {
            message: "slow down".into(),
            retry_after_secs: 30,
        });
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("UNAUTHENTICATED"))
        );
        assert_eq!(
            ext.get("retryAfterSeconds"),
            Some(&async_graphql::Value::from(30))
        );
    }
}
