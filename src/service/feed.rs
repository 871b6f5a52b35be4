//! The catalog-change feed: one pump per process reads new change events from the log (after
//! a local publish, a PostgreSQL notification from another replica, or a periodic check) and
//! broadcasts them; each subscriber replays what it missed from the log, then follows the
//! broadcast, falling back to the log whenever it lags.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, broadcast, mpsc, watch};

use super::catalog::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{ProductType, Segment};
use crate::domain::changes::CatalogChange;
use crate::domain::ids::CountryCode;
use crate::store::Store;

/// Changes per stream message.
pub const BATCH: usize = 500;
/// Batches the broadcast keeps for subscribers that are a little behind.
const BROADCAST_BATCHES: usize = 256;
/// Messages waiting for one subscriber's connection.
pub const SUBSCRIBER_BUFFER: usize = 4;

#[derive(Debug, Clone)]
pub struct FeedSettings {
    pub progress_interval: Duration,
    pub slow_subscriber_timeout: Duration,
    pub poll_interval: Duration,
}

/// What a subscriber wants; empty lists mean any.
#[derive(Debug, Clone, Default)]
pub struct WatchFilter {
    pub countries: Vec<CountryCode>,
    pub segments: Vec<Segment>,
    pub product_types: Vec<ProductType>,
    pub product_ids: Vec<String>,
}

impl WatchFilter {
    /// Whether every change passes.
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
            && self.segments.is_empty()
            && self.product_types.is_empty()
            && self.product_ids.is_empty()
    }

    /// SKU-level changes (no country, no segment) pass the country and segment filters.
    pub fn matches(&self, change: &CatalogChange) -> bool {
        (self.countries.is_empty()
            || change.country.is_empty()
            || self.countries.iter().any(|c| c.as_str() == change.country))
            && (self.segments.is_empty()
                || change.segment.is_none_or(|s| self.segments.contains(&s)))
            && (self.product_types.is_empty() || self.product_types.contains(&change.product_type))
            && (self.product_ids.is_empty() || self.product_ids.contains(&change.product_id))
    }
}

/// A change with its wire form, made once: every subscriber of a publish shares both.
#[derive(Debug)]
pub struct SharedChange {
    pub change: CatalogChange,
    pub wire: Bytes,
}

/// A batch the pump broadcasts: its changes, and the whole batch in its wire form, which
/// every subscriber that wants all of it sends as it is.
#[derive(Debug)]
struct LiveBatch {
    changes: Vec<Arc<SharedChange>>,
    wire: Bytes,
}

/// How changes go on the wire (the grpc layer's encoding): one change, and a batch of changes
/// from theirs.
#[derive(Debug, Clone, Copy)]
pub struct WireForms {
    pub change: fn(&CatalogChange) -> Bytes,
    pub batch: fn(&[Bytes]) -> Bytes,
}

/// One message of a change stream.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// A batch of changes in its wire form; shared, not copied, by every subscriber that
    /// wants the whole batch.
    Changes(Bytes),
    /// Caught up to this revision.
    Progress(u64),
}

/// Why a stream ended.
#[derive(Debug, Clone)]
pub enum StreamEnd {
    /// The server is shutting down: reconnect and resume after `resume_after`.
    ShuttingDown {
        resume_after: u64,
    },
    /// The subscriber did not take its messages: resume after `resume_after`.
    TooSlow {
        resume_after: u64,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ChangeFeed {
    store: Store,
    catalog: CatalogService,
    settings: FeedSettings,
    live: broadcast::Sender<Arc<LiveBatch>>,
    wire: WireForms,
    head: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

impl ChangeFeed {
    pub async fn new(
        store: Store,
        catalog: CatalogService,
        settings: FeedSettings,
        wire: WireForms,
    ) -> Result<Self, DomainError> {
        let head = store.catalog_state().await?.last_revision;
        Ok(Self {
            store,
            catalog,
            settings,
            live: broadcast::channel(BROADCAST_BATCHES).0,
            wire,
            head: watch::channel(head).0,
            shutdown: watch::channel(false).0,
        })
    }

    /// The last revision this process has broadcast.
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// Ends every stream with a status telling its subscriber to reconnect, and stops the pump.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Broadcasts what the log holds past the head; reloads the snapshot when another replica
    /// published a month.
    async fn catch_up(&self) -> Result<(), DomainError> {
        self.catalog.reload().await?;
        loop {
            let head = self.head();
            let batch = self.store.changes_after(head, BATCH as u64).await?;
            let Some(last) = batch.last().map(|c| c.revision) else {
                return Ok(());
            };
            // Nobody listening is fine: subscribers read the log.
            let changes: Vec<Arc<SharedChange>> =
                batch.into_iter().map(|c| self.shared(c)).collect();
            let wires: Vec<Bytes> = changes.iter().map(|c| c.wire.clone()).collect();
            let _ = self.live.send(Arc::new(LiveBatch {
                wire: (self.wire.batch)(&wires),
                changes,
            }));
            self.head.send_replace(last);
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

    /// Checks where a subscriber may start: after `after` (`None`: from now).
    pub async fn start_position(&self, after: Option<u64>) -> Result<u64, DomainError> {
        let state = self.store.catalog_state().await?;
        let Some(after) = after else {
            return Ok(state.last_revision);
        };
        if after > state.last_revision {
            return Err(DomainError::invalid(
                "after_revision",
                "OUT_OF_RANGE",
                format!(
                    "revision {after} is ahead of the newest revision {}",
                    state.last_revision
                ),
            ));
        }
        let oldest = self
            .store
            .oldest_revision()
            .await?
            .unwrap_or(state.last_revision + 1);
        if after + 1 < oldest {
            return Err(DomainError::RevisionCompacted {
                requested: after,
                oldest,
            });
        }
        Ok(after)
    }

    /// Streams every change after `after` that passes `filter` into `out`, then follows live,
    /// until the subscriber goes away (`None`) or the stream must end (`Some`: the status to
    /// send after whatever is queued).
    pub async fn follow(
        &self,
        after: u64,
        filter: WatchFilter,
        out: mpsc::Sender<FeedEvent>,
    ) -> Option<StreamEnd> {
        let mut shutdown = self.shutdown.subscribe();
        let mut sender = Sender {
            out,
            timeout: self.settings.slow_subscriber_timeout,
            last: after,
            batch: self.wire.batch,
        };
        let end = loop {
            // Subscribe before reading the log: whatever is broadcast from here on is either
            // read from the log too (and skipped as a duplicate) or received live.
            let mut live = self.live.subscribe();
            // Boxed: an idle subscriber does not carry the replay's state.
            if let Err(end) = Box::pin(self.replay(&filter, &mut sender)).await {
                break end;
            }
            if let Err(end) = sender.send(FeedEvent::Progress(sender.last)).await {
                break end;
            }
            let lagged = loop {
                tokio::select! {
                    received = live.recv() => match received {
                        Ok(batch) => {
                            // Revisions increase within a batch.
                            let seen = batch.changes.partition_point(|c| c.change.revision <= sender.last);
                            let fresh = &batch.changes[seen..];
                            if let Some(last) = fresh.last().map(|c| c.change.revision) {
                                if fresh.first().is_some_and(|c| c.change.revision != sender.last + 1) {
                                    // A gap: the log has what is missing.
                                    break true;
                                }
                                let sent = if seen == 0 && filter.is_empty() {
                                    sender.send_wire(batch.wire.clone(), last).await
                                } else {
                                    let matching = fresh
                                        .iter()
                                        .filter(|c| filter.matches(&c.change))
                                        .map(|c| c.wire.clone())
                                        .collect();
                                    sender.send_changes(matching, last).await
                                };
                                if let Err(end) = sent {
                                    return Some(end);
                                }
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => break true,
                        Err(broadcast::error::RecvError::Closed) => break false,
                    },
                    () = tokio::time::sleep(self.settings.progress_interval) => {
                        if let Err(end) = sender.send(FeedEvent::Progress(sender.last)).await {
                            return Some(end);
                        }
                    }
                    _ = shutdown.changed() => {
                        break false;
                    }
                    () = sender.out.closed() => return None,
                }
            };
            if !lagged {
                break StreamEnd::ShuttingDown {
                    resume_after: sender.last,
                };
            }
        };
        Some(end)
    }

    /// Sends the log past `sender.last` in batches.
    async fn replay(&self, filter: &WatchFilter, sender: &mut Sender) -> Result<(), StreamEnd> {
        loop {
            if *self.shutdown.borrow() {
                return Err(StreamEnd::ShuttingDown {
                    resume_after: sender.last,
                });
            }
            let batch = self
                .store
                .changes_after(sender.last, BATCH as u64)
                .await
                .map_err(|e| StreamEnd::Failed(e.to_string()))?;
            let Some(last) = batch.last().map(|c| c.revision) else {
                return Ok(());
            };
            let matching = batch
                .iter()
                .filter(|c| filter.matches(c))
                .map(self.wire.change)
                .collect();
            sender.send_changes(matching, last).await?;
        }
    }
}

/// One subscriber's bounded outlet and how far it got.
struct Sender {
    out: mpsc::Sender<FeedEvent>,
    timeout: Duration,
    last: u64,
    batch: fn(&[Bytes]) -> Bytes,
}

impl Sender {
    async fn send(&mut self, event: FeedEvent) -> Result<(), StreamEnd> {
        match tokio::time::timeout(self.timeout, self.out.send(event)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StreamEnd::Failed("the subscriber went away".into())),
            Err(_) => Err(StreamEnd::TooSlow {
                resume_after: self.last,
            }),
        }
    }

    /// Sends the wire forms of the matching changes (possibly none) in batches and records
    /// `last` as delivered.
    async fn send_changes(&mut self, matching: Vec<Bytes>, last: u64) -> Result<(), StreamEnd> {
        for chunk in matching.chunks(BATCH) {
            self.send(FeedEvent::Changes((self.batch)(chunk))).await?;
        }
        self.last = last;
        Ok(())
    }

    /// Sends a whole batch already in its wire form, ending at `last`.
    async fn send_wire(&mut self, batch: Bytes, last: u64) -> Result<(), StreamEnd> {
        self.send(FeedEvent::Changes(batch)).await?;
        self.last = last;
        Ok(())
    }
}
