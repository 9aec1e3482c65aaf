//! The store subgraph through the real router, on PostgreSQL.

use salesync_store::config::LoginSettings;
use salesync_tests::{Client, Options, TestSystem, sign_up_input, unique_username};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

const ME: &str = "{ me { id username name ownerName tableCount timezone currency createdAt } }";
const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt store { id username } } }";

async fn login(client: &Client, username: &str, password: &str) -> salesync_tests::GraphqlResponse {
    client
        .query(LOGIN, json!({ "u": username, "p": password }))
        .await
}

#[tokio::test]
async fn sign_up_then_log_in_then_me_returns_the_store() {
    let system = TestSystem::start().await;
    let username = unique_username("kim");
    let (signup_token, store_id) = system.sign_up(&username, "s3cret-pass").await;

    let me = system
        .client()
        .with_token(&signup_token)
        .query(ME, json!({}))
        .await;
    let me = &me.data_or_panic()["me"];
    assert_eq!(me["id"], store_id.as_str());
    assert_eq!(me["username"], username.as_str());
    assert_eq!(me["tableCount"], 12, "default table count");
    assert_eq!(me["timezone"], "Asia/Seoul");
    assert_eq!(me["currency"], "KRW");

    let logged_in = login(&system.client(), &username, "s3cret-pass").await;
    let payload = &logged_in.data_or_panic()["login"];
    assert_eq!(payload["store"]["id"], store_id.as_str());
    let token = payload["token"].as_str().expect("token");
    let me_again = system.client().with_token(token).query(ME, json!({})).await;
    assert_eq!(me_again.data_or_panic()["me"]["id"], store_id.as_str());
}

#[tokio::test]
async fn unknown_username_and_wrong_password_give_the_same_error() {
    let system = TestSystem::start().await;
    let username = unique_username("lee");
    system.sign_up(&username, "right-password").await;

    let wrong_password = login(&system.client(), &username, "wrong-password").await;
    let unknown_user = login(
        &system.client(),
        &unique_username("nobody"),
        "right-password",
    )
    .await;
    let a = wrong_password.expect_error("UNAUTHENTICATED");
    let b = unknown_user.expect_error("UNAUTHENTICATED");
    assert_eq!(
        a["message"], b["message"],
        "the messages must not tell them apart"
    );
}

#[tokio::test]
async fn a_taken_username_is_a_conflict_and_no_longer_available() {
    let system = TestSystem::start().await;
    let username = unique_username("park");
    let available = "query($u: String!) { usernameAvailable(username: $u) }";

    let before = system
        .client()
        .query(available, json!({ "u": username }))
        .await;
    assert_eq!(before.data_or_panic()["usernameAvailable"], true);

    system.sign_up(&username, "first-owner").await;
    let again = system
        .client()
        .query(
            "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
            json!({ "i": sign_up_input(&username.to_uppercase(), "second-owner") }),
        )
        .await;
    again.expect_error("CONFLICT");

    let after = system
        .client()
        .query(available, json!({ "u": username }))
        .await;
    assert_eq!(after.data_or_panic()["usernameAvailable"], false);
}

#[tokio::test]
async fn me_needs_a_valid_token_through_the_router_and_at_the_subgraph() {
    let system = TestSystem::start().await;
    let (_, store_id) = system
        .sign_up(&unique_username("choi"), "s3cret-pass")
        .await;
    let store_id: Uuid = store_id.parse().expect("uuid");

    let forged = system.forged_token_for(store_id);
    let expired = system.token_for(store_id, chrono::Duration::minutes(-10));
    let cases: [(&str, Option<&str>); 4] = [
        ("no token", None),
        ("forged", Some(&forged)),
        ("expired", Some(&expired)),
        ("garbage", Some("not.a.jwt")),
    ];
    for client in [system.client(), system.direct("store")] {
        for (case, token) in cases {
            let client = match token {
                Some(token) => client.with_token(token),
                None => client.clone(),
            };
            let response = client.query(ME, json!({})).await;
            let error = response.expect_error("UNAUTHENTICATED");
            assert!(
                response.body["data"].is_null() || response.body["data"]["me"].is_null(),
                "{case}: {}",
                response.body
            );
            assert!(
                !error["message"].as_str().unwrap_or("").is_empty(),
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn each_input_rule_is_bad_user_input_naming_the_field() {
    let system = TestSystem::start().await;
    let mutation = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }";
    let cases: Vec<(&str, Value, &str)> = vec![
        ("username", json!("ab"), "input.username"),
        ("username", json!("bad name!"), "input.username"),
        ("password", json!("short"), "input.password"),
        ("timezone", json!("Mars/Olympus"), "input.timezone"),
        ("currency", json!("XYZ"), "input.currency"),
        ("tableCount", json!(0), "input.tableCount"),
        ("tableCount", json!(501), "input.tableCount"),
        ("name", json!("   "), "input.name"),
        ("ownerName", json!(""), "input.ownerName"),
        ("address", json!(" "), "input.address"),
        ("storeType", json!(""), "input.storeType"),
        ("phone", json!("call me"), "input.phone"),
        // PostgreSQL cannot store a NUL byte: refused as input, never INTERNAL.
        ("name", json!("Minji\u{0}s Kitchen"), "input.name"),
        ("ownerName", json!("Kim\u{7}"), "input.ownerName"),
        ("address", json!("12 Sejong\u{0}"), "input.address"),
        ("storeType", json!("ca\nfe"), "input.storeType"),
        ("password", json!("s3cret-\u{0}pass"), "input.password"),
    ];
    for (key, value, field) in cases {
        let mut input = sign_up_input(&unique_username("rule"), "s3cret-pass");
        input[key] = value.clone();
        let response = system.client().query(mutation, json!({ "i": input })).await;
        let error = response.expect_error("BAD_USER_INPUT");
        assert_eq!(
            error["extensions"]["field"], field,
            "{key}={value}: {}",
            response.body
        );
    }

    // Nothing was written: the username of a rejected sign-up is still free.
    let mut input = sign_up_input(&unique_username("rule"), "s3cret-pass");
    input["timezone"] = json!("Nowhere/Land");
    let username = input["username"].clone();
    system
        .client()
        .query(mutation, json!({ "i": input }))
        .await
        .expect_error("BAD_USER_INPUT");
    let free = system
        .client()
        .query(
            "query($u: String!) { usernameAvailable(username: $u) }",
            json!({ "u": username }),
        )
        .await;
    assert_eq!(free.data_or_panic()["usernameAvailable"], true);

    // The same rules hold for updates.
    let (token, _) = system.sign_up(&unique_username("upd"), "s3cret-pass").await;
    let update = "mutation($i: UpdateStoreInput!) { updateStore(input: $i) { tableCount } }";
    let response = system
        .client()
        .with_token(&token)
        .query(update, json!({ "i": { "tableCount": 0 } }))
        .await;
    assert_eq!(
        response.expect_error("BAD_USER_INPUT")["extensions"]["field"],
        "input.tableCount"
    );
    let response = system
        .client()
        .with_token(&token)
        .query(
            update,
            json!({ "i": { "tableCount": 30, "timezone": "Europe/Paris" } }),
        )
        .await;
    assert_eq!(response.data_or_panic()["updateStore"]["tableCount"], 30);
}

#[tokio::test]
async fn change_password_needs_the_current_one() {
    let system = TestSystem::start().await;
    let username = unique_username("jung");
    let (token, _) = system.sign_up(&username, "old-password").await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let client = system.client().with_token(&token);

    client
        .query(
            change,
            json!({ "c": "not-the-password", "n": "new-password" }),
        )
        .await
        .expect_error("FORBIDDEN");
    login(&system.client(), &username, "old-password")
        .await
        .data_or_panic();

    let changed = client
        .query(change, json!({ "c": "old-password", "n": "new-password" }))
        .await;
    assert_eq!(changed.data_or_panic()["changePassword"], true);
    login(&system.client(), &username, "new-password")
        .await
        .data_or_panic();
    login(&system.client(), &username, "old-password")
        .await
        .expect_error("UNAUTHENTICATED");
}

#[tokio::test]
async fn verify_password_answers_true_or_false() {
    let system = TestSystem::start().await;
    let (token, _) = system
        .sign_up(&unique_username("kang"), "the-password")
        .await;
    let verify = "mutation($p: String!) { verifyPassword(password: $p) }";
    let client = system.client().with_token(&token);
    let right = client.query(verify, json!({ "p": "the-password" })).await;
    assert_eq!(right.data_or_panic()["verifyPassword"], true);
    let wrong = client.query(verify, json!({ "p": "guess" })).await;
    assert_eq!(wrong.data_or_panic()["verifyPassword"], false);
}

#[tokio::test]
async fn delete_store_needs_the_password_and_then_the_store_is_gone() {
    let system = TestSystem::start().await;
    let username = unique_username("yoon");
    let (token, _) = system.sign_up(&username, "the-password").await;
    let delete = "mutation($p: String!) { deleteStore(password: $p) }";
    let client = system.client().with_token(&token);

    client
        .query(delete, json!({ "p": "wrong" }))
        .await
        .expect_error("FORBIDDEN");
    login(&system.client(), &username, "the-password")
        .await
        .data_or_panic();

    let deleted = client.query(delete, json!({ "p": "the-password" })).await;
    assert_eq!(deleted.data_or_panic()["deleteStore"], true);
    login(&system.client(), &username, "the-password")
        .await
        .expect_error("UNAUTHENTICATED");
    client
        .query(ME, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_username_for_a_while() {
    let system = TestSystem::start_with(Options {
        login: LoginSettings {
            max_failures: 3,
            window_seconds: 600,
            lock_seconds: 600,
            ..LoginSettings::default()
        },
        ..Options::default()
    })
    .await;
    let username = unique_username("han");
    system.sign_up(&username, "the-password").await;

    for _ in 0..3 {
        login(&system.client(), &username, "guess")
            .await
            .expect_error("UNAUTHENTICATED");
    }
    // Locked: even the right password is refused, and the client learns when to retry.
    let locked = login(&system.client(), &username, "the-password").await;
    let error = locked.expect_error("UNAUTHENTICATED");
    assert_eq!(error["extensions"]["reason"], "TOO_MANY_ATTEMPTS");
    assert!(
        error["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );

    // Another username is not affected.
    let other = unique_username("han2");
    system.sign_up(&other, "the-password").await;
    login(&system.client(), &other, "the-password")
        .await
        .data_or_panic();
}

#[tokio::test]
async fn one_address_guessing_at_many_usernames_is_locked_out_and_cannot_forge_another() {
    let system = TestSystem::start_with(Options {
        login: LoginSettings {
            max_failures: 3,
            max_failures_per_address: 4,
            window_seconds: 600,
            lock_seconds: 600,
        },
        ..Options::default()
    })
    .await;
    let victim = unique_username("victim");
    system.sign_up(&victim, "the-password").await;

    // One wrong guess at each of four usernames: under every username's
    // limit, but the fourth failure from this address locks the address.
    for _ in 0..4 {
        login(&system.client(), &unique_username("guess"), "guess")
            .await
            .expect_error("UNAUTHENTICATED");
    }
    let locked = login(&system.client(), &victim, "the-password").await;
    let error = locked.expect_error("UNAUTHENTICATED");
    assert_eq!(error["extensions"]["reason"], "TOO_MANY_ATTEMPTS");

    // The router sets the address itself: a client naming another is still
    // the same client.
    let forged = system
        .client()
        .with_header("x-salesync-client-address", "203.0.113.9")
        .with_header("x-forwarded-for", "203.0.113.9");
    let still = login(&forged, &victim, "the-password").await;
    assert_eq!(
        still.expect_error("UNAUTHENTICATED")["extensions"]["reason"],
        "TOO_MANY_ATTEMPTS"
    );

    // The username itself was never guessed at: from elsewhere (the store
    // subgraph reached as the router would from another client), it logs in.
    system
        .direct("store")
        .with_header("x-salesync-client-address", "198.51.100.20")
        .query(LOGIN, json!({ "u": victim, "p": "the-password" }))
        .await
        .data_or_panic();
}

#[tokio::test]
async fn another_stores_reference_does_not_resolve() {
    let system = TestSystem::start().await;
    let (token_a, _) = system.sign_up(&unique_username("a"), "the-password").await;
    let (_, store_b) = system.sign_up(&unique_username("b"), "the-password").await;
    let entities =
        r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id name } } }"#;
    let response = system
        .direct("store")
        .with_token(&token_a)
        .query(
            entities,
            json!({ "r": [{ "__typename": "Store", "id": store_b }] }),
        )
        .await;
    response.expect_error("NOT_FOUND");
    assert!(
        !response.body.to_string().contains("Minji's Kitchen"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn the_closeout_hour_is_validated_and_other_subgraphs_learn_the_profile_from_events() {
    let system = TestSystem::start().await;
    let (token, store_id) = system
        .sign_up(&unique_username("bar"), "the-password")
        .await;
    let client = system.client().with_token(&token);
    let me = client.query("{ me { closeoutHour } }", json!({})).await;
    assert_eq!(
        me.data_or_panic()["me"]["closeoutHour"],
        0,
        "midnight by default"
    );

    let update = "mutation($h: Int!) { updateStore(input: { closeoutHour: $h }) { closeoutHour } }";
    for bad in [-1, 24] {
        let refused = client.query(update, json!({ "h": bad })).await;
        assert_eq!(
            refused.expect_error("BAD_USER_INPUT")["extensions"]["field"],
            "input.closeoutHour",
            "{bad}"
        );
    }
    let updated = client.query(update, json!({ "h": 4 })).await;
    assert_eq!(updated.data_or_panic()["updateStore"]["closeoutHour"], 4);

    // Sign-up and the change each wrote their event with the change itself.
    let db = system.database("store").await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT payload FROM outbox WHERE key = $1 ORDER BY seq",
            [store_id.clone().into()],
        ))
        .await
        .expect("outbox rows");
    let events: Vec<Value> = rows
        .iter()
        .map(|row| {
            let payload: String = row.try_get("", "payload").expect("payload");
            serde_json::from_str(&payload).expect("an event")
        })
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["StoreOpened", "StoreUpdated"]);
    assert_eq!(events[0]["payload"]["closeoutHour"], 0);
    assert_eq!(events[1]["payload"]["closeoutHour"], 4);
    assert_eq!(events[1]["payload"]["timezone"], "Asia/Seoul");
    assert_eq!(events[1]["storeId"], store_id.as_str());
}
