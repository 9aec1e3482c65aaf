//! A limit on how deeply a request body's JSON nests. Hive Router 0.2.19
//! does not answer a request whose variables nest about a hundred lists
//! deep (`[[[...]]]` for a list argument): one such request would hold a
//! connection and a worker indefinitely. The body is refused before the
//! router parses it, as `BAD_USER_INPUT` with the reason
//! `MAX_JSON_DEPTH_EXCEEDED`. No Salesync input nests more than a few
//! levels.

use hive_router::{
    GraphQLError,
    http::StatusCode,
    plugins::{
        hooks::{
            on_graphql_params::{OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
    sonic_rs,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct JsonDepthConfig {
    /// The deepest nesting of arrays and objects a body may have, its own
    /// object included.
    pub max: usize,
}

pub struct JsonDepthPlugin {
    max: usize,
}

/// How deeply `json` nests arrays and objects (text inside strings aside).
/// Malformed JSON is measured as far as it goes; the router refuses it after.
pub fn depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[hive_router::async_trait]
impl RouterPlugin for JsonDepthPlugin {
    type Config = JsonDepthConfig;

    fn plugin_name() -> &'static str {
        "salesync_json_depth"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        Ok(Some(JsonDepthPlugin { max: config.max }))
    }

    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        let found = depth(&payload.body);
        if found <= self.max {
            return payload.proceed();
        }
        let mut error = GraphQLError::from_message_and_code(
            format!(
                "the request nests {found} levels deep; at most {} are allowed",
                self.max
            ),
            "BAD_USER_INPUT",
        );
        error.extensions.extensions.insert(
            "reason".to_string(),
            sonic_rs::Value::from("MAX_JSON_DEPTH_EXCEEDED"),
        );
        payload.end_with_graphql_error(error, StatusCode::BAD_REQUEST)
    }
}

#[cfg(test)]
mod tests {
    use super::depth;

    #[test]
    fn depth_counts_arrays_and_objects_but_not_brackets_in_strings() {
        assert_eq!(depth(br#"{}"#), 1);
        assert_eq!(depth(br#"{"variables":{"l":[[["x"]]]}}"#), 5);
        assert_eq!(depth(br#"{"query":"{ me { id } } [[[[", "v": "\"[[["}"#), 1);
        assert_eq!(depth(b"not json"), 0);
    }
}
