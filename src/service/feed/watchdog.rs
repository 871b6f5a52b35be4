//! The watchdog: ends the connection of a stream that is not polled while its subscriber
//! takes nothing.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use super::ChangeFeed;
use super::subscription::Handoff;

impl ChangeFeed {
    /// Ends the connections of streams whose subscriber took nothing for twice the
    /// slow-subscriber timeout while the stream was not polled. (Past the timeout itself a
    /// stream that is polled again ends with a status saying where to resume; the connection
    /// is ended only when hyper does not poll it, i.e. the peer grants no window.) Runs until
    /// shut down.
    pub async fn watchdog(self) {
        let timeout = self.settings.slow_subscriber_timeout;
        let kill_after = timeout.saturating_mul(2);
        let mut tick = tokio::time::interval(
            (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = self.shutdown.subscribe();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let stalled: Vec<Arc<Handoff>> = {
                let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
                watched.retain(|w| w.strong_count() > 0);
                watched
                    .iter()
                    .filter_map(Weak::upgrade)
                    .filter(|o| o.stalled_for() > kill_after)
                    .collect()
            };
            for handoff in stalled {
                let handler = handoff
                    .on_stall
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(end_connection) = handler {
                    tracing::warn!(
                        resume_after = handoff.taken_through.load(Ordering::Relaxed),
                        "a change stream's subscriber took nothing within the slow-subscriber timeout and grants no window: ending its connection"
                    );
                    end_connection();
                }
            }
        }
    }
}
