//! A small GraphQL client over HTTP, with assertions that read as sentences.

use serde_json::{Value, json};

#[derive(Clone)]
pub struct Client {
    url: String,
    token: Option<String>,
    accept: Option<String>,
    headers: Vec<(String, String)>,
    http: reqwest::Client,
}

/// A GraphQL response and its HTTP status.
#[derive(Debug)]
pub struct GraphqlResponse {
    pub status: u16,
    pub body: Value,
}

impl Client {
    pub fn new(url: &str) -> Self {
        Client {
            url: url.to_string(),
            token: None,
            accept: None,
            headers: Vec::new(),
            // A server that never answers fails the test instead of hanging it.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Client {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// Gives up on a request after `timeout` (60 s unless set).
    pub fn with_timeout(&self, timeout: std::time::Duration) -> Self {
        Client {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("an HTTP client"),
            ..self.clone()
        }
    }

    /// The bearer token this client sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sends `Accept: <media type>` (GraphQL over HTTP's
    /// `application/graphql-response+json`, say).
    pub fn accepting(&self, media_type: &str) -> Self {
        Client {
            accept: Some(media_type.to_string()),
            ..self.clone()
        }
    }

    /// Also sends the header `name: value` (what a client may try to forge).
    pub fn with_header(&self, name: &str, value: &str) -> Self {
        let mut client = self.clone();
        client.headers.push((name.to_string(), value.to_string()));
        client
    }

    pub async fn try_query(
        &self,
        query: &str,
        variables: Value,
    ) -> reqwest::Result<GraphqlResponse> {
        self.try_send(&json!({ "query": query, "variables": variables }))
            .await
    }

    /// Posts `body` as it is (a persisted document's `documentId`, say).
    pub async fn try_send(&self, body: &Value) -> reqwest::Result<GraphqlResponse> {
        let mut request = self.http.post(&self.url).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(accept) = &self.accept {
            request = request.header("accept", accept);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await?;
        Ok(GraphqlResponse { status, body })
    }

    pub async fn query(&self, query: &str, variables: Value) -> GraphqlResponse {
        self.try_query(query, variables)
            .await
            .unwrap_or_else(|e| panic!("request to {} failed: {e}", self.url))
    }
}

impl GraphqlResponse {
    pub fn errors(&self) -> Vec<Value> {
        self.body["errors"].as_array().cloned().unwrap_or_default()
    }

    /// The data, after asserting there were no errors.
    pub fn data_or_panic(&self) -> &Value {
        assert!(
            self.errors().is_empty(),
            "expected no errors, got {} {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    /// The first error's `extensions.code`.
    pub fn error_code(&self) -> Option<String> {
        self.errors()
            .first()
            .and_then(|e| e["extensions"]["code"].as_str().map(str::to_string))
    }

    /// Asserts the first error has `code` and returns it.
    pub fn expect_error(&self, code: &str) -> Value {
        assert_eq!(
            self.error_code().as_deref(),
            Some(code),
            "expected {code}, got {} {}",
            self.status,
            self.body
        );
        self.errors()[0].clone()
    }
}
