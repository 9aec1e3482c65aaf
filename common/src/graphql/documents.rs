//! Parsed documents remembered by their text. The router sends each
//! subgraph the same few documents over and over (one per operation its
//! clients use, with only the variables changing), and parsing one costs
//! more than copying its parse: a `placeOrder` document took about a tenth
//! of the order subgraph's instructions per call. Everything after the
//! parse (depth limits, validation, execution) runs on every request as
//! before.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{Data, Executor, Request, Response, parser::types::ExecutableDocument};
use futures::stream::BoxStream;

/// At most this many documents are remembered (each a few KiB); past it
/// all of them are forgotten, so documents that are never sent again (a
/// client that makes up a new one per request) cannot grow it.
const MAX_DOCUMENTS: usize = 512;

/// Longer documents are parsed on every request, never remembered.
const MAX_LENGTH: usize = 16 * 1024;

/// An executor that hands `inner` each request with its document already
/// parsed, from memory when the same text was parsed before. Clones share
/// what is remembered.
#[derive(Clone)]
pub struct Documents<E> {
    inner: E,
    parsed: Arc<Parsed>,
}

impl<E> Documents<E> {
    pub fn new(inner: E) -> Self {
        Documents {
            inner,
            parsed: Arc::default(),
        }
    }
}

impl<E: Executor> Executor for Documents<E> {
    async fn execute(&self, mut request: Request) -> Response {
        self.parsed.prepare(&mut request);
        self.inner.execute(request).await
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.parsed.prepare(&mut request);
        self.inner.execute_stream(request, session_data)
    }
}

/// Documents that parsed, by their text.
#[derive(Default)]
struct Parsed(Mutex<HashMap<Box<str>, Arc<ExecutableDocument>>>);

impl Parsed {
    /// Gives `request` the parse of its document: a copy of the one
    /// remembered for the same text, or a new parse, remembered. A document
    /// that does not parse is left to the schema, which reports why.
    fn prepare(&self, request: &mut Request) {
        if request.query.len() > MAX_LENGTH {
            return;
        }
        let remembered = self.lock().get(request.query.as_str()).cloned();
        let document = match remembered {
            Some(document) => document,
            None => match async_graphql::parser::parse_query(&request.query) {
                Ok(document) => self.keep(&request.query, document),
                Err(_) => return,
            },
        };
        // The schema takes the document apart as it executes it.
        request.set_parsed_query(ExecutableDocument::clone(&document));
    }

    fn keep(&self, text: &str, document: ExecutableDocument) -> Arc<ExecutableDocument> {
        let document = Arc::new(document);
        let mut parsed = self.lock();
        if parsed.len() >= MAX_DOCUMENTS {
            parsed.clear();
        }
        parsed.insert(text.into(), document.clone());
        document
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<ExecutableDocument>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, Value};

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
        async fn nested(&self) -> Nested {
            Nested
        }
    }

    struct Nested;

    #[Object]
    impl Nested {
        async fn depth(&self) -> i32 {
            1
        }
        async fn nested(&self) -> Nested {
            Nested
        }
    }

    fn schema() -> Documents<Schema<Query, EmptyMutation, EmptySubscription>> {
        Documents::new(
            Schema::build(Query, EmptyMutation, EmptySubscription)
                .limit_depth(3)
                .finish(),
        )
    }

    fn data(response: Response) -> serde_json::Value {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response.data.into_json().expect("json")
    }

    #[tokio::test]
    async fn a_remembered_document_runs_with_each_requests_own_variables() {
        let schema = schema();
        let query = "query($t: String!) { echo(text: $t) }";
        for text in ["one", "two", "three"] {
            let request = Request::new(query).variables(async_graphql::Variables::from_json(
                serde_json::json!({ "t": text }),
            ));
            let answer = data(schema.execute(request).await);
            assert_eq!(answer, serde_json::json!({ "echo": text }));
        }
        assert_eq!(schema.parsed.len(), 1, "one text, one parse");
        // A request's directives see its own variables, not the last one's.
        let skipping =
            "query($s: Boolean!) { a: echo(text: \"a\") b: echo(text: \"b\") @skip(if: $s) }";
        for (skip, expected) in [
            (true, serde_json::json!({ "a": "a" })),
            (false, serde_json::json!({ "a": "a", "b": "b" })),
            (true, serde_json::json!({ "a": "a" })),
        ] {
            let request = Request::new(skipping).variables(async_graphql::Variables::from_json(
                serde_json::json!({ "s": skip }),
            ));
            assert_eq!(data(schema.execute(request).await), expected);
        }
    }

    #[tokio::test]
    async fn a_remembered_document_is_still_limited_and_named() {
        let schema = schema();
        let deep = "{ nested { nested { nested { nested { depth } } } } }";
        for _ in 0..2 {
            let response = schema.execute(Request::new(deep)).await;
            assert_eq!(response.data, Value::Null);
            assert!(
                response.errors[0].message.contains("nested too deep"),
                "{:?}",
                response.errors
            );
        }
        let two = "query A { echo(text: \"a\") } query B { echo(text: \"b\") }";
        for (name, echoed) in [("A", "a"), ("B", "b"), ("A", "a")] {
            let answer = data(schema.execute(Request::new(two).operation_name(name)).await);
            assert_eq!(answer, serde_json::json!({ "echo": echoed }));
        }
        let unnamed = schema.execute(Request::new(two)).await;
        assert!(!unnamed.errors.is_empty(), "two operations need a name");
    }

    #[tokio::test]
    async fn a_document_that_does_not_parse_is_reported_and_not_remembered() {
        let schema = schema();
        for _ in 0..2 {
            let response = schema.execute(Request::new("{ echo(text: ")).await;
            assert!(!response.errors.is_empty());
        }
        assert_eq!(schema.parsed.len(), 0);
    }

    #[tokio::test]
    async fn memory_is_bounded() {
        let schema = schema();
        for n in 0..MAX_DOCUMENTS + 10 {
            let query = format!("{{ echo(text: \"{n}\") }}");
            let answer = data(schema.execute(Request::new(query)).await);
            assert_eq!(answer, serde_json::json!({ "echo": n.to_string() }));
        }
        assert!(schema.parsed.len() <= MAX_DOCUMENTS);
        let long = format!("{{ echo(text: \"{}\") }}", "x".repeat(MAX_LENGTH));
        data(schema.execute(Request::new(long)).await);
        assert!(
            !schema
                .parsed
                .lock()
                .keys()
                .any(|text| text.len() > MAX_LENGTH)
        );
    }
}
