//! Caps on open streams per user, per partner and in the process, taken before anything is
//! read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::domain::DomainError;
use crate::domain::ids::PartnerId;

/// Open streams at most per user, per partner and in the process; 0: no limit.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub per_user: u32,
    pub per_partner: u32,
    pub total: u32,
}

/// The open streams per user, per partner and in all.
#[derive(Debug)]
pub(super) struct StreamCounts {
    limits: StreamLimits,
    /// The streams' method, named in a refusal.
    method: &'static str,
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
    pub(super) fn new(limits: StreamLimits, method: &'static str) -> Self {
        Self {
            limits,
            method,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The streams open in the process.
    pub(super) fn open_total(&self) -> u32 {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&StreamKey::Total).copied().unwrap_or(0)
    }

    pub(super) fn admit(
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
                        "{scope} may hold at most {limit} open {} streams: end one, or retry later",
                        self.method
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn open_streams_are_counted_per_user_partner_and_server() {
        let counts = Arc::new(StreamCounts::new(
            StreamLimits {
                per_user: 2,
                per_partner: 3,
                total: 4,
            },
            "WatchCatalogChanges",
        ));
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
