//! Use cases: take parsed domain input, apply the rules, talk to the store, return domain
//! values or errors. Nothing here knows gRPC.

pub mod carts;
pub mod catalog;
pub mod customers;
pub mod feed;
pub mod orders;
pub mod paging;
pub mod partners;
pub mod vetting;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SubsecRound, Utc};

/// The service's notion of now; tests move it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// To the microsecond: what both backends store, so a value written is the value read.
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(at.timestamp_micros())))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.0
            .fetch_add(by.num_microseconds().unwrap_or(0), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0.load(Ordering::SeqCst)).unwrap_or_default()
    }
}
