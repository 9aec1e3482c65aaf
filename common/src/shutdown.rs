//! Stopping: the process's stop signal, and how background tasks learn
//! that the application is stopping.

use tokio::sync::watch;

/// Tells every [`Stop`] made from it that stopping began.
pub struct Trigger(watch::Sender<bool>);

/// Tells a background task that the application is stopping. Clones share
/// one trigger.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

/// A trigger and the stop it fires.
pub fn channel() -> (Trigger, Stop) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Stop(receiver))
}

impl Trigger {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Stop {
    /// Resolves once stopping began (or the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends before it kills a pod).
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_of_a_stop_hears_its_trigger() {
        let (trigger, stop) = channel();
        let mut a = stop.clone();
        let mut b = stop;
        trigger.stop();
        tokio::time::timeout(std::time::Duration::from_secs(1), async {
            a.wait().await;
            b.wait().await;
        })
        .await
        .expect("both stops resolve");
    }
}
