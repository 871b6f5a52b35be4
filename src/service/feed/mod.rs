//! The catalog-change feed: one pump per process reads new change events from the log (after
//! a local publish, a PostgreSQL notification from another replica, or a periodic check) and
//! broadcasts them; each subscriber replays what it missed from the log, then follows the
//! broadcast, falling back to the log whenever it lags.
//!
//! Bounded so that streams can never take the database from checkout: the recent broadcast
//! batches are held in memory (a stream starting or resuming within them reads nothing from
//! the database), replays from the log take turns on a few connections, and each caller has
//! a cap on open streams. A watchdog ends, through its connection's kill switch, a stream
//! whose subscriber has taken nothing past the slow-subscriber timeout while hyper does not
//! poll it (a peer that grants no HTTP/2 window).

mod events;
mod filter;
mod follow;
mod limits;
mod pump;
mod recent;
mod subscription;
mod subscription_events;
mod watchdog;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast, watch};

pub use events::{FeedEvent, SharedChange, StreamEnd, WireBatch, WireForms};
pub use filter::WatchFilter;
pub use limits::{StreamLimits, StreamSlot};
pub use subscription::{Delivery, StallHandler, Subscription};
pub use subscription_events::{EventForms, StartAt, SubscriptionEventFeed};

use super::catalog::CatalogService;
use crate::domain::DomainError;
use crate::domain::ids::PartnerId;
use crate::store::Store;
use events::LiveBatch;
use limits::StreamCounts;
use recent::Recent;
use subscription::Handoff;

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
    /// Recent changes held in memory (at least these, in whole broadcast batches) for
    /// streams that start or resume within them.
    pub recent_changes: usize,
    pub streams: StreamLimits,
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
    /// The recent broadcast batches: a window that moves with the head, holding at least
    /// `settings.recent_changes` changes.
    recent: Mutex<Recent>,
    /// The streams the watchdog looks after.
    watched: Mutex<Vec<Weak<Handoff>>>,
    streams: Arc<StreamCounts>,
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
            streams: Arc::new(StreamCounts::new(settings.streams, "WatchCatalogChanges")),
            settings,
        })))
    }

    /// The last revision this process has broadcast.
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// The change streams open now.
    pub fn open_streams(&self) -> u32 {
        self.streams.open_total()
    }

    /// Ends every stream with a status telling its subscriber to reconnect, and stops the pump.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
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
                rebuild_from: "the catalog",
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

    /// A place for a new stream of `partner`'s `user` under the stream limits.
    pub fn admit(
        &self,
        partner: Option<PartnerId>,
        user: Option<&str>,
    ) -> Result<StreamSlot, DomainError> {
        self.streams.admit(partner, user)
    }
}
