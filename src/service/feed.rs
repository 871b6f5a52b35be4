//! The catalog-change feed: one pump per process reads new change events from the log (after
//! a local publish, a PostgreSQL notification from another replica, or a periodic check) and
//! broadcasts them; each subscriber replays what it missed from the log, then follows the
//! broadcast, falling back to the log whenever it lags.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{Notify, broadcast, mpsc, watch};

use super::catalog::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{ProductType, Segment};
use crate::domain::changes::CatalogChange;
use crate::domain::ids::CountryCode;
use crate::store::Store;

/// Changes per stream message.
pub const BATCH: usize = 500;
/// Batches the pump reads from the log at once, and makes before it broadcasts the first.
const PUMP_BATCHES: usize = 8;
/// Batches the broadcast keeps for subscribers that are a little behind.
const BROADCAST_BATCHES: usize = 256;

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

/// A batch the pump broadcasts: its changes, and the whole batch in its wire forms, which
/// every subscriber that wants all of it sends as they are.
#[derive(Debug)]
struct LiveBatch {
    changes: Vec<Arc<SharedChange>>,
    wire: WireBatch,
}

/// A batch of changes on the wire.
#[derive(Debug, Clone)]
pub struct WireBatch {
    /// The encoded batch.
    pub plain: Bytes,
    /// The whole stream message carrying it, compressed, for subscribers that accept that:
    /// made once per broadcast batch (`WireForms::compress`), never per subscriber.
    pub compressed: Option<Bytes>,
}

/// How changes go on the wire (the grpc layer's encoding): one change, a batch of changes
/// from theirs, and the compressed stream message of a batch (`None` when not worth it).
#[derive(Debug, Clone, Copy)]
pub struct WireForms {
    pub change: fn(&CatalogChange) -> Bytes,
    pub batch: fn(&[Bytes]) -> Bytes,
    pub compress: fn(&Bytes) -> Option<Bytes>,
}

/// One message of a change stream.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// A batch of changes in its wire forms; shared, not copied, by every subscriber that
    /// wants the whole batch.
    Changes(WireBatch),
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

/// The feed; cloned into every subscription, so one `Arc`.
#[derive(Debug, Clone)]
pub struct ChangeFeed(Arc<Feed>);

#[derive(Debug)]
pub struct Feed {
    store: Store,
    catalog: CatalogService,
    settings: FeedSettings,
    live: broadcast::Sender<Arc<LiveBatch>>,
    wire: WireForms,
    head: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

impl std::ops::Deref for ChangeFeed {
    type Target = Feed;

    fn deref(&self) -> &Feed {
        &self.0
    }
}

impl ChangeFeed {
    pub async fn new(
        store: Store,
        catalog: CatalogService,
        settings: FeedSettings,
        wire: WireForms,
    ) -> Result<Self, DomainError> {
        let head = store.catalog_state().await?.last_revision;
        Ok(Self(Arc::new(Feed {
            store,
            catalog,
            settings,
            live: broadcast::channel(BROADCAST_BATCHES).0,
            wire,
            head: watch::channel(head).0,
            shutdown: watch::channel(false).0,
        })))
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
                // Nobody listening is fine: subscribers read the log.
                let _ = self.live.send(Arc::new(batch));
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

    /// The stream of every change after `after` that passes `filter`, then of the live ones.
    pub fn subscribe(&self, after: u64, filter: WatchFilter) -> Subscription {
        let outlet = Arc::new(Outlet::new(after));
        let feed = self.clone();
        let out = outlet.clone();
        Subscription {
            waker: Waker::from(outlet.clone()),
            outlet,
            timeout: self.settings.slow_subscriber_timeout,
            follow: Some(Box::pin(
                async move { feed.follow(after, filter, out).await },
            )),
            end: None,
        }
    }

    /// Hands every change after `after` that passes `filter` to `out`, then follows live,
    /// until the stream must end (`Some`: the status to send after what was handed over).
    async fn follow(&self, after: u64, filter: WatchFilter, out: Arc<Outlet>) -> Option<StreamEnd> {
        let mut shutdown = self.shutdown.subscribe();
        let mut sender = Sender {
            out,
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
            if let Err(end) = sender.progress().await {
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
                        if let Err(end) = sender.progress().await {
                            return Some(end);
                        }
                    }
                    _ = shutdown.changed() => {
                        break false;
                    }
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

/// What a subscription's stream and its `follow` share: the one message `follow` leaves for
/// the stream to take, the revision through which the subscriber has everything it took, and
/// when `follow` last woke the stream without being polled since (the connection not taking
/// what is ready).
#[derive(Debug)]
struct Outlet {
    /// A message and the revision the subscriber is through once it takes it.
    slot: Mutex<Option<(FeedEvent, u64)>>,
    taken_through: AtomicU64,
    /// Microseconds since `started` at the first wake not yet followed by a poll; 0: none.
    woken_at: AtomicU64,
    started: Instant,
    waker: Mutex<Option<Waker>>,
}

impl Outlet {
    fn new(after: u64) -> Self {
        Self {
            slot: Mutex::new(None),
            taken_through: AtomicU64::new(after),
            woken_at: AtomicU64::new(0),
            started: Instant::now(),
            waker: Mutex::new(None),
        }
    }

    fn take(&self) -> Option<FeedEvent> {
        let (event, through) = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        self.taken_through.store(through, Ordering::Relaxed);
        Some(event)
    }

    fn now(&self) -> u64 {
        // At least 1: 0 means "not woken".
        (self.started.elapsed().as_micros() as u64).max(1)
    }
}

impl Wake for Outlet {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self
            .woken_at
            .compare_exchange(0, self.now(), Ordering::Relaxed, Ordering::Relaxed);
        if let Some(waker) = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

/// One subscriber's change stream. Its `follow` runs inside it, polled whenever the
/// connection wants the next message (there is no task and no queue of its own): an idle
/// subscriber holds only the state of its wait. A connection that does not take what is
/// ready for longer than the slow-subscriber timeout (the stream woken and not polled) ends
/// the stream with the revision to resume after; the broadcast never waits for it.
pub struct Subscription {
    outlet: Arc<Outlet>,
    /// `outlet` as the waker `follow` is polled with.
    waker: Waker,
    timeout: Duration,
    follow: Option<Pin<Box<dyn Future<Output = Option<StreamEnd>> + Send>>>,
    /// How the stream ends, once known; sent after the last message.
    end: Option<StreamEnd>,
}

/// A subscription's next item: a message, or how the stream ends.
#[derive(Debug)]
pub enum Delivery {
    Event(FeedEvent),
    End(StreamEnd),
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let this = self.get_mut();
        let outlet = &this.outlet;
        let woken_at = outlet.woken_at.swap(0, Ordering::Relaxed);
        if this.follow.is_some()
            && woken_at != 0
            && outlet.now().saturating_sub(woken_at) > this.timeout.as_micros() as u64
        {
            // What was left for it is sent again after it resumes.
            outlet
                .slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            this.follow = None;
            this.end = Some(StreamEnd::TooSlow {
                resume_after: outlet.taken_through.load(Ordering::Relaxed),
            });
        }
        if let Some(event) = outlet.take() {
            return Poll::Ready(Some(Delivery::Event(event)));
        }
        if let Some(follow) = this.follow.as_mut() {
            {
                let mut waker = outlet.waker.lock().unwrap_or_else(PoisonError::into_inner);
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
            }
            if let Poll::Ready(end) = follow.as_mut().poll(&mut Context::from_waker(&this.waker)) {
                this.follow = None;
                this.end = end;
            }
        }
        if let Some(event) = outlet.take() {
            return Poll::Ready(Some(Delivery::Event(event)));
        }
        match (&this.follow, this.end.take()) {
            (None, Some(end)) => Poll::Ready(Some(Delivery::End(end))),
            (None, None) => Poll::Ready(None),
            (Some(_), _) => Poll::Pending,
        }
    }
}

/// One subscriber's outlet and how far it got.
struct Sender {
    out: Arc<Outlet>,
    last: u64,
    batch: fn(&[Bytes]) -> Bytes,
}

impl Sender {
    /// Leaves `event` in the outlet once the message before it was taken; the subscriber is
    /// through `through` once it takes it. The outlet is emptied only by the stream, right
    /// before it polls `follow` again, so waiting needs no wake-up of its own.
    async fn send(&mut self, event: FeedEvent, through: u64) -> Result<(), StreamEnd> {
        let mut event = Some(event);
        std::future::poll_fn(|_| {
            let mut slot = self.out.slot.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_some() {
                return Poll::Pending;
            }
            *slot = event.take().map(|e| (e, through));
            Poll::Ready(Ok(()))
        })
        .await
    }

    async fn progress(&mut self) -> Result<(), StreamEnd> {
        self.send(FeedEvent::Progress(self.last), self.last).await
    }

    /// Sends the wire forms of the matching changes (possibly none) in batches and records
    /// `last` as delivered.
    async fn send_changes(&mut self, matching: Vec<Bytes>, last: u64) -> Result<(), StreamEnd> {
        let chunks = matching.len().div_ceil(BATCH);
        for (i, chunk) in matching.chunks(BATCH).enumerate() {
            // Through `last` once the final chunk is taken (a batch read from the log or
            // broadcast holds at most `BATCH` changes: one chunk).
            let through = if i + 1 == chunks { last } else { self.last };
            let plain = (self.batch)(chunk);
            self.send(
                FeedEvent::Changes(WireBatch {
                    plain,
                    compressed: None,
                }),
                through,
            )
            .await?;
        }
        self.last = last;
        Ok(())
    }

    /// Sends a whole batch already in its wire forms, ending at `last`.
    async fn send_wire(&mut self, batch: WireBatch, last: u64) -> Result<(), StreamEnd> {
        self.send(FeedEvent::Changes(batch), last).await?;
        self.last = last;
        Ok(())
    }
}
