//! Maps the router's own authentication error codes onto the contract's.
//!
//! Hive Router rejects a bad bearer token before any subgraph sees it, with
//! codes such as `INVALID_JWT` (expired or forged) or `MISSING_JWT`. A front
//! end written against SPEC §2 only knows `UNAUTHENTICATED`, so those become
//! `UNAUTHENTICATED` with HTTP 401, and the router's precise code stays in
//! `extensions.reason` for whoever debugs it.

use hive_router::{
    http::StatusCode,
    plugins::{
        hooks::{
            on_graphql_error::{OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::RouterPlugin,
    },
    sonic_rs,
};
use serde::Deserialize;

/// The router's codes that all mean "the caller did not prove who it is".
const AUTHENTICATION_CODES: &[&str] = &[
    "MISSING_JWT",
    "INVALID_JWT",
    "INVALID_JWT_HEADER",
    "JWT_NOT_SUPPORTED",
    "JWT_LOOKUP_FAILED",
    "JWK_ALGORITHM_NOT_SUPPORTED",
];

/// Returns the contract's code for one of the router's codes, if it differs.
pub fn contract_code(router_code: &str) -> Option<&'static str> {
    AUTHENTICATION_CODES
        .contains(&router_code)
        .then_some("UNAUTHENTICATED")
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorCodesConfig {}

pub struct ErrorCodesPlugin;

#[hive_router::async_trait]
impl RouterPlugin for ErrorCodesPlugin {
    type Config = ErrorCodesConfig;

    fn plugin_name() -> &'static str {
        "salesync_error_codes"
    }

    fn on_plugin_init(_payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        Ok(Some(ErrorCodesPlugin))
    }

    fn on_graphql_error<'req>(
        &'req self,
        mut payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        let extensions = &mut payload.error.extensions;
        if let Some(mapped) = extensions.code.as_deref().and_then(contract_code) {
            let original = extensions.code.replace(mapped.to_string());
            if let Some(original) = original {
                extensions.extensions.insert(
                    "reason".to_string(),
                    sonic_rs::Value::from(original.as_str()),
                );
            }
            payload.error.message =
                "authentication required: the token is missing, expired or invalid".to_string();
            payload.status_code = StatusCode::UNAUTHORIZED;
        }
        payload.proceed()
    }
}

#[cfg(test)]
mod tests {
    use super::contract_code;

    #[test]
    fn jwt_failures_become_unauthenticated() {
        for code in ["MISSING_JWT", "INVALID_JWT", "JWT_NOT_SUPPORTED"] {
            assert_eq!(contract_code(code), Some("UNAUTHENTICATED"), "{code}");
        }
    }

    #[test]
    fn other_codes_are_left_alone() {
        for code in ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"] {
            assert_eq!(contract_code(code), None, "{code}");
        }
    }
}
