//! Background work beside the server, and the signal that stops it.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::service::orders::OrderService;

/// The tasks a serving server runs beside its calls.
#[derive(Default)]
pub(super) struct Background(Vec<JoinHandle<()>>);

impl Background {
    pub(super) fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.0.push(tokio::spawn(task));
    }

    /// Stops every task: aborted, then awaited, so that none holds the store once the server's
    /// `run` answers (a SQLite file's lock is free for the next server at once).
    pub(super) async fn stop(self) {
        for task in &self.0 {
            task.abort();
        }
        for task in self.0 {
            let _ = task.await;
        }
    }
}

/// Completes provisioned orders and forgets old request ids, until aborted.
pub(super) async fn provisioning_loop(orders: OrderService) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = orders.provision_pending().await {
            tracing::warn!(error = %e, "provisioning pass failed; retrying");
        }
        // About hourly.
        if ticks.is_multiple_of(36_000)
            && let Err(e) = orders.purge_request_ids().await
        {
            tracing::warn!(error = %e, "purging old request ids failed");
        }
        ticks += 1;
    }
}

/// Runs the renewal pass up to the service clock's now every `interval_ms` (0: never), the
/// first after one interval, until aborted. Replicas may all run it: each term ends once.
pub(super) async fn renewal_loop(orders: OrderService, interval_ms: u64) {
    if interval_ms == 0 {
        return;
    }
    let period = Duration::from_millis(interval_ms);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = orders.run_renewals(None).await {
            tracing::warn!(error = %e, "renewal pass failed; retrying at the next interval");
        }
    }
}

/// Forgets subscription events older than `months` months every `every`, until aborted.
pub(super) async fn event_purge_loop(orders: OrderService, every: Duration, months: u32) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match orders.purge_subscription_events(months).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "forgot subscription events past their retention"),
            Err(e) => tracing::warn!(error = %e, "purging old subscription events failed"),
        }
    }
}

/// Completes on the first SIGINT or SIGTERM, which starts the drain (`Application::run_until`);
/// a second one, during the drain, ends the process at once (exit status 130).
pub async fn drain_signal() {
    shutdown_signal().await;
    tokio::spawn(async {
        shutdown_signal().await;
        tracing::warn!("a second signal during the drain: exiting now");
        std::process::exit(130);
    });
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
