//! The playground, served by the router itself: GraphiQL (the prebuilt
//! `@graphql-yoga/graphiql` bundle, embedded at build time by `build.rs`)
//! with Salesync's own page around it: a bar for the token, example
//! operations, subscriptions over graphql-transport-ws. Hive Router's
//! built-in IDE loads its scripts from a public CDN, so it is blank offline
//! and behind strict firewalls; this one makes no request beyond this
//! router, and its Content-Security-Policy forbids any.
//!
//! A browser's `GET` on the GraphQL endpoint that accepts HTML gets the
//! page; its files are under `/playground/`. Everything else passes on.

use hive_router::{
    ntex::http::{Method, Response, StatusCode, header},
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
};
use serde::{Deserialize, Deserializer};

/// Where the page's files are served.
const ASSETS: &str = "/playground/";

/// Scripts, styles, workers and connections from this origin only (inline
/// styles and blob workers are GraphiQL's own).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

macro_rules! graphiql_file {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/playground/package/dist/", $name))
    };
}

/// A file of the page: its name under [`ASSETS`], media type and bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const FILES: &[Asset] = &[
    Asset {
        name: "playground.js",
        media_type: JS,
        bytes: include_bytes!("../../playground/playground.js"),
    },
    Asset {
        name: "playground.css",
        media_type: CSS,
        bytes: include_bytes!("../../playground/playground.css"),
    },
    Asset {
        name: "graphiql.css",
        media_type: CSS,
        bytes: graphiql_file!("graphiql.css"),
    },
    Asset {
        name: "yoga-graphiql.umd.js",
        media_type: JS,
        bytes: graphiql_file!("yoga-graphiql.umd.js"),
    },
    Asset {
        name: "editor.worker.js",
        media_type: JS,
        bytes: graphiql_file!("monacoeditorwork/editor.worker.bundle.js"),
    },
    Asset {
        name: "json.worker.js",
        media_type: JS,
        bytes: graphiql_file!("monacoeditorwork/json.worker.bundle.js"),
    },
    // The package's own file name has the double dot.
    Asset {
        name: "graphql.worker.js",
        media_type: JS,
        bytes: graphiql_file!("monacoeditorwork/graphql.worker..bundle.js"),
    },
];

const PAGE: &[u8] = include_bytes!("../../playground/index.html");

#[derive(Debug, Deserialize)]
pub struct PlaygroundConfig {
    /// Off in production (with introspection off, it could show nothing).
    #[serde(default = "yes", deserialize_with = "flag")]
    pub enabled: bool,
    /// The GraphQL endpoint, where a browser opens the page.
    #[serde(default = "graphql")]
    pub endpoint: String,
}

fn yes() -> bool {
    true
}

fn graphql() -> String {
    "/graphql".into()
}

/// A boolean, or its text (`from_env` gives text).
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => Ok(value),
        Flag::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected true or false, got {other:?}"
            ))),
        },
    }
}

pub struct PlaygroundPlugin {
    endpoint: String,
}

/// Whether a request's `Accept` header asks for a page.
fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| accept.contains("text/html"))
}

fn asset(path: &str) -> Option<&'static Asset> {
    let name = path.strip_prefix(ASSETS)?;
    FILES.iter().find(|asset| asset.name == name)
}

#[hive_router::async_trait]
impl RouterPlugin for PlaygroundPlugin {
    type Config = PlaygroundConfig;

    fn plugin_name() -> &'static str {
        "salesync_playground"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        Ok(config.enabled.then_some(PlaygroundPlugin {
            endpoint: config.endpoint,
        }))
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            if request.method() != Method::GET {
                return payload.proceed();
            }
            if let Some(file) = asset(request.path()) {
                let response = Response::build(StatusCode::OK)
                    .header(header::CONTENT_TYPE, file.media_type)
                    .header(header::CACHE_CONTROL, "public, max-age=3600")
                    .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                    .body(file.bytes);
                return payload.end_with_response(response);
            }
            let accept = request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            if request.path() == self.endpoint && wants_html(accept) {
                let response = Response::build(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                    .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
                    .header(header::CACHE_CONTROL, "no-cache")
                    .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                    .body(PAGE);
                return payload.end_with_response(response);
            }
            payload.proceed()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_served() {
        let page = std::str::from_utf8(PAGE).expect("UTF-8");
        let script = std::str::from_utf8(FILES[0].bytes).expect("UTF-8");
        for text in [page, script] {
            for (at, _) in text.match_indices(ASSETS) {
                let name: String = text[at + ASSETS.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                    .collect();
                assert!(
                    asset(&format!("{ASSETS}{name}")).is_some(),
                    "{name} is named but not served"
                );
            }
        }
        assert!(FILES.iter().all(|file| !file.bytes.is_empty()));
    }

    #[test]
    fn only_pages_are_taken_from_the_endpoint() {
        assert!(wants_html(Some(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!wants_html(Some("application/json")));
        assert!(!wants_html(None));
        assert!(asset("/playground/../secrets").is_none());
    }
}
