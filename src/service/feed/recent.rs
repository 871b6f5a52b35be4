//! The recent broadcast batches, in memory: a stream starting or resuming within them reads
//! nothing from the database.

use std::collections::VecDeque;
use std::sync::{Arc, PoisonError};

use super::ChangeFeed;
use super::events::LiveBatch;

/// The recent broadcast batches: every change after `floor`, through the head.
#[derive(Debug)]
pub(super) struct Recent {
    floor: u64,
    batches: VecDeque<Arc<LiveBatch>>,
    changes: usize,
}

impl Recent {
    /// Everything after `floor` (nothing yet).
    pub(super) fn new(floor: u64) -> Self {
        Self {
            floor,
            batches: VecDeque::new(),
            changes: 0,
        }
    }

    /// Adds the batch broadcast next, forgetting the oldest ones while the newer hold at
    /// least `min_changes` changes.
    fn push(&mut self, batch: &Arc<LiveBatch>, min_changes: usize) {
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
            .is_some_and(|oldest| self.changes - oldest.changes.len() >= min_changes)
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

impl ChangeFeed {
    /// Adds a broadcast batch to the recent ones.
    pub(super) fn remember(&self, batch: &Arc<LiveBatch>) {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(batch, self.settings.recent_changes);
    }

    /// The recent batches holding changes after `after`, if memory holds every change after
    /// it.
    pub(super) fn recent_after(&self, after: u64) -> Option<Vec<Arc<LiveBatch>>> {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .after(after)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::domain::catalog::{Month, ProductType};
    use crate::domain::changes::{CatalogChange, ChangeKind};
    use crate::service::feed::events::{SharedChange, WireBatch};
    use bytes::Bytes;

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
        // At least 8 held: the oldest batch goes once the newer hold 8.
        recent.push(&batch(21..=23), 8);
        assert_eq!(firsts(recent.after(15)), Some(vec![16, 21]));
        assert_eq!(firsts(recent.after(14)), None);
        // Holding none leaves the head only.
        recent.push(&batch(24..=30), 0);
        assert_eq!(firsts(recent.after(30)), Some(vec![]));
        assert_eq!(firsts(recent.after(29)), None);
        // A gap starts afresh.
        recent.push(&batch(40..=41), 8);
        assert_eq!(firsts(recent.after(39)), Some(vec![40]));
        assert_eq!(firsts(recent.after(38)), None);
    }
}
