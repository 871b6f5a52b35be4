//! The pump: one per process, it reads the log past the head and broadcasts what it finds.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::events::{LiveBatch, SharedChange, WireBatch};
use super::{BATCH, ChangeFeed, PUMP_BATCHES};
use crate::domain::DomainError;
use crate::domain::changes::CatalogChange;

/// The pump's first wait before it tries again after a failure, and its longest.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(1);

impl ChangeFeed {
    /// Broadcasts what the log holds past the head; reloads the snapshot when another replica
    /// published a month.
    async fn catch_up(&self) -> Result<(), DomainError> {
        self.catalog.reload().await?;
        loop {
            let read = self
                .store
                .changes_after(self.head(), (BATCH * PUMP_BATCHES) as u64)
                .await?;
            if read.is_empty() {
                return Ok(());
            }
            // Every batch of what was read is made before the first goes out: once it is out,
            // the subscribers' tasks take the runtime, and a batch made after it would wait
            // for them all.
            let mut read = read.into_iter().peekable();
            let mut batches = Vec::new();
            while read.peek().is_some() {
                let changes: Vec<Arc<SharedChange>> =
                    read.by_ref().take(BATCH).map(|c| self.shared(c)).collect();
                let wires: Vec<Bytes> = changes.iter().map(|c| c.wire.clone()).collect();
                let plain = (self.wire.batch)(&wires);
                batches.push(LiveBatch {
                    wire: WireBatch {
                        compressed: (self.wire.compress)(&plain),
                        plain,
                    },
                    changes,
                });
            }
            for batch in batches {
                let last = batch.changes.last().map(|c| c.change.revision);
                let batch = Arc::new(batch);
                // Remembered before it is sent: a subscriber that finds it in neither has it coming.
                self.remember(&batch);
                // Nobody listening is fine: subscribers read the log.
                let _ = self.live.send(batch);
                if let Some(last) = last {
                    self.head.send_replace(last);
                }
            }
        }
    }

    /// Runs until shut down. `notifications` yields when PostgreSQL says another process
    /// published; `local` when this process did.
    pub async fn pump(self, local: Arc<Notify>, mut notifications: mpsc::Receiver<()>) {
        let mut shutdown = self.shutdown.subscribe();
        let mut poll = tokio::time::interval(self.settings.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // After a failure (the database is away): the next try in 100 ms, doubling up to 1 s,
        // so the feed follows again within about a second of the database's return.
        let mut retry: Option<Duration> = None;
        loop {
            let retrying = async {
                match retry {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = local.notified() => {}
                Some(()) = notifications.recv() => {}
                _ = poll.tick() => {}
                () = retrying => {}
                _ = shutdown.changed() => return,
            }
            match self.catch_up().await {
                Ok(()) => {
                    if retry.take().is_some() {
                        tracing::info!("following the change log again");
                    }
                }
                Err(e) => {
                    // Once per outage, not at every try.
                    if retry.is_none() {
                        tracing::warn!(error = %e, "catching up with the change log failed; retrying");
                    }
                    retry = Some(retry.map_or(RETRY_FIRST, |wait| (wait * 2).min(RETRY_MAX)));
                }
            }
        }
    }

    fn shared(&self, change: CatalogChange) -> Arc<SharedChange> {
        Arc::new(SharedChange {
            wire: (self.wire.change)(&change),
            change,
        })
    }
}
