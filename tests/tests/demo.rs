//! `salesync demo`: the real binary fills fresh PostgreSQL databases, then
//! the system started on them shows the demo store to its owner through
//! the router: the menu in won with costs, one row of sales per day, the
//! refunds, a profit.

use salesync_common::testing::fresh_server_database;
use salesync_tests::{Client, Options, TestSystem, binary};
use secrecy::ExposeSecret;
use serde_json::json;

const DAYS: i64 = 3;

async fn run_demo(database_url: &str, data_dir: &std::path::Path) -> std::process::Output {
    let mut command = tokio::process::Command::new(binary("salesync"));
    command
        .args(["demo", "--days", &DAYS.to_string(), "--orders", "10"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("SALESYNC_DATA_DIR", data_dir)
        .kill_on_drop(true);
    salesync::dies_with_parent(&mut command);
    tokio::time::timeout(std::time::Duration::from_secs(180), command.output())
        .await
        .expect("the demo finishes within 3 minutes")
        .expect("salesync runs (build it with `cargo build --workspace --bins`)")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_store_has_a_menu_and_days_of_sales_to_show() {
    let database = fresh_server_database();
    let salesync_common::config::DatabaseTarget::PerService(server) = &database else {
        unreachable!("test databases are per service")
    };
    let data_dir = std::env::temp_dir().join(format!("salesync-demo-{}", uuid::Uuid::new_v4()));
    let output = run_demo(server.expose_secret(), &data_dir).await;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the demo failed: {printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("login(username: \"demo\""), "{printed}");

    let system = TestSystem::start_with(Options {
        database: Some(database.clone()),
        ..Options::default()
    })
    .await;
    let login = system
        .client()
        .query(
            "mutation { login(username: \"demo\", password: \"salesync-demo\") { token } }",
            json!({}),
        )
        .await;
    let owner: Client = system
        .client()
        .with_token(login.data_or_panic()["login"]["token"].as_str().unwrap());

    let menu = owner
        .query(
            "{ me { currency timezone categories { name items { name price cost } } } }",
            json!({}),
        )
        .await;
    let me = &menu.data_or_panic()["me"];
    assert_eq!(me["currency"], "KRW");
    assert_eq!(me["timezone"], "Asia/Seoul");
    let items: Vec<_> = me["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .collect();
    assert!(items.len() >= 10, "a whole menu: {items:?}");
    for item in &items {
        let (price, cost) = (
            item["price"].as_i64().unwrap(),
            item["cost"].as_i64().unwrap(),
        );
        assert!(
            0 < cost && cost < price,
            "{item}: costs less than it sells for"
        );
    }

    // The business days the demo filled, the last one today in Seoul.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive();
    let from = today - chrono::Duration::days(DAYS - 1);
    let read = owner
        .query(
            "query($f: Date!, $t: Date!) {
               dailyVolumes(from: $f, to: $t) { date salesVolume profit orderCount }
               salesSummary(from: $f, to: $t) { salesVolume saleCount refundCount byMethod { method count } }
               salesReport(from: $f, to: $t) { salesVolume profit }
             }",
            json!({ "f": from.to_string(), "t": today.to_string() }),
        )
        .await;
    let data = read.data_or_panic();
    let days = data["dailyVolumes"].as_array().unwrap();
    let busy: Vec<_> = days
        .iter()
        .filter(|d| d["salesVolume"].as_i64().unwrap() > 0)
        .collect();
    // Today's orders can fall on yesterday's business day before the
    // closeout hour, so at least every day but one has sales.
    assert!(
        busy.len() as i64 >= DAYS - 1,
        "sales on every day: {days:?}"
    );
    let total: i64 = days
        .iter()
        .map(|d| d["salesVolume"].as_i64().unwrap())
        .sum();
    let summary = &data["salesSummary"];
    assert_eq!(summary["salesVolume"].as_i64().unwrap(), total);
    assert_eq!(data["salesReport"]["salesVolume"].as_i64().unwrap(), total);
    assert!(data["salesReport"]["profit"].as_i64().unwrap() > 0);
    assert!(summary["saleCount"].as_i64().unwrap() >= 8 * DAYS);
    assert!(
        summary["refundCount"].as_i64().unwrap() >= 1,
        "a few refunds: {summary}"
    );
    let methods: Vec<_> = summary["byMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert!(
        methods.contains(&"CARD") && methods.contains(&"CASH"),
        "{summary}"
    );

    // Once is enough: the same username again is refused, clearly.
    drop(system);
    let again = run_demo(server.expose_secret(), &data_dir).await;
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("is taken") && said.contains("--username"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
