//! The router's own answers, through the real router: each error keeps the
//! message that explains it, the code clients know, and the HTTP status
//! GraphQL over HTTP gives it. Only authentication failures say to sign in.

use salesync_tests::{Client, GraphqlResponse, TestSystem, unique_username};
use serde_json::{Value, json};
use uuid::Uuid;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The only error of `response`, without `locations` (positions in the query).
fn only_error(response: &GraphqlResponse) -> Value {
    let errors = response.errors();
    assert_eq!(errors.len(), 1, "{}", response.body);
    let mut error = errors[0].clone();
    if let Some(error) = error.as_object_mut() {
        error.remove("locations");
    }
    error
}

async fn owner(system: &TestSystem) -> Client {
    let (token, _) = system
        .sign_up(&unique_username("router"), "the-password")
        .await;
    system.client().with_token(&token)
}

#[tokio::test]
async fn a_misspelt_field_is_a_validation_error_that_names_it() {
    let system = TestSystem::start().await;
    let client = owner(&system).await;
    let query = "{ me { nmae } }";

    let response = client.query(query, json!({})).await;
    assert_eq!(response.status, 200, "application/json keeps 200");
    assert_eq!(
        only_error(&response),
        json!({
            "message": "Cannot query field \"nmae\" on type \"Store\".",
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED", "reason": "FieldsOnCorrectType" }
        })
    );
    let strict = client
        .accepting(GRAPHQL_RESPONSE)
        .query(query, json!({}))
        .await;
    assert_eq!(strict.status, 400, "{}", strict.body);
    assert_eq!(only_error(&strict), only_error(&response));
}

#[tokio::test]
async fn an_unknown_argument_is_a_validation_error_that_names_it() {
    let system = TestSystem::start().await;
    let response = owner(&system)
        .await
        .query("{ me(id: 1) { name } }", json!({}))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        only_error(&response),
        json!({
            "message": "Unknown argument \"id\" on field \"Query.me\".",
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED", "reason": "KnownArgumentNames" }
        })
    );
}

#[tokio::test]
async fn a_query_over_the_depth_limit_is_refused_without_asking_to_sign_in() {
    let system = TestSystem::start().await;
    // categories → items → category → items ... : 40 levels.
    let mut query = String::from("id");
    for level in 0..40 {
        query = if level % 2 == 0 {
            format!("category {{ {query} }}")
        } else {
            format!("items {{ {query} }}")
        };
    }
    let query = format!("{{ categories {{ {query} }} }}");
    let response = owner(&system).await.query(&query, json!({})).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        only_error(&response),
        json!({
            "message": "Query depth limit exceeded.",
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED", "reason": "MAX_DEPTH_EXCEEDED" }
        })
    );
}

#[tokio::test]
async fn me_without_a_token_asks_for_one() {
    let system = TestSystem::start().await;
    let response = system.client().query("{ me { name } }", json!({})).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        only_error(&response),
        json!({
            "message": "authentication required: send `Authorization: Bearer <token>`",
            "path": ["me"],
            "extensions": { "code": "UNAUTHENTICATED", "service": "store" }
        })
    );
}

#[tokio::test]
async fn a_forged_or_expired_token_is_unauthenticated() {
    let system = TestSystem::start().await;
    let (_, store_id) = system
        .sign_up(&unique_username("router"), "the-password")
        .await;
    let store_id: Uuid = store_id.parse().expect("uuid");
    let forged = system.forged_token_for(store_id);
    let expired = system.token_for(store_id, chrono::Duration::minutes(-10));
    for (case, token) in [("forged", forged), ("expired", expired)] {
        let response = system
            .client()
            .with_token(&token)
            .query("{ me { name } }", json!({}))
            .await;
        assert_eq!(response.status, 200, "{case}: {}", response.body);
        assert_eq!(
            only_error(&response),
            json!({
                "message": "authentication required: the token is missing, expired or invalid",
                "path": ["me"],
                "extensions": { "code": "UNAUTHENTICATED", "service": "store" }
            }),
            "{case}"
        );
    }
}

/// Statements every subgraph's requests ran so far.
fn statements_everywhere(system: &TestSystem) -> u64 {
    ["store", "item", "order", "sale", "dashboard", "consulting"]
        .iter()
        .map(|s| system.statements(s))
        .sum()
}

#[tokio::test]
async fn each_abuse_limit_is_refused_at_the_router_before_any_subgraph_works() {
    let system = TestSystem::start().await;
    let client = owner(&system).await;
    let aliases = (0..31)
        .map(|i| format!("a{i}: name"))
        .collect::<Vec<_>>()
        .join(" ");
    let tokens = "name ".repeat(4_100);
    let root_fields = (0..11)
        .map(|i| format!("f{i}: me {{ id }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let root_fragment = (0..11)
        .map(|i| format!("t{i}: __typename"))
        .collect::<Vec<_>>()
        .join(" ");
    let cases = [
        ("MAX_ALIASES_EXCEEDED", format!("{{ me {{ {aliases} }} }}")),
        ("TOKEN_LIMIT_EXCEEDED", format!("{{ me {{ {tokens} }} }}")),
        ("MAX_ROOT_FIELDS_EXCEEDED", format!("{{ {root_fields} }}")),
        (
            "MAX_ROOT_FIELDS_EXCEEDED",
            format!("query {{ ...Root }} fragment Root on Query {{ {root_fragment} }}"),
        ),
    ];
    let before = statements_everywhere(&system);
    for (reason, query) in &cases {
        let response = client.query(query, json!({})).await;
        let error = only_error(&response);
        assert_eq!(
            error["extensions"],
            json!({ "code": "GRAPHQL_VALIDATION_FAILED", "reason": reason }),
            "{}",
            response.body
        );
    }
    // Ten root fields are fine.
    let ten = (0..10)
        .map(|i| format!("f{i}: me {{ id }}"))
        .collect::<Vec<_>>()
        .join(" ");
    client
        .query(&format!("{{ {ten} }}"), json!({}))
        .await
        .data_or_panic();
    assert!(
        statements_everywhere(&system) > before,
        "the allowed query ran"
    );
    let after_allowed = statements_everywhere(&system);

    // A body over 2 MB is refused before it is parsed.
    let huge = format!("{{ me {{ name }} }} #{}", "x".repeat(2_200_000));
    let response = reqwest::Client::new()
        .post(&system.router_url)
        .header("content-type", "application/json")
        .body(json!({ "query": huge }).to_string())
        .send()
        .await
        .expect("the router answers");
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(
        statements_everywhere(&system),
        after_allowed,
        "no refused request reached a subgraph"
    );
}

#[tokio::test]
async fn introspection_can_be_switched_off_for_production() {
    let system = TestSystem::start_with(salesync_tests::Options {
        router_env: vec![("ROUTER_INTROSPECTION", "false".to_string())],
        ..Default::default()
    })
    .await;
    let response = system
        .client()
        .query("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        only_error(&response)["extensions"]["code"],
        "INTROSPECTION_DISABLED",
        "{}",
        response.body
    );
    // Operations still run.
    let client = owner(&system).await;
    client
        .query("{ me { id } }", json!({}))
        .await
        .data_or_panic();
}
