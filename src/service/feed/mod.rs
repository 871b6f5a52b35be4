//! The catalog-change feed: one pump per process reads new change events from the log (after
//! a local publish, a PostgreSQL notification from another replica, or a periodic check) and
//! broadcasts them; each subscriber replays what it missed from the log, then follows the
//! broadcast, falling back to the log whenever it lags.
//!
//! Bounded so that streams can never take the database from checkout: the recent broadcast
//! batches are kept in memory (a stream starting or resuming within them reads nothing from
//! the database), replays from the log take turns on a few connections, and each caller has
//! a cap on open streams. A watchdog ends, through its connection's kill switch, a stream
//! whose subscriber has taken nothing past the slow-subscriber timeout while hyper does not
//! poll it (a peer that grants no HTTP/2 window).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{Notify, Semaphore, broadcast, mpsc, watch};

use super::catalog::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{ProductType, Segment};
use crate::domain::changes::CatalogChange;
use crate::domain::ids::{CountryCode, PartnerId};
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
    /// Database connections replays may use at once.
    pub replay_connections: usize,
    /// Recent changes kept in memory (at least these, in whole broadcast batches) for
    /// streams that start or resume within them.
    pub recent_changes: usize,
    pub streams: StreamLimits,
}

/// Open streams at most per user, per partner and in the process; 0: no limit.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub per_user: u32,
    pub per_partner: u32,
    pub total: u32,
}

/// Called when a stream's subscriber took nothing past the slow-subscriber timeout and the
/// stream cannot end by itself (it is not polled): ends its connection.
pub type StallHandler = Box<dyn FnOnce() + Send>;

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
    /// The database is busy: resume after `resume_after`, after a while.
    Busy {
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
    /// Turns on the database for replays.
    replay_turns: Semaphore,
    recent: Mutex<Recent>,
    /// The streams the watchdog looks after.
    watched: Mutex<Vec<Weak<Outlet>>>,
    streams: Arc<StreamCounts>,
}

/// The recent broadcast batches: every change after `floor`, through the head.
#[derive(Debug)]
struct Recent {
    floor: u64,
    batches: VecDeque<Arc<LiveBatch>>,
    changes: usize,
}

impl Recent {
    /// Everything after `floor` (nothing yet).
    fn new(floor: u64) -> Self {
        Self {
            floor,
            batches: VecDeque::new(),
            changes: 0,
        }
    }

    /// Adds the batch broadcast next, forgetting the oldest ones while the newer hold at
    /// least `keep` changes.
    fn push(&mut self, batch: &Arc<LiveBatch>, keep: usize) {
        let (Some(first), Some(last)) = (batch.changes.first(), batch.changes.last()) else {
            return;
        };
        let (first, last) = (first.change.revision, last.change.revision);
        let newest = self
            .batches
            .back()
            .and_then(|b| b.changes.last())
            .map_or(self.floor, |c| c.change.revision);
        if first != newest + 1 {
            // Not contiguous (never expected): start afresh from this batch.
            self.batches.clear();
            self.changes = 0;
            self.floor = first.saturating_sub(1);
        }
        self.batches.push_back(batch.clone());
        self.changes += batch.changes.len();
        while self
            .batches
            .front()
            .is_some_and(|oldest| self.changes - oldest.changes.len() >= keep)
        {
            let Some(old) = self.batches.pop_front() else {
                break;
            };
            self.changes -= old.changes.len();
            self.floor = old.changes.last().map_or(last, |c| c.change.revision);
        }
    }

    /// The batches holding changes after `after`, if every change after it is here.
    fn after(&self, after: u64) -> Option<Vec<Arc<LiveBatch>>> {
        (after >= self.floor).then(|| {
            self.batches
                .iter()
                .filter(|b| b.changes.last().is_some_and(|c| c.change.revision > after))
                .cloned()
                .collect()
        })
    }
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
            live: broadcast::channel(BROADCAST_BATCHES).0,
            wire,
            head: watch::channel(head).0,
            shutdown: watch::channel(false).0,
            replay_turns: Semaphore::new(settings.replay_connections.max(1)),
            recent: Mutex::new(Recent::new(head)),
            watched: Mutex::new(Vec::new()),
            streams: Arc::new(StreamCounts {
                limits: settings.streams,
                open: Mutex::new(HashMap::new()),
            }),
            settings,
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
                let batch = Arc::new(batch);
                // Kept before it is sent: a subscriber that finds it in neither has it coming.
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

    /// Checks where a subscriber may start: after `after` (`None`: from now).
    pub async fn start_position(&self, after: Option<u64>) -> Result<u64, DomainError> {
        // From memory where it can: from now is from this process's head; a resume within
        // the recent changes is valid.
        let Some(after) = after else {
            return Ok(self.head());
        };
        if self.recent_after(after).is_some() && after <= self.head() {
            return Ok(after);
        }
        let _turn = self.replay_turn().await?;
        let state = self.store.catalog_state().await?;
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

    /// A turn on the database for a replay: a few at once, the others wait.
    async fn replay_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, DomainError> {
        self.replay_turns
            .acquire()
            .await
            .map_err(|_| DomainError::Unavailable("the server is shutting down".into()))
    }

    /// Keeps a broadcast batch among the recent ones.
    fn remember(&self, batch: &Arc<LiveBatch>) {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(batch, self.settings.recent_changes);
    }

    /// The recent batches holding changes after `after`, if memory holds every change after
    /// it.
    fn recent_after(&self, after: u64) -> Option<Vec<Arc<LiveBatch>>> {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .after(after)
    }

    /// A place for a new stream of `partner`'s `user` under the stream limits.
    pub fn admit(
        &self,
        partner: Option<PartnerId>,
        user: Option<&str>,
    ) -> Result<StreamSlot, DomainError> {
        self.streams.admit(partner, user)
    }

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
            let stalled: Vec<Arc<Outlet>> = {
                let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
                watched.retain(|w| w.strong_count() > 0);
                watched
                    .iter()
                    .filter_map(Weak::upgrade)
                    .filter(|o| o.stalled_for() > kill_after)
                    .collect()
            };
            for outlet in stalled {
                let handler = outlet
                    .on_stall
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(end_connection) = handler {
                    tracing::warn!(
                        resume_after = outlet.taken_through.load(Ordering::Relaxed),
                        "a change stream's subscriber took nothing within the slow-subscriber timeout and grants no window: ending its connection"
                    );
                    end_connection();
                }
            }
        }
    }

    /// The stream of every change after `after` that passes `filter`, then of the live ones.
    /// It holds `slot` while it lasts; `on_stall` ends it when it cannot end by itself.
    pub fn subscribe(
        &self,
        after: u64,
        filter: WatchFilter,
        slot: StreamSlot,
        on_stall: Option<StallHandler>,
    ) -> Subscription {
        let watched = on_stall.is_some();
        let outlet = Arc::new(Outlet::new(after, on_stall));
        if watched {
            self.watched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::downgrade(&outlet));
        }
        let feed = self.clone();
        let out = outlet.clone();
        Subscription {
            _slot: slot,
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
                        Ok(batch) => match deliver(&batch, &filter, &mut sender).await {
                            Ok(true) => {}
                            // A gap: the log has what is missing.
                            Ok(false) => break true,
                            Err(end) => return Some(end),
                        },
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

    /// Sends what was published past `sender.last`: from memory when it holds it, else from
    /// the log in batches, a few streams at a time, until memory holds the rest.
    async fn replay(&self, filter: &WatchFilter, sender: &mut Sender) -> Result<(), StreamEnd> {
        loop {
            if *self.shutdown.borrow() {
                return Err(StreamEnd::ShuttingDown {
                    resume_after: sender.last,
                });
            }
            if let Some(batches) = self.recent_after(sender.last) {
                let mut whole = true;
                for batch in batches {
                    whole = deliver(&batch, filter, sender).await?;
                    if !whole {
                        break;
                    }
                }
                if whole {
                    return Ok(());
                }
            }
            let read = {
                let _turn = self
                    .replay_turn()
                    .await
                    .map_err(|_| StreamEnd::ShuttingDown {
                        resume_after: sender.last,
                    })?;
                self.store.changes_after(sender.last, BATCH as u64).await
            };
            let batch = read.map_err(|e| match e {
                DomainError::Overloaded { .. } => StreamEnd::Busy {
                    resume_after: sender.last,
                },
                e => StreamEnd::Failed(e.to_string()),
            })?;
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

/// Sends what of `batch` the subscriber has not had yet: the whole batch as it is when it
/// wants all of it. `Ok(false)`: there is a gap before it (the log has what is missing).
async fn deliver(
    batch: &LiveBatch,
    filter: &WatchFilter,
    sender: &mut Sender,
) -> Result<bool, StreamEnd> {
    // Revisions increase within a batch.
    let seen = batch
        .changes
        .partition_point(|c| c.change.revision <= sender.last);
    let fresh = &batch.changes[seen..];
    let Some(last) = fresh.last().map(|c| c.change.revision) else {
        return Ok(true);
    };
    if fresh
        .first()
        .is_some_and(|c| c.change.revision != sender.last + 1)
    {
        return Ok(false);
    }
    if seen == 0 && filter.is_empty() {
        sender.send_wire(batch.wire.clone(), last).await?;
    } else {
        let matching = fresh
            .iter()
            .filter(|c| filter.matches(&c.change))
            .map(|c| c.wire.clone())
            .collect();
        sender.send_changes(matching, last).await?;
    }
    Ok(true)
}

/// The open streams per user, per partner and in all.
#[derive(Debug)]
struct StreamCounts {
    limits: StreamLimits,
    open: Mutex<HashMap<StreamKey, u32>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum StreamKey {
    Total,
    Partner(PartnerId),
    User(Option<PartnerId>, String),
}

/// How long a refused subscriber is told to wait.
const STREAM_RETRY_AFTER: Duration = Duration::from_secs(5);

impl StreamCounts {
    fn admit(
        self: &Arc<Self>,
        partner: Option<PartnerId>,
        user: Option<&str>,
    ) -> Result<StreamSlot, DomainError> {
        // The narrowest first: a refusal names the most specific limit reached.
        let mut keys = Vec::with_capacity(3);
        if let Some(user) = user {
            keys.push(StreamKey::User(partner, user.to_owned()));
        }
        if let Some(partner) = partner {
            keys.push(StreamKey::Partner(partner));
        }
        keys.push(StreamKey::Total);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &keys {
            let (limit, scope, subject) = match key {
                StreamKey::Total => (self.limits.total, "this server", "server".to_owned()),
                StreamKey::Partner(p) => (
                    self.limits.per_partner,
                    "a partner",
                    format!("partners/{p}"),
                ),
                StreamKey::User(_, u) => (
                    self.limits.per_user,
                    "a user",
                    // The subject names the user, cut short: it is the caller's own input.
                    format!("users/{}", u.chars().take(64).collect::<String>()),
                ),
            };
            if limit != 0 && open.get(key).copied().unwrap_or(0) >= limit {
                return Err(DomainError::QuotaExceeded {
                    reason: "TOO_MANY_STREAMS",
                    subject,
                    description: format!(
                        "{scope} may hold at most {limit} open WatchCatalogChanges streams: end one, or retry later"
                    ),
                    retry_after: STREAM_RETRY_AFTER,
                });
            }
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamSlot {
            counts: Some(self.clone()),
            keys,
        })
    }
}

/// A stream's place under the stream limits, given back when it is dropped.
#[derive(Debug, Default)]
pub struct StreamSlot {
    counts: Option<Arc<StreamCounts>>,
    keys: Vec<StreamKey>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let Some(counts) = &self.counts else {
            return;
        };
        let mut open = counts.open.lock().unwrap_or_else(PoisonError::into_inner);
        for key in self.keys.drain(..) {
            if let std::collections::hash_map::Entry::Occupied(mut e) = open.entry(key) {
                *e.get_mut() -= 1;
                if *e.get() == 0 {
                    e.remove();
                }
            }
        }
    }
}

/// What a subscription's stream and its `follow` share: the one message `follow` leaves for
/// the stream to take, the revision through which the subscriber has everything it took, and
/// since when the stream has had something ready (`follow` woke it, or has a message for it)
/// without being polled (the connection not taking what is ready).
struct Outlet {
    /// A message and the revision the subscriber is through once it takes it.
    slot: Mutex<Option<(FeedEvent, u64)>>,
    taken_through: AtomicU64,
    /// Microseconds since `started` when something was first ready and not polled for since;
    /// 0: none.
    pending_since: AtomicU64,
    started: Instant,
    waker: Mutex<Option<Waker>>,
    on_stall: Mutex<Option<StallHandler>>,
}

impl std::fmt::Debug for Outlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outlet")
            .field("taken_through", &self.taken_through)
            .field("pending_since", &self.pending_since)
            .finish_non_exhaustive()
    }
}

impl Outlet {
    fn new(after: u64, on_stall: Option<StallHandler>) -> Self {
        Self {
            slot: Mutex::new(None),
            taken_through: AtomicU64::new(after),
            // Its first message is ready from the start: a stream hyper never polls (no
            // window from the first byte) is stalled from here.
            pending_since: AtomicU64::new(1),
            started: Instant::now(),
            waker: Mutex::new(None),
            on_stall: Mutex::new(on_stall),
        }
    }

    /// Something is ready for the stream from now, unless it already was.
    fn mark_pending(&self) {
        let _ = self.pending_since.compare_exchange(
            0,
            self.now(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// How long the stream has had something ready without being polled.
    fn stalled_for(&self) -> Duration {
        match self.pending_since.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            since => Duration::from_micros(self.now().saturating_sub(since)),
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
        self.mark_pending();
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
    /// Its place under the stream limits.
    _slot: StreamSlot,
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
        let pending_since = outlet.pending_since.swap(0, Ordering::Relaxed);
        if this.follow.is_some()
            && pending_since != 0
            && outlet.now().saturating_sub(pending_since) > this.timeout.as_micros() as u64
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
            // Ready for the stream, taken or not: the watchdog times it from here.
            self.out.mark_pending();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::domain::catalog::Month;
    use crate::domain::changes::ChangeKind;

    /// A broadcast batch of the changes `revisions`.
    fn batch(revisions: std::ops::RangeInclusive<u64>) -> Arc<LiveBatch> {
        let changes = revisions
            .map(|revision| {
                Arc::new(SharedChange {
                    change: CatalogChange {
                        revision,
                        month: Month::parse("month", "2026-12").unwrap(),
                        kind: ChangeKind::Changed,
                        product_id: "P".into(),
                        sku_id: "S".into(),
                        availability_id: String::new(),
                        country: String::new(),
                        segment: None,
                        product_type: ProductType::Azure,
                        fields: Vec::new(),
                    },
                    wire: Bytes::new(),
                })
            })
            .collect();
        Arc::new(LiveBatch {
            changes,
            wire: WireBatch {
                plain: Bytes::new(),
                compressed: None,
            },
        })
    }

    fn firsts(batches: Option<Vec<Arc<LiveBatch>>>) -> Option<Vec<u64>> {
        batches.map(|b| b.iter().map(|b| b.changes[0].change.revision).collect())
    }

    #[test]
    fn recent_changes_answer_only_what_they_hold_whole() {
        let mut recent = Recent::new(10);
        // From the head: nothing to send, nothing to read.
        assert_eq!(firsts(recent.after(10)), Some(vec![]));
        assert_eq!(firsts(recent.after(9)), None);
        recent.push(&batch(11..=15), 8);
        recent.push(&batch(16..=20), 8);
        assert_eq!(firsts(recent.after(10)), Some(vec![11, 16]));
        assert_eq!(firsts(recent.after(13)), Some(vec![11, 16]));
        assert_eq!(firsts(recent.after(15)), Some(vec![16]));
        // At least 8 kept: the oldest batch goes once the newer hold 8.
        recent.push(&batch(21..=23), 8);
        assert_eq!(firsts(recent.after(15)), Some(vec![16, 21]));
        assert_eq!(firsts(recent.after(14)), None);
        // Keeping none leaves the head only.
        recent.push(&batch(24..=30), 0);
        assert_eq!(firsts(recent.after(30)), Some(vec![]));
        assert_eq!(firsts(recent.after(29)), None);
        // A gap starts afresh.
        recent.push(&batch(40..=41), 8);
        assert_eq!(firsts(recent.after(39)), Some(vec![40]));
        assert_eq!(firsts(recent.after(38)), None);
    }

    #[test]
    fn open_streams_are_counted_per_user_partner_and_server() {
        let counts = Arc::new(StreamCounts {
            limits: StreamLimits {
                per_user: 2,
                per_partner: 3,
                total: 4,
            },
            open: Mutex::new(HashMap::new()),
        });
        let us = Some(PartnerId::from_uuid(uuid::Uuid::from_u128(1)));
        let de = Some(PartnerId::from_uuid(uuid::Uuid::from_u128(2)));
        let reason = |r: Result<StreamSlot, DomainError>| match r {
            Err(DomainError::QuotaExceeded { subject, .. }) => subject,
            other => panic!("admitted: {other:?}"),
        };
        let a1 = counts.admit(us, Some("a")).unwrap();
        let _a2 = counts.admit(us, Some("a")).unwrap();
        assert!(reason(counts.admit(us, Some("a"))).starts_with("users/a"));
        // The same subject under another partner is another user.
        let _b = counts.admit(de, Some("a")).unwrap();
        let _c = counts.admit(us, Some("c")).unwrap();
        assert!(reason(counts.admit(us, Some("d"))).starts_with("partners/"));
        assert_eq!(reason(counts.admit(de, Some("e"))), "server");
        drop(a1);
        let _e = counts.admit(de, Some("e")).unwrap();
    }
}
