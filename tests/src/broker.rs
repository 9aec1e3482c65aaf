//! A Kafka-protocol broker (tansu, memory storage) of one test's own, so the
//! test can stop it and start it again (everything it held is gone then, as
//! after an operator restarted a broker without persistent storage), or
//! freeze it and let it go on (a broker that stops answering for a while,
//! then answers with everything it held).

use std::{process::Stdio, time::Duration};

use tokio::process::{Child, Command};

pub struct OwnBroker {
    port: u16,
    process: Option<Child>,
}

impl OwnBroker {
    /// Starts a broker on a free port and waits until it listens.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port).await
    }

    /// Starts a broker on `port` and waits until it listens.
    pub async fn start_on(port: u16) -> Self {
        let binary = std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".to_string());
        let url = format!("tcp://127.0.0.1:{port}");
        let process = salesync::dies_with_parent(&mut Command::new(&binary))
            .args(["broker", "--storage-engine", "memory://tansu/"])
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{binary} must be installed (scripts/test installs it): {e}")
            });
        let broker = OwnBroker {
            port,
            process: Some(process),
        };
        broker.wait_until_listening().await;
        broker
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's process id while it runs (to read its CPU and memory).
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref()?.id()
    }

    /// `host:port`, as `KAFKA_BROKERS` takes it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker; what it held is lost.
    pub async fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().await.expect("kill the broker");
        }
    }

    /// Freezes the broker (SIGSTOP): connections stay open and nothing is
    /// answered, as when its machine stalls or the network drops.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused broker go on (SIGCONT) with everything it held.
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        crate::signal(
            self.process.as_ref().expect("the broker is running"),
            signal,
        );
    }

    /// Starts an empty broker again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = Self::start_on(self.port).await;
    }

    async fn wait_until_listening(&self) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the broker did not start on port {}", self.port);
    }
}
