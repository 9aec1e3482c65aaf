//! Maps the router's own error codes onto the ones clients know.
//!
//! - Where the router rejects a bearer token (with authentication required),
//!   its codes such as `INVALID_JWT` or `MISSING_JWT` become `UNAUTHENTICATED`
//!   with HTTP 401 and a message that says to sign in.
//! - A query that fails validation carries the name of the rule it broke
//!   (`FieldsOnCorrectType`), and one over a limit the limit's code
//!   (`MAX_DEPTH_EXCEEDED`); Apollo Client and GraphQL tooling expect
//!   `GRAPHQL_VALIDATION_FAILED`. Their message (which names the field or the
//!   limit) and their HTTP status (what GraphQL over HTTP gives them: 200 for
//!   `application/json`, 400 for `application/graphql-response+json`) stay
//!   as the router wrote them.
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

/// The router's own limits, checked as validation rules.
const LIMIT_CODES: &[&str] = &[
    "MAX_DEPTH_EXCEEDED",
    "MAX_ALIASES_EXCEEDED",
    "MAX_DIRECTIVES_EXCEEDED",
    "TOKEN_LIMIT_EXCEEDED",
    super::root_fields::CODE,
];

/// What a router code means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// The caller did not prove who it is.
    Unauthenticated,
    /// The operation does not fit the schema or the limits.
    ValidationFailed,
}

impl Meaning {
    pub fn code(self) -> &'static str {
        match self {
            Meaning::Unauthenticated => "UNAUTHENTICATED",
            Meaning::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
        }
    }
}

/// What one of the router's codes means, where clients know it by another code.
pub fn meaning(router_code: &str) -> Option<Meaning> {
    if AUTHENTICATION_CODES.contains(&router_code) {
        Some(Meaning::Unauthenticated)
    } else if VALIDATION_RULES.contains(&router_code) || LIMIT_CODES.contains(&router_code) {
        Some(Meaning::ValidationFailed)
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
        let Some(meaning) = extensions.code.as_deref().and_then(meaning) else {
            return payload.proceed();
        };
        if let Some(original) = extensions.code.replace(meaning.code().to_string()) {
            extensions.extensions.insert(
                "reason".to_string(),
                sonic_rs::Value::from(original.as_str()),
            );
        }
        if meaning == Meaning::Unauthenticated {
            payload.error.message =
                "authentication required: the token is missing, expired or invalid".to_string();
            payload.status_code = StatusCode::UNAUTHORIZED;
        }
        payload.proceed()
    }
}

#[cfg(test)]
mod tests {
    use super::{Meaning, meaning};

    #[test]
    fn jwt_failures_mean_unauthenticated() {
        for code in ["MISSING_JWT", "INVALID_JWT", "JWT_NOT_SUPPORTED"] {
            assert_eq!(meaning(code), Some(Meaning::Unauthenticated), "{code}");
        }
    }

    #[test]
    fn validation_rules_and_limits_mean_validation_failed() {
        for code in [
            "FieldsOnCorrectType",
            "KnownArgumentNames",
            "ValuesOfCorrectType",
            "MAX_DEPTH_EXCEEDED",
            "TOKEN_LIMIT_EXCEEDED",
        ] {
            assert_eq!(meaning(code), Some(Meaning::ValidationFailed), "{code}");
        }
    }

    #[test]
    fn other_codes_are_left_alone() {
        for code in ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"] {
            assert_eq!(meaning(code), None, "{code}");
        }
    }
}
