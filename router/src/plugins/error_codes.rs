//! Maps the router's own error codes onto the ones clients know.
//!
//! - Where the router rejects a bearer token (with authentication required),
//!   its codes such as `INVALID_JWT` or `MISSING_JWT` become the contract's
//!   `UNAUTHENTICATED` with HTTP 401.
//! - A query that fails validation carries the name of the rule it broke
//!   (`FieldsOnCorrectType`); Apollo Client and GraphQL tooling expect
//!   `GRAPHQL_VALIDATION_FAILED`.
//!
//! The router's precise code stays in `extensions.reason` for whoever debugs it.

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

/// The validation rules of graphql-tools, which the router reports by name.
const VALIDATION_RULES: &[&str] = &[
    "FieldsOnCorrectType",
    "FragmentsOnCompositeTypes",
    "KnownArgumentNames",
    "KnownDirectives",
    "KnownFragmentNames",
    "KnownTypeNames",
    "LeafFieldSelections",
    "LoneAnonymousOperation",
    "NoFragmentsCycle",
    "NoUndefinedVariables",
    "NoUnusedFragments",
    "NoUnusedVariables",
    "OverlappingFieldsCanBeMerged",
    "PossibleFragmentSpreads",
    "ProvidedRequiredArguments",
    "SingleFieldSubscriptions",
    "UniqueArgumentNames",
    "UniqueDirectivesPerLocation",
    "UniqueFragmentNames",
    "UniqueInputFieldNames",
    "UniqueOperationNames",
    "UniqueVariableNames",
    "ValuesOfCorrectType",
    "VariablesAreInputTypes",
    "VariablesInAllowedPosition",
];

/// Returns the code clients know for one of the router's codes, if it differs.
pub fn contract_code(router_code: &str) -> Option<&'static str> {
    if AUTHENTICATION_CODES.contains(&router_code) {
        Some("UNAUTHENTICATED")
    } else if VALIDATION_RULES.contains(&router_code) {
        Some("GRAPHQL_VALIDATION_FAILED")
    } else {
        None
    }
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
    fn validation_rules_become_graphql_validation_failed() {
        for code in [
            "FieldsOnCorrectType",
            "KnownArgumentNames",
            "ValuesOfCorrectType",
        ] {
            assert_eq!(
                contract_code(code),
                Some("GRAPHQL_VALIDATION_FAILED"),
                "{code}"
            );
        }
    }

    #[test]
    fn other_codes_are_left_alone() {
        for code in ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"] {
            assert_eq!(contract_code(code), None, "{code}");
        }
    }
}
