//! What a subscription does: replay the log past its revision (from memory when it holds
//! it), then follow the broadcast, back to the log whenever it lags.

use std::sync::Arc;
use std::sync::PoisonError;
use std::task::Poll;

use bytes::Bytes;
use tokio::sync::broadcast;

use super::events::{FeedEvent, LiveBatch, StreamEnd, WireBatch};
use super::subscription::Handoff;
use super::{BATCH, ChangeFeed, WatchFilter};
use crate::domain::DomainError;

impl ChangeFeed {
    /// Hands every change after `after` that passes `filter` to `out`, then follows live,
    /// until the stream must end (`Some`: the status to send after what was handed over).
    pub(super) async fn follow(
        &self,
        after: u64,
        filter: WatchFilter,
        out: Arc<Handoff>,
    ) -> Option<StreamEnd> {
        let mut shutdown = self.shutdown.subscribe();
        let mut sender = HandoffSender::new(out, after, self.wire.batch);
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
    async fn replay(
        &self,
        filter: &WatchFilter,
        sender: &mut HandoffSender,
    ) -> Result<(), StreamEnd> {
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
    sender: &mut HandoffSender,
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

/// One subscriber's handoff and how far it got (any stream of this feed's kind: the catalog's,
/// the subscription events').
pub(super) struct HandoffSender {
    out: Arc<Handoff>,
    /// The revision through which the subscriber has (or will have, once it takes what was
    /// handed over) everything.
    pub(super) last: u64,
    /// A batch message from its items' encodings.
    batch: fn(&[Bytes]) -> Bytes,
}

impl HandoffSender {
    pub(super) fn new(out: Arc<Handoff>, last: u64, batch: fn(&[Bytes]) -> Bytes) -> Self {
        Self { out, last, batch }
    }

    /// Leaves `event` in the handoff once the message before it was taken; the subscriber is
    /// through `through` once it takes it. The handoff is emptied only by the stream, right
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

    pub(super) async fn progress(&mut self) -> Result<(), StreamEnd> {
        self.send(FeedEvent::Progress(self.last), self.last).await
    }

    /// Sends the wire forms of the matching changes (possibly none) in batches and records
    /// `last` as delivered.
    pub(super) async fn send_changes(
        &mut self,
        matching: Vec<Bytes>,
        last: u64,
    ) -> Result<(), StreamEnd> {
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
