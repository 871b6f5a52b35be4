//! What the feed makes and hands out: changes and batches with their wire forms, stream
//! messages, and why a stream ends.

use std::sync::Arc;

use bytes::Bytes;

use crate::domain::changes::CatalogChange;

/// A change with its wire form, made once: every subscriber of a publish shares both.
#[derive(Debug)]
pub struct SharedChange {
    pub change: CatalogChange,
    pub wire: Bytes,
}

/// A batch the pump broadcasts: its changes, and the whole batch in its wire forms, which
/// every subscriber that wants all of it sends as they are.
#[derive(Debug)]
pub(super) struct LiveBatch {
    pub(super) changes: Vec<Arc<SharedChange>>,
    pub(super) wire: WireBatch,
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
    /// The database is busy or unreachable (`reason`): resume after `resume_after`, after
    /// `retry_after`.
    Busy {
        reason: &'static str,
        retry_after: std::time::Duration,
        resume_after: u64,
    },
    /// What the subscriber had not had yet is no longer kept (compacted while it read).
    Compacted {
        requested: u64,
        oldest: u64,
        rebuild_from: &'static str,
    },
    Failed(String),
}
