//! One subscriber's stream: `follow` runs inside it and hands over one message at a time.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::Stream;

use super::events::{FeedEvent, StreamEnd};
use super::{ChangeFeed, StreamSlot, WatchFilter};

/// Called when a stream's subscriber took nothing past the slow-subscriber timeout and the
/// stream cannot end by itself (it is not polled): ends its connection.
pub type StallHandler = Box<dyn FnOnce() + Send>;

/// What a subscription's stream and its `follow` share: the one message `follow` leaves for
/// the stream to take, the revision through which the subscriber has everything it took, and
/// since when the stream has had something ready (`follow` woke it, or has a message for it)
/// without being polled (the connection not taking what is ready).
pub(super) struct Handoff {
    /// A message and the revision the subscriber is through once it takes it.
    pub(super) slot: Mutex<Option<(FeedEvent, u64)>>,
    pub(super) taken_through: AtomicU64,
    /// Microseconds since `started` when something was first ready and not polled for since;
    /// 0: none.
    pending_since: AtomicU64,
    started: Instant,
    waker: Mutex<Option<Waker>>,
    pub(super) on_stall: Mutex<Option<StallHandler>>,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff")
            .field("taken_through", &self.taken_through)
            .field("pending_since", &self.pending_since)
            .finish_non_exhaustive()
    }
}

impl Handoff {
    pub(super) fn new(after: u64, on_stall: Option<StallHandler>) -> Self {
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
    pub(super) fn mark_pending(&self) {
        let _ = self.pending_since.compare_exchange(
            0,
            self.now(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// How long the stream has had something ready without being polled.
    pub(super) fn stalled_for(&self) -> Duration {
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

impl Wake for Handoff {
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
    handoff: Arc<Handoff>,
    /// `handoff` as the waker `follow` is polled with.
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
        let handoff = &this.handoff;
        let pending_since = handoff.pending_since.swap(0, Ordering::Relaxed);
        if this.follow.is_some()
            && pending_since != 0
            && handoff.now().saturating_sub(pending_since) > this.timeout.as_micros() as u64
        {
            // What was left for it is sent again after it resumes.
            handoff
                .slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            this.follow = None;
            this.end = Some(StreamEnd::TooSlow {
                resume_after: handoff.taken_through.load(Ordering::Relaxed),
            });
        }
        if let Some(event) = handoff.take() {
            return Poll::Ready(Some(Delivery::Event(event)));
        }
        if let Some(follow) = this.follow.as_mut() {
            {
                let mut waker = handoff.waker.lock().unwrap_or_else(PoisonError::into_inner);
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
            }
            if let Poll::Ready(end) = follow.as_mut().poll(&mut Context::from_waker(&this.waker)) {
                this.follow = None;
                this.end = end;
            }
        }
        if let Some(event) = handoff.take() {
            return Poll::Ready(Some(Delivery::Event(event)));
        }
        match (&this.follow, this.end.take()) {
            (None, Some(end)) => Poll::Ready(Some(Delivery::End(end))),
            (None, None) => Poll::Ready(None),
            (Some(_), _) => Poll::Pending,
        }
    }
}

impl ChangeFeed {
    /// The stream of every change after `after` that passes `filter`, then of the live ones.
    /// It holds `slot` while it lasts; `on_stall` ends it when it cannot end by itself.
    pub fn subscribe(
        &self,
        after: u64,
        filter: WatchFilter,
        slot: StreamSlot,
        on_stall: Option<StallHandler>,
    ) -> Subscription {
        let handoff = self.watched_handoff(after, on_stall);
        let feed = self.clone();
        Subscription::open(
            slot,
            handoff,
            self.settings.slow_subscriber_timeout,
            move |out| async move { feed.follow(after, filter, out).await },
        )
    }
}

impl ChangeFeed {
    /// A stream's handoff, starting after `after`, looked after by the watchdog when it has an
    /// `on_stall` (any stream of this feed's kind: the subscription events' too).
    pub(super) fn watched_handoff(
        &self,
        after: u64,
        on_stall: Option<StallHandler>,
    ) -> Arc<Handoff> {
        let watched = on_stall.is_some();
        let handoff = Arc::new(Handoff::new(after, on_stall));
        if watched {
            self.watched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::downgrade(&handoff));
        }
        handoff
    }
}

impl Subscription {
    /// A stream holding `slot` whose messages `follow` hands over through `handoff`; ended
    /// past `timeout` without being taken from.
    pub(super) fn open<F>(
        slot: StreamSlot,
        handoff: Arc<Handoff>,
        timeout: Duration,
        follow: impl FnOnce(Arc<Handoff>) -> F,
    ) -> Self
    where
        F: Future<Output = Option<StreamEnd>> + Send + 'static,
    {
        let out = handoff.clone();
        Subscription {
            _slot: slot,
            waker: Waker::from(handoff.clone()),
            handoff,
            timeout,
            follow: Some(Box::pin(follow(out))),
            end: None,
        }
    }
}
