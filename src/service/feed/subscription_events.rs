//! The subscription-event feed (WatchSubscriptionEvents): the catalog feed's mechanisms for
//! each partner's own log. A stream replays the partner's events past its revision from the
//! database (a few streams at a time), then follows what the pump broadcasts, skipping what it
//! had and going back to the log at a gap or when it lags; progress when idle; a stream that
//! is not taken from past the slow-subscriber timeout ends with where to resume.
//!
//! The pump reads only the partners followed here: those whose events this process wrote or
//! another replica announced (`Store::written_partners`), and on every poll those whose head
//! moved (so a lost announcement only delays). Each event is encoded once for every stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::{Semaphore, broadcast, watch};

use super::events::StreamEnd;
use super::follow::HandoffSender;
use super::limits::StreamCounts;
use super::subscription::Handoff;
use super::{
    BATCH, BROADCAST_BATCHES, ChangeFeed, FeedSettings, StallHandler, StreamSlot, Subscription,
};
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId};
use crate::domain::subscription::SubscriptionEvent;
use crate::store::Store;

/// The ids a poll asks for the heads of at once.
const HEADS_AT_ONCE: usize = 500;

/// How events go on the wire (the grpc layer's encoding): one event, and a batch message
/// from its events' encodings.
#[derive(Debug, Clone, Copy)]
pub struct EventForms {
    pub event: fn(&SubscriptionEvent) -> Bytes,
    pub batch: fn(&[Bytes]) -> Bytes,
}

/// Where a stream starts: after `after`, the partner's last revision being `head`.
#[derive(Debug, Clone, Copy)]
pub struct StartAt {
    pub after: u64,
    pub head: u64,
}

/// The feed; cloned into every stream.
#[derive(Debug, Clone)]
pub struct SubscriptionEventFeed(Arc<EventFeed>);

#[derive(Debug)]
pub struct EventFeed {
    store: Store,
    /// The catalog feed, whose watchdog looks after these streams too.
    watchdog: ChangeFeed,
    settings: FeedSettings,
    forms: EventForms,
    live: broadcast::Sender<Arc<PartnerBatch>>,
    /// The partners with streams here: how many, and the last revision broadcast.
    followed: Mutex<HashMap<PartnerId, Followed>>,
    shutdown: watch::Sender<bool>,
    replay_turns: Semaphore,
    streams: Arc<StreamCounts>,
}

#[derive(Debug, Clone, Copy)]
struct Followed {
    streams: usize,
    head: u64,
}

/// A partner's events, as broadcast: revisions consecutive and increasing.
#[derive(Debug)]
struct PartnerBatch {
    partner: PartnerId,
    events: Vec<SharedEvent>,
}

#[derive(Debug)]
struct SharedEvent {
    revision: u64,
    customer: CustomerId,
    wire: Bytes,
}

impl std::ops::Deref for SubscriptionEventFeed {
    type Target = EventFeed;

    fn deref(&self) -> &EventFeed {
        &self.0
    }
}

/// A stream's place among the followers of its partner, given back when it ends.
struct Following {
    feed: SubscriptionEventFeed,
    partner: PartnerId,
}

impl Drop for Following {
    fn drop(&mut self) {
        let mut followed = self
            .feed
            .followed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = followed.get_mut(&self.partner) {
            f.streams -= 1;
            if f.streams == 0 {
                followed.remove(&self.partner);
            }
        }
    }
}

impl SubscriptionEventFeed {
    pub fn new(
        store: Store,
        watchdog: ChangeFeed,
        settings: FeedSettings,
        forms: EventForms,
    ) -> Self {
        Self(Arc::new(EventFeed {
            store,
            watchdog,
            forms,
            live: broadcast::channel(BROADCAST_BATCHES).0,
            followed: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            replay_turns: Semaphore::new(settings.replay_connections.max(1)),
            streams: Arc::new(StreamCounts::new(
                settings.streams,
                "WatchSubscriptionEvents",
            )),
            settings,
        }))
    }

    /// The event streams open now.
    pub fn open_streams(&self) -> u32 {
        self.streams.open_total()
    }

    /// Ends every stream with a status telling its subscriber to reconnect, and stops the pump.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// A place for a new stream of `partner`'s `user` under the stream limits.
    pub fn admit(&self, partner: PartnerId, user: Option<&str>) -> Result<StreamSlot, DomainError> {
        self.streams.admit(Some(partner), user)
    }

    /// Checks where a subscriber of `partner` may start: after `after` (`None`: from now).
    pub async fn start_position(
        &self,
        partner: PartnerId,
        after: Option<u64>,
    ) -> Result<StartAt, DomainError> {
        let _turn = self.replay_turn().await?;
        let head = self.store.subscription_event_head(partner).await?;
        let Some(after) = after else {
            return Ok(StartAt { after: head, head });
        };
        if after > head {
            return Err(DomainError::invalid(
                "after_revision",
                "OUT_OF_RANGE",
                format!("revision {after} is ahead of the newest revision {head}"),
            ));
        }
        let oldest = self
            .store
            .oldest_subscription_event(partner)
            .await?
            .unwrap_or(head + 1);
        if after + 1 < oldest {
            return Err(compacted(after, oldest));
        }
        Ok(StartAt { after, head })
    }

    /// The stream of `partner`'s events after `start` (of `customer` only, if given), then of
    /// the live ones. It holds `slot` while it lasts; `on_stall` ends it when it cannot end by
    /// itself (the catalog feed's watchdog calls it).
    pub fn subscribe(
        &self,
        partner: PartnerId,
        customer: Option<CustomerId>,
        start: StartAt,
        slot: StreamSlot,
        on_stall: Option<StallHandler>,
    ) -> Subscription {
        let feed = self.clone();
        Subscription::open(
            slot,
            self.watchdog.watched_handoff(start.after, on_stall),
            self.settings.slow_subscriber_timeout,
            move |out| async move { feed.follow(partner, customer, start, out).await },
        )
    }

    async fn replay_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, DomainError> {
        self.replay_turns
            .acquire()
            .await
            .map_err(|_| DomainError::Unavailable("the server is shutting down".into()))
    }

    /// Counts a stream of `partner` among its followers (the pump reads the partner from
    /// `head` on when it was not followed yet).
    fn following(&self, partner: PartnerId, head: u64) -> Following {
        self.followed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(partner)
            .or_insert(Followed { streams: 0, head })
            .streams += 1;
        Following {
            feed: self.clone(),
            partner,
        }
    }

    async fn follow(
        &self,
        partner: PartnerId,
        customer: Option<CustomerId>,
        start: StartAt,
        out: Arc<Handoff>,
    ) -> Option<StreamEnd> {
        let StartAt { after, head } = start;
        let _following = self.following(partner, head);
        let mut shutdown = self.shutdown.subscribe();
        let mut sender = HandoffSender::new(out, after, self.forms.batch);
        let end = loop {
            // Subscribe before reading the log: whatever is broadcast from here on is either
            // read from the log too (and skipped as a duplicate) or received live.
            let mut live = self.live.subscribe();
            if let Err(end) = Box::pin(self.replay(partner, customer, &mut sender)).await {
                break end;
            }
            if let Err(end) = sender.progress().await {
                break end;
            }
            let lagged = loop {
                tokio::select! {
                    received = live.recv() => match received {
                        Ok(batch) if batch.partner != partner => {}
                        Ok(batch) => match deliver(&batch, customer, &mut sender).await {
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
                    _ = shutdown.changed() => break false,
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

    /// Sends what the log holds past `sender.last`, in batches, a few streams at a time.
    async fn replay(
        &self,
        partner: PartnerId,
        customer: Option<CustomerId>,
        sender: &mut HandoffSender,
    ) -> Result<(), StreamEnd> {
        loop {
            if *self.shutdown.borrow() {
                return Err(StreamEnd::ShuttingDown {
                    resume_after: sender.last,
                });
            }
            let read = {
                let _turn = self
                    .replay_turn()
                    .await
                    .map_err(|_| StreamEnd::ShuttingDown {
                        resume_after: sender.last,
                    })?;
                self.store
                    .subscription_events_after(partner, sender.last, BATCH as u64)
                    .await
            };
            let events = read.map_err(|e| match e {
                DomainError::Overloaded {
                    reason,
                    retry_after,
                    ..
                } => StreamEnd::Busy {
                    reason,
                    retry_after,
                    resume_after: sender.last,
                },
                e => StreamEnd::Failed(e.to_string()),
            })?;
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                return Ok(());
            };
            if first.revision != sender.last + 1 {
                // Purged while the stream read: what it had not had is gone.
                return Err(compacted_end(sender.last, first.revision));
            }
            let last = last.revision;
            let matching = events
                .iter()
                .filter(|e| customer.is_none_or(|c| e.subscription.customer_id == c))
                .map(self.forms.event)
                .collect();
            sender.send_changes(matching, last).await?;
        }
    }

    /// Runs until shut down: broadcasts the events of followed partners as they are written
    /// (here, or announced by another replica) and, every poll, of those whose head moved.
    pub async fn pump(self) {
        let written = self.store.written_partners();
        let mut shutdown = self.shutdown.subscribe();
        let mut poll = tokio::time::interval(self.settings.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            let partners: Vec<PartnerId> = tokio::select! {
                partners = written.next() => partners.into_iter().collect(),
                _ = poll.tick() => match self.moved().await {
                    Ok(moved) => moved,
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "reading the subscription events' heads failed; retrying");
                        }
                        failing = true;
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            for partner in partners {
                match self.catch_up(partner).await {
                    Ok(()) => failing = false,
                    Err(e) => {
                        // The next poll tries again (the head still moved).
                        if !failing {
                            tracing::warn!(error = %e, "reading subscription events failed; retrying");
                        }
                        failing = true;
                    }
                }
            }
        }
    }

    /// The followed partners whose stored head is past the one broadcast.
    async fn moved(&self) -> Result<Vec<PartnerId>, DomainError> {
        let followed: Vec<(PartnerId, u64)> = self
            .followed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(p, f)| (*p, f.head))
            .collect();
        let mut moved = Vec::new();
        for chunk in followed.chunks(HEADS_AT_ONCE) {
            let ids: Vec<PartnerId> = chunk.iter().map(|(p, _)| *p).collect();
            for (partner, head) in self.store.subscription_event_heads(&ids).await? {
                if chunk.iter().any(|(p, h)| *p == partner && head > *h) {
                    moved.push(partner);
                }
            }
        }
        Ok(moved)
    }

    /// Broadcasts what the log holds of `partner` past what was broadcast, if it is followed.
    async fn catch_up(&self, partner: PartnerId) -> Result<(), DomainError> {
        loop {
            let Some(head) = self.broadcast_head(partner) else {
                return Ok(());
            };
            let events = self
                .store
                .subscription_events_after(partner, head, BATCH as u64)
                .await?;
            let Some(last) = events.last().map(|e| e.revision) else {
                return Ok(());
            };
            let batch = Arc::new(PartnerBatch {
                partner,
                events: events
                    .iter()
                    .map(|e| SharedEvent {
                        revision: e.revision,
                        customer: e.subscription.customer_id,
                        wire: (self.forms.event)(e),
                    })
                    .collect(),
            });
            if let Some(f) = self
                .followed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_mut(&partner)
            {
                f.head = f.head.max(last);
            }
            // Nobody listening is fine: subscribers read the log.
            let _ = self.live.send(batch);
        }
    }

    fn broadcast_head(&self, partner: PartnerId) -> Option<u64> {
        self.followed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&partner)
            .map(|f| f.head)
    }
}

fn compacted(requested: u64, oldest: u64) -> DomainError {
    DomainError::RevisionCompacted {
        requested,
        oldest,
        rebuild_from: "ListSubscriptions",
    }
}

fn compacted_end(requested: u64, oldest: u64) -> StreamEnd {
    StreamEnd::Compacted {
        requested,
        oldest,
        rebuild_from: "ListSubscriptions",
    }
}

/// Sends what of `batch` the subscriber has not had yet (of `customer` only, if given).
/// `Ok(false)`: there is a gap before it (the log has what is missing).
async fn deliver(
    batch: &PartnerBatch,
    customer: Option<CustomerId>,
    sender: &mut HandoffSender,
) -> Result<bool, StreamEnd> {
    let seen = batch.events.partition_point(|e| e.revision <= sender.last);
    let fresh = &batch.events[seen..];
    let Some(last) = fresh.last().map(|e| e.revision) else {
        return Ok(true);
    };
    if fresh.first().is_some_and(|e| e.revision != sender.last + 1) {
        return Ok(false);
    }
    let matching = fresh
        .iter()
        .filter(|e| customer.is_none_or(|c| e.customer == c))
        .map(|e| e.wire.clone())
        .collect();
    sender.send_changes(matching, last).await?;
    Ok(true)
}
