//! The test harness: a whole Salesync system per test, as a client meets it.
//!
//! [`TestSystem::start`] gives each test its own PostgreSQL databases (one per
//! subgraph, named by a UUID), starts every subgraph of the launcher's one
//! list in-process on port 0 (configured through the same layers a
//! deployment uses), then the real router binary in front of them on a free
//! port, and waits until a signed token passes the router. Logs stay silent
//! unless `TEST_LOG=1`.

use std::{collections::HashMap, path::PathBuf, process::Stdio, sync::Once, time::Duration};

use anyhow::Context;
use salesync_common::{
    clock::Clock,
    config::{AuthSettings, DatabaseTarget, Layers, LogFormat},
    db::StatementCounter,
    events::{BusTarget, KafkaSettings, memory::MemoryBus},
    shutdown::{self, Trigger},
    testing::fresh_server_database,
};
use salesync_store::{
    config::LoginSettings,
    tokens::{TokenIssuer, generate_pem},
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::process::Child;
use uuid::Uuid;

pub mod access;
mod broker;
mod client;
pub mod model;
pub mod plans;
pub mod restaurant;
mod ws;
pub use broker::OwnBroker;
pub use client::{Client, GraphqlResponse};
pub use ws::WsSubscription;

/// The internal key of every test system.
pub const INTERNAL_KEY: &str = "test-internal-key";

/// Knobs a test may turn before starting the system.
#[derive(Clone)]
pub struct Options {
    pub login: LoginSettings,
    pub token_ttl_seconds: i64,
    pub bus: TestBus,
    /// The clock every subgraph reads (a manual one stands at a given hour).
    pub clock: Clock,
    /// More configuration, as `SALESYNC_<KEY>` would give it (dotted keys:
    /// `faults.checkout_stop_after`).
    pub config: Vec<(&'static str, String)>,
    /// Environment of the router process (`ROUTER_INTROSPECTION=false`).
    pub router_env: Vec<(&'static str, String)>,
    /// Databases that already hold data (made by [`fresh_server_database`]
    /// and filled by a command); else new ones.
    pub database: Option<DatabaseTarget>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            login: LoginSettings::default(),
            token_ttl_seconds: 3600,
            bus: TestBus::InProcess,
            clock: Clock::system(),
            config: Vec::new(),
            router_env: Vec::new(),
            database: None,
        }
    }
}

/// Which bus a test system uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBus {
    /// A bus of this system's own, in this process.
    InProcess,
    /// The real broker at [`kafka_brokers`], with topics and groups in a
    /// namespace of this system's own.
    Kafka,
    /// A broker on this loopback port (an [`OwnBroker`] the test controls).
    KafkaAt(u16),
}

/// The Kafka-protocol broker the event tests use (`scripts/test` starts one).
pub fn kafka_brokers() -> String {
    std::env::var("SALESYNC_TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_string())
}

/// Kafka settings for `brokers` in a namespace no other test uses.
pub fn kafka_settings(brokers: &str) -> KafkaSettings {
    KafkaSettings {
        brokers: brokers.to_string(),
        namespace: format!("t{}.", &Uuid::new_v4().simple().to_string()[..12]),
        ..KafkaSettings::default()
    }
}

/// A running system: subgraphs, router, and the key that signs tokens.
pub struct TestSystem {
    pub router_url: String,
    /// Each subgraph's GraphQL URL, by name.
    urls: HashMap<&'static str, String>,
    /// SQL statements each subgraph's requests ran: the dataloader tests read them.
    statements: HashMap<&'static str, StatementCounter>,
    /// Signs tokens exactly like the store subgraph does (same key).
    pub signing_key: SecretString,
    pub auth: AuthSettings,
    database: DatabaseTarget,
    /// The configuration every subgraph was started with.
    layers: Layers,
    bus: Option<BusTarget>,
    clock: Clock,
    running: HashMap<&'static str, Running>,
    /// Subgraphs moved out of this process by [`TestSystem::run_as_process`].
    processes: HashMap<&'static str, SubgraphProcess>,
    _router: Child,
    _data_dir: TempDir,
}

/// A subgraph running in this process, and how to stop it.
struct Running {
    port: u16,
    trigger: Trigger,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Builds `subgraph` from `layers` with the system's bus and clock, and runs it.
async fn launch(
    subgraph: &salesync::Entry,
    layers: &Layers,
    bus: &Option<BusTarget>,
    clock: &Clock,
) -> (Running, StatementCounter) {
    let app = (subgraph.build)(layers, &|settings| {
        if let Some(bus) = bus {
            settings.bus = bus.clone();
        }
        settings.clock = clock.clone();
    })
    .await
    .unwrap_or_else(|e| panic!("the {} subgraph starts: {e:?}", subgraph.name));
    let (trigger, mut stop) = shutdown::channel();
    let port = app.port();
    let statements = app.statements();
    let task = tokio::spawn(app.run_until_stopped(async move { stop.wait().await }));
    (
        Running {
            port,
            trigger,
            task,
        },
        statements,
    )
}

impl TestSystem {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        init_logs();
        let data_dir = TempDir::new();
        let database = options
            .database
            .clone()
            .unwrap_or_else(fresh_server_database);
        let signing_key = generate_pem().expect("a signing key");
        let mut layers = test_layers(&options, &database, &data_dir, &signing_key)
            .expect("the test configuration");
        let bus = match options.bus {
            TestBus::InProcess => Some(BusTarget::Isolated(MemoryBus::new())),
            TestBus::Kafka | TestBus::KafkaAt(_) => {
                let brokers = match options.bus {
                    TestBus::KafkaAt(port) => format!("127.0.0.1:{port}"),
                    _ => kafka_brokers(),
                };
                let kafka = kafka_settings(&brokers);
                layers = layers
                    .with("kafka.brokers", kafka.brokers)
                    .and_then(|l| l.with("kafka.namespace", kafka.namespace))
                    .expect("the Kafka configuration");
                None
            }
        };

        let mut urls = HashMap::new();
        let mut statements = HashMap::new();
        let mut running = HashMap::new();
        for subgraph in salesync::subgraphs() {
            let (started, counter) = launch(&subgraph, &layers, &bus, &options.clock).await;
            let url = subgraph.url(started.port);
            statements.insert(subgraph.name, counter);
            running.insert(subgraph.name, started);
            // Later subgraphs reach this one where it really listens.
            layers = layers
                .with(&format!("upstream.{}_url", subgraph.name), url.clone())
                .expect("an upstream URL");
            if subgraph.name == "store" {
                let jwks = url.replace("/graphql", "/.well-known/jwks.json");
                layers = layers.with("auth.jwks_url", jwks).expect("the JWKS URL");
            }
            urls.insert(subgraph.name, url);
        }

        let (router, router_url) = start_router(&urls, &options.router_env);

        let system = TestSystem {
            router_url,
            urls,
            statements,
            signing_key,
            auth: AuthSettings::default(),
            database,
            layers,
            bus,
            clock: options.clock,
            running,
            processes: HashMap::new(),
            _router: router,
            _data_dir: data_dir,
        };
        system.wait_for_router(&system.router_url).await;
        system
    }

    /// A second replica of every subgraph and a second router in front of
    /// them, sharing this system's databases, broker namespace and keys: how
    /// Kubernetes runs two pods of each. Needs a system on Kafka.
    pub async fn replica(&self) -> Replica {
        assert!(
            self.bus.is_none(),
            "replicas share a broker: start the system with TestBus::Kafka"
        );
        let mut layers = self.layers.clone();
        let mut urls = HashMap::new();
        let mut running = Vec::new();
        for subgraph in salesync::subgraphs() {
            let (started, _) = launch(&subgraph, &layers, &self.bus, &self.clock).await;
            let url = subgraph.url(started.port);
            // The second replicas reach each other.
            layers = layers
                .with(&format!("upstream.{}_url", subgraph.name), url.clone())
                .expect("an upstream URL");
            urls.insert(subgraph.name, url);
            running.push(started);
        }
        let (router, router_url) = start_router(&urls, &[]);
        self.wait_for_router(&router_url).await;
        Replica {
            router_url,
            _running: running,
            _router: router,
        }
    }

    /// Stops one subgraph (gracefully, as Kubernetes would) and starts it
    /// again on the same port, with `config` set on top of what it had.
    pub async fn restart(&mut self, subgraph: &str, config: &[(&str, &str)]) {
        let entry = salesync::subgraphs()
            .into_iter()
            .find(|e| e.name == subgraph)
            .unwrap_or_else(|| panic!("no subgraph named {subgraph}"));
        let old = self
            .running
            .remove(entry.name)
            .unwrap_or_else(|| panic!("{subgraph} is not running"));
        old.trigger.stop();
        let _ = old.task.await;
        let mut layers = self
            .layers
            .clone()
            .with("port", i64::from(old.port))
            .expect("the port");
        for (key, value) in config {
            layers = layers.with(key, *value).expect("the configuration");
        }
        let (started, counter) = launch(&entry, &layers, &self.bus, &self.clock).await;
        self.statements.insert(entry.name, counter);
        self.running.insert(entry.name, started);
    }

    /// Moves `subgraph` out of this process: stops it gracefully and runs
    /// its own binary (`salesync-<name> serve`) on the same port, configured
    /// exactly as it was, through the environment a container would get.
    /// From then on [`TestSystem::kill`] can SIGKILL it mid-request.
    pub async fn run_as_process(&mut self, subgraph: &str) {
        self.run_as_process_with(subgraph, &[]).await;
    }

    /// [`TestSystem::run_as_process`] with more environment (an OTLP
    /// endpoint, say).
    pub async fn run_as_process_with(&mut self, subgraph: &str, extra: &[(&str, &str)]) {
        let (name, old) = self
            .running
            .remove_entry(subgraph)
            .unwrap_or_else(|| panic!("{subgraph} is not running in this process"));
        old.trigger.stop();
        let _ = old.task.await;
        let layers = self.layers.clone().with("port", i64::from(old.port));
        let mut environment = environment(&layers.expect("the port"));
        environment.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut process = SubgraphProcess {
            name,
            port: old.port,
            environment,
            child: None,
        };
        process.start().await;
        self.processes.insert(name, process);
    }

    /// Kills a subgraph moved out by [`TestSystem::run_as_process`] with
    /// SIGKILL: no graceful shutdown, its requests and transactions cut off.
    pub async fn kill(&mut self, subgraph: &str) {
        self.process(subgraph).kill().await;
    }

    /// Stops a subgraph moved out by [`TestSystem::run_as_process`] as
    /// Kubernetes does in a rolling update: SIGTERM, then waits for it to
    /// finish what it was doing and exit.
    pub async fn terminate(&mut self, subgraph: &str) {
        self.process(subgraph).terminate().await;
    }

    /// Starts a killed subgraph process again and waits until it answers.
    pub async fn start_again(&mut self, subgraph: &str) {
        self.process(subgraph).start().await;
    }

    /// The operating system's id of each process of the system: the router
    /// and every subgraph moved out by [`TestSystem::run_as_process`] (the
    /// soak reads their memory).
    pub fn process_ids(&self) -> Vec<(&'static str, u32)> {
        let mut ids: Vec<(&'static str, u32)> = self
            .processes
            .values()
            .filter_map(|p| Some((p.name, p.child.as_ref()?.id()?)))
            .collect();
        ids.sort();
        ids.extend(self._router.id().map(|id| ("router", id)));
        ids
    }

    fn process(&mut self, subgraph: &str) -> &mut SubgraphProcess {
        self.processes
            .get_mut(subgraph)
            .unwrap_or_else(|| panic!("{subgraph} does not run as a process of its own"))
    }

    /// Terminates every PostgreSQL connection to the subgraphs' databases
    /// (`pg_terminate_backend`), as a failover or an operator would; returns
    /// how many there were.
    pub async fn terminate_database_connections(&self) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let names: Vec<String> = salesync::subgraphs()
            .iter()
            .map(|subgraph| {
                let url = self.database.url_for(subgraph.name).expect("database URL");
                let url = url::Url::parse(url.expose_secret()).expect("a database URL");
                format!("'{}'", url.path().trim_start_matches('/'))
            })
            .collect();
        let db = self.database("store").await;
        let sql = format!(
            "SELECT count(pg_terminate_backend(pid)) AS terminated FROM pg_stat_activity \
             WHERE datname IN ({}) AND pid <> pg_backend_pid()",
            names.join(", ")
        );
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("terminate the connections")
            .expect("a row");
        row.try_get("", "terminated").expect("a count")
    }

    /// The system's event bus, to publish as a subgraph would (the
    /// benchmark loads its sales this way).
    pub async fn bus(&self) -> std::sync::Arc<dyn salesync_common::events::EventBus> {
        let target = match &self.bus {
            Some(bus) => bus.clone(),
            None => {
                self.layers
                    .service("harness", 0)
                    .expect("the configuration")
                    .bus
            }
        };
        salesync_common::events::connect(&target, "harness")
            .await
            .expect("the bus")
    }

    /// A client of the router, as a front end would be.
    pub fn client(&self) -> Client {
        Client::new(&self.router_url)
    }

    /// A subgraph's own GraphQL URL.
    pub fn url(&self, subgraph: &str) -> &str {
        self.urls
            .get(subgraph)
            .unwrap_or_else(|| panic!("no subgraph named {subgraph}"))
    }

    /// A client that talks to one subgraph directly, bypassing the router.
    pub fn direct(&self, subgraph: &str) -> Client {
        Client::new(self.url(subgraph))
    }

    /// The SQL statements one subgraph's requests have run so far.
    pub fn statements(&self, subgraph: &str) -> u64 {
        self.statements
            .get(subgraph)
            .unwrap_or_else(|| panic!("no subgraph named {subgraph}"))
            .get()
    }

    /// The router's WebSocket endpoint (graphql-transport-ws).
    pub fn router_ws_url(&self) -> String {
        self.router_url.replacen("http://", "ws://", 1)
    }

    /// A connection to one subgraph's own database, to check what it holds.
    /// The URL of `service`'s database.
    pub fn database_url(&self, service: &str) -> SecretString {
        self.database.url_for(service).expect("database URL")
    }

    pub async fn database(&self, service: &str) -> sea_orm::DatabaseConnection {
        let url = self.database_url(service);
        salesync_common::db::connect(&url, &Default::default())
            .await
            .expect("database")
    }

    /// Signs a token for `store_id` with the store subgraph's own key.
    pub fn token_for(&self, store_id: Uuid, ttl: chrono::Duration) -> String {
        TokenIssuer::from_pem(&self.signing_key, ttl, &self.auth)
            .expect("issuer")
            .issue(store_id, "test", 0)
            .expect("token")
            .token
    }

    /// A token for `store_id` with the right claims, signed by a key nobody
    /// published: what a forger would send.
    pub fn forged_token_for(&self, store_id: Uuid) -> String {
        let other = generate_pem().expect("a signing key");
        TokenIssuer::from_pem(&other, chrono::Duration::hours(1), &self.auth)
            .expect("issuer")
            .issue(store_id, "forger", 0)
            .expect("token")
            .token
    }

    /// The router is ready once its supergraph is loaded and it has fetched
    /// the store's JWKS: a signed token then gets past it. A router that runs
    /// only persisted documents is asked one of the front end's queries.
    async fn wait_for_router(&self, router_url: &str) {
        let token = self.token_for(Uuid::new_v4(), chrono::Duration::minutes(5));
        let client = Client::new(router_url).with_token(&token);
        let mut probe = json!({ "query": "{ __typename }" });
        for _ in 0..150 {
            if let Ok(response) = client.try_send(&probe).await {
                if response.errors().is_empty() {
                    return;
                }
                if response.error_code().as_deref() == Some("PERSISTED_DOCUMENT_ID_REQUIRED") {
                    probe = json!({ "documentId": persisted_document_id("OpenOrders") });
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the router did not become ready at {router_url}");
    }

    /// Signs up a store with valid defaults; returns its token and id.
    pub async fn sign_up(&self, username: &str, password: &str) -> (String, String) {
        let response = self
            .client()
            .query(
                "mutation($input: SignUpInput!) { signUp(input: $input) { token store { id } } }",
                json!({ "input": sign_up_input(username, password) }),
            )
            .await;
        let data = response.data_or_panic();
        (
            data["signUp"]["token"].as_str().expect("token").to_string(),
            data["signUp"]["store"]["id"]
                .as_str()
                .expect("id")
                .to_string(),
        )
    }
}

/// A signed-up store with a one-category menu.
pub struct Shop {
    /// A client of the router with the store's token.
    pub client: Client,
    pub token: String,
    pub store_id: String,
    /// The ids of the menu's items, in the order they were given.
    pub items: Vec<String>,
}

impl TestSystem {
    /// Signs up a store and puts `menu` (name, price) on it in one category.
    pub async fn shop(&self, menu: &[(&str, i64)]) -> Shop {
        let (token, store_id) = self.sign_up(&unique_username("shop"), "the-password").await;
        let client = self.client().with_token(&token);
        let category = client
            .query(
                "mutation { createCategory(name: \"All\") { id } }",
                json!({}),
            )
            .await
            .data_or_panic()["createCategory"]["id"]
            .clone();
        let mut items = Vec::new();
        for (name, price) in menu {
            let item = client
                .query(
                    "mutation($c: ID!, $n: String!, $p: Money!) { createItem(input: { categoryId: $c, name: $n, price: $p }) { id } }",
                    json!({ "c": category, "n": name, "p": price }),
                )
                .await;
            let id = item.data_or_panic()["createItem"]["id"]
                .as_str()
                .expect("id");
            items.push(id.to_string());
        }
        Shop {
            client,
            token,
            store_id,
            items,
        }
    }
}

/// The configuration of one test system, as environment variables would
/// give it: every subgraph on a free port, its own databases and folder,
/// the test's signing key and knobs.
fn test_layers(
    options: &Options,
    database: &DatabaseTarget,
    data_dir: &TempDir,
    signing_key: &SecretString,
) -> anyhow::Result<Layers> {
    let DatabaseTarget::PerService(server) = database else {
        anyhow::bail!("test databases are per service");
    };
    let mut layers = Layers::empty();
    for (key, value) in &options.config {
        layers = layers.with(key, value.as_str())?;
    }
    layers
        .with("port", 0)?
        .with("server_database_url", server.expose_secret())?
        .with("data_dir", data_dir.0.display().to_string())?
        .with("internal_key", INTERNAL_KEY)?
        .with("tokens.signing_key_pem", signing_key.expose_secret())?
        .with("tokens.ttl_seconds", options.token_ttl_seconds)?
        .with("login.max_failures", i64::from(options.login.max_failures))?
        .with(
            "login.max_failures_per_address",
            i64::from(options.login.max_failures_per_address),
        )?
        .with("login.window_seconds", options.login.window_seconds)?
        .with("login.lock_seconds", options.login.lock_seconds)
}

/// Runs the front end's Node tests in `web/<folder>` (`node --test`)
/// against the router at `router_url`, with `env` besides; panics with
/// their report unless every one passed and `passed` of them ran (a file
/// that stopped loading would otherwise pass with none).
pub async fn web_tests(
    folder: &str,
    router_url: &str,
    env: &[(&str, String)],
    passed: u32,
) -> String {
    let web = salesync::repo_root().join("web");
    assert!(
        web.join("node_modules/@apollo/client").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ (scripts/test does)"
    );
    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-reporter=spec", folder])
        .current_dir(&web)
        .env("SALESYNC_ROUTER_URL", router_url)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    salesync::dies_with_parent(&mut node);
    let output = tokio::time::timeout(Duration::from_secs(180), node.output())
        .await
        .expect("the web tests finish within 3 minutes")
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(output.status.success(), "web/{folder} failed:\n{report}");
    assert!(
        report.contains(&format!("pass {passed}\n")),
        "not every step of web/{folder} ran:\n{report}"
    );
    report
}

/// The id of the front end's operation `name` in `web/persisted-documents.json`.
pub fn persisted_document_id(name: &str) -> String {
    let path = salesync::repo_root().join("web/persisted-documents.json");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("the manifest is JSON");
    manifest["operations"]
        .as_array()
        .and_then(|operations| operations.iter().find(|o| o["name"] == name))
        .and_then(|operation| operation["id"].as_str())
        .unwrap_or_else(|| panic!("no operation {name} in {}", path.display()))
        .to_string()
}

/// A valid `SignUpInput` for `username`.
pub fn sign_up_input(username: &str, password: &str) -> Value {
    json!({
        "username": username,
        "password": password,
        "ownerName": "Kim Minji",
        "phone": "+82 10-1234-5678",
        "name": "Minji's Kitchen",
        "address": "12 Sejong-daero, Seoul",
        "storeType": "restaurant",
    })
}

/// Today's date where a new store is (its default time zone, `Asia/Seoul`,
/// and closeout hour 0): the business day of a sale made now.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive()
}

/// Rows of `table` in `db` that belong to `store_id`.
pub async fn rows_of_store(db: &sea_orm::DatabaseConnection, table: &str, store_id: Uuid) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM {table} WHERE store_id = $1"),
            [store_id.into()],
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

/// How many connections to `db`'s database wait for a lock (a row's, a
/// table's or an advisory one).
pub async fn lock_waits(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    db.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(*) AS n FROM pg_stat_activity \
          WHERE datname = current_database() AND wait_event_type = 'Lock'",
    ))
    .await
    .expect("pg_stat_activity")
    .expect("a row")
    .try_get::<i64>("", "n")
    .expect("a count")
}

/// A username no other test uses.
pub fn unique_username(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..10])
}

fn logs_on() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Turns logs on when `TEST_LOG` is set; every test may call it.
pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Traces always (the trace context tests follow them); logs on ask.
        let filter = if logs_on() { "info" } else { "off" };
        salesync_common::telemetry::init_with_default("tests", LogFormat::Pretty, filter);
    });
}

/// The router binary built into the same target folder as this test.
fn router_binary() -> PathBuf {
    if let Ok(path) = std::env::var("SALESYNC_ROUTER_BIN") {
        return PathBuf::from(path);
    }
    binary("salesync-router")
}

/// A binary of the workspace, built into the same target folder as this
/// test (`target/<profile>/deps/<test>`) or this binary (`target/<profile>/<bin>`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running binary's path");
    let dir = exe.parent().expect("the running binary is in a folder");
    let profile_dir = if dir.ends_with("deps") {
        dir.parent().expect("deps is in target/<profile>")
    } else {
        dir
    };
    profile_dir.join(name)
}

impl TestSystem {
    /// Runs `salesync-<subgraph> <args>` as an operator would beside the
    /// running system: on the subgraph's database, pointed at the other
    /// subgraphs, with the internal key. Returns what it printed; panics
    /// when it fails.
    pub async fn run_command(&self, subgraph: &str, args: &[&str]) -> String {
        let path = binary(&format!("salesync-{subgraph}"));
        let mut command = tokio::process::Command::new(&path);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "SALESYNC_DATABASE_URL",
                self.database
                    .url_for(subgraph)
                    .expect("database URL")
                    .expose_secret(),
            )
            .env("SALESYNC_INTERNAL_KEY", INTERNAL_KEY)
            .env("SALESYNC_DATA_DIR", self._data_dir.0.display().to_string())
            .env("RUST_LOG", "warn");
        for (name, url) in &self.urls {
            command.env(
                format!("SALESYNC_UPSTREAM__{}_URL", name.to_uppercase()),
                url,
            );
        }
        let output = command.output().await.unwrap_or_else(|e| {
            panic!(
                "{} runs (build it with `cargo build --workspace --bins`): {e}",
                path.display()
            )
        });
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "salesync-{subgraph} {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

/// A subgraph running as its own process: its binary, port and environment.
struct SubgraphProcess {
    name: &'static str,
    port: u16,
    environment: Vec<(String, String)>,
    child: Option<Child>,
}

impl SubgraphProcess {
    async fn start(&mut self) {
        let path = binary(&format!("salesync-{}", self.name));
        let child = salesync::dies_with_parent(&mut tokio::process::Command::new(&path))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", if logs_on() { "info" } else { "error" })
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(child_output())
            .stderr(child_output())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{} runs (build it with `cargo build --workspace --bins`): {e}",
                    path.display()
                )
            });
        self.child = Some(child);
        let health = format!("http://127.0.0.1:{}/health", self.port);
        for _ in 0..300 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "salesync-{} did not answer on port {}",
            self.name, self.port
        );
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("SIGKILL the subgraph");
        }
    }

    async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(&child, "TERM");
        let exited = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        assert!(
            exited.is_ok_and(|status| status.is_ok()),
            "salesync-{} did not exit within 30 s of SIGTERM",
            self.name
        );
    }
}

/// Where a child process's output goes: the test's own when `TEST_LOG` is
/// set, nowhere otherwise.
fn child_output() -> Stdio {
    if logs_on() {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}

/// Sends `signal` (`TERM`, `STOP`, `CONT`) to a running child process.
fn signal(child: &Child, signal: &str) {
    let pid = child.id().expect("the process is running");
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// The environment that gives a process exactly `layers`: every value as
/// `SALESYNC_<KEY>`, sections joined by `__`, as a container is configured.
fn environment(layers: &Layers) -> Vec<(String, String)> {
    fn flatten(name: String, value: &Value, into: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let separator = if name == "SALESYNC" { "_" } else { "__" };
                    flatten(
                        format!("{name}{separator}{}", key.to_uppercase()),
                        value,
                        into,
                    );
                }
            }
            Value::Null => {}
            Value::String(text) => into.push((name, text.clone())),
            other => into.push((name, other.to_string())),
        }
    }
    let tree: Value = layers.sections().expect("the configuration");
    let mut environment = Vec::new();
    flatten("SALESYNC".to_string(), &tree, &mut environment);
    environment
}

/// The router binary in front of `urls`, on a free port; and its URL.
fn start_router(
    urls: &HashMap<&'static str, String>,
    env: &[(&'static str, String)],
) -> (Child, String) {
    let port = free_port();
    let router_urls: Vec<(&str, String)> = urls
        .iter()
        .map(|(name, url)| (*name, url.clone()))
        .collect();
    let router = salesync::router_command(&router_binary(), &router_urls)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("ROUTER_PORT", port.to_string())
        .env("ROUTER_LOG_LEVEL", if logs_on() { "info" } else { "error" })
        .stdout(child_output())
        .stderr(child_output())
        .spawn()
        .expect("the router starts (build it with `cargo build -p salesync-router`)");
    (router, format!("http://127.0.0.1:{port}/graphql"))
}

/// The second replicas and router of [`TestSystem::replica`]; they stop
/// when this is dropped.
pub struct Replica {
    pub router_url: String,
    _running: Vec<Running>,
    _router: Child,
}

impl Replica {
    /// A client of the second router.
    pub fn client(&self) -> Client {
        Client::new(&self.router_url)
    }

    /// The second router's WebSocket endpoint.
    pub fn router_ws_url(&self) -> String {
        self.router_url.replacen("http://", "ws://", 1)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A folder removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("salesync-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path)
            .context("temp dir")
            .expect("a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
