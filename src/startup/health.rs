//! What the health service reports: SERVING while the database answers and the server is not
//! draining, NOT_SERVING otherwise, for every service (they all need the database) and for ""
//! (the server as a whole), so a balancer checking either stops sending calls.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::grpc;
use crate::store::Store;

/// How often the database is asked whether it answers, and how long each ask may take.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct Health {
    reporter: HealthReporter,
    state: Arc<Mutex<State>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    database_up: bool,
    draining: bool,
}

impl State {
    fn status(self) -> ServingStatus {
        match self.database_up && !self.draining {
            true => ServingStatus::Serving,
            false => ServingStatus::NotServing,
        }
    }
}

impl Health {
    /// Every service SERVING.
    pub(super) async fn new(reporter: HealthReporter) -> Self {
        let health = Self {
            reporter,
            state: Arc::new(Mutex::new(State {
                database_up: true,
                draining: false,
            })),
        };
        health.publish(ServingStatus::Serving).await;
        health
    }

    /// NOT_SERVING from now on, whatever the database does.
    pub(super) async fn drain(&self) {
        self.change(|s| s.draining = true).await;
    }

    async fn database(&self, up: bool) {
        self.change(|s| s.database_up = up).await;
    }

    async fn change(&self, how: impl FnOnce(&mut State)) {
        // Held while publishing: two changes are published in the order they were made.
        let mut state = self.state.lock().await;
        let before = state.status();
        how(&mut state);
        if state.status() != before {
            self.publish(state.status()).await;
        }
    }

    async fn publish(&self, status: ServingStatus) {
        for name in std::iter::once(&"").chain(grpc::SERVICE_NAMES) {
            self.reporter.set_service_status(*name, status).await;
        }
    }
}

/// Asks the database every `PROBE_INTERVAL` whether it answers, on a connection of its own;
/// health follows, and the change transitions are logged once each. When it answers again,
/// what waits to retry (the listener) retries at once. Runs until aborted.
pub(super) async fn follow_database(store: Store, health: Health) {
    let mut probe = store.probe(PROBE_TIMEOUT);
    let mut tick = tokio::time::interval(PROBE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut up = true;
    loop {
        tick.tick().await;
        let answers = probe.reachable().await;
        if answers == up {
            continue;
        }
        up = answers;
        if up {
            tracing::info!("the database answers again: SERVING");
            store.database_returned();
        } else {
            tracing::warn!(
                "the database does not answer: NOT_SERVING until it does (calls that need it are answered UNAVAILABLE)"
            );
        }
        health.database(up).await;
    }
}
