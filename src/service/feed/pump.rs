//! The pump: one per process, it reads the log past the head and broadcasts what it finds.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::events::{LiveBatch, SharedChange, WireBatch};
use super::{BATCH, ChangeFeed, PUMP_BATCHES};
use crate::domain::DomainError;
use crate::domain::changes::CatalogChange;

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
        loop {
            tokio::select! {
                () = local.notified() => {}
                Some(()) = notifications.recv() => {}
                _ = poll.tick() => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "catching up with the change log failed; retrying");
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
