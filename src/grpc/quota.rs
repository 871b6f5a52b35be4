//! Request quotas per partner and per user for each group of services, and the limit on failed
//! authentications per peer address. Each replica counts on its own: every limit is divided by
//! `quota_replicas`, so a set of replicas behind an even balancer honours the configured total.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::UserKey;
use crate::domain::DomainError;
use crate::domain::ids::PartnerId;

/// Services that share one quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceGroup {
    Catalog,
    Customers,
    /// Carts and orders.
    Ordering,
    /// The platform's services: CatalogAdminService and OperatorService.
    Admin,
}

impl ServiceGroup {
    /// What is counted, as error details name it.
    pub fn counted(self) -> &'static str {
        match self {
            Self::Catalog => "catalog requests",
            Self::Customers => "customer requests",
            Self::Ordering => "cart and order requests",
            Self::Admin => "admin requests",
        }
    }
}

/// `per_minute` divided among `replicas`, at least 1; `None` for no limit (0).
fn share(per_minute: u32, replicas: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(per_minute)
        .map(|n| NonZeroU32::new(n.get() / replicas.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// A keyed limit: bursts up to a minute's worth, then the rate.
struct Limit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    per_minute: u32,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(per_minute: u32, replicas: u32) -> Option<Arc<Self>> {
        share(per_minute, replicas).map(|n| {
            Arc::new(Self {
                limiter: RateLimiter::keyed(Quota::per_minute(n)),
                per_minute: n.get(),
            })
        })
    }

    /// Counts a call; when over, how long until the next is allowed.
    fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the keys whose quota is full again, so the map holds only recent callers.
    fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// One service group's quotas: per partner and per user.
#[derive(Clone)]
pub struct Quotas {
    group: ServiceGroup,
    partner: Option<Arc<Limit<PartnerId>>>,
    user: Option<Arc<Limit<UserKey>>>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas")
            .field("group", &self.group)
            .field("partner", &self.partner.as_ref().map(|l| l.per_minute))
            .field("user", &self.user.as_ref().map(|l| l.per_minute))
            .finish()
    }
}

impl Quotas {
    /// Limits a minute (0: none), each divided among `replicas`.
    pub fn new(group: ServiceGroup, partner: u32, user: u32, replicas: u32) -> Self {
        Self {
            group,
            partner: Limit::new(partner, replicas),
            user: Limit::new(user, replicas),
        }
    }

    pub fn group(&self) -> ServiceGroup {
        self.group
    }

    /// Counts a call of `user` (of `partner`, if any). The user's quota is checked first: a user
    /// over its own quota does not use up its partner's, so it cannot throttle the others.
    pub fn check(&self, partner: Option<PartnerId>, user: UserKey) -> Result<(), DomainError> {
        let over = |limit: u32, subject: &'static str| {
            let quota = self.group.counted();
            move |retry_after| DomainError::RateLimited {
                retry_after,
                limit,
                quota,
                subject,
            }
        };
        if let Some(limit) = &self.user {
            limit.check(&user).map_err(over(limit.per_minute, "user"))?;
        }
        if let (Some(limit), Some(partner)) = (&self.partner, partner) {
            limit
                .check(&partner)
                .map_err(over(limit.per_minute, "partner"))?;
        }
        Ok(())
    }

    pub fn forget_idle(&self) {
        if let Some(l) = &self.partner {
            l.forget_idle();
        }
        if let Some(l) = &self.user {
            l.forget_idle();
        }
    }
}

/// Failed authentications a minute per peer address: past the limit, that address's tokens that
/// were not verified before are refused without being looked at.
#[derive(Debug)]
pub struct FailedAuth {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most; past that, expired windows are dropped, and if all are live, new
/// addresses go uncounted until some expire (the map stays bounded).
const MAX_PEERS: usize = 100_000;

impl FailedAuth {
    /// `None` for no limit (0); the limit is divided among `replicas`.
    pub fn new(per_minute: u32, replicas: u32) -> Option<Arc<Self>> {
        share(per_minute, replicas).map(|n| {
            Arc::new(Self {
                per_minute: n.get(),
                windows: Mutex::default(),
            })
        })
    }

    /// An IPv6 peer counts by its /64: one host usually holds the whole prefix.
    fn key(peer: IpAddr) -> IpAddr {
        match peer {
            IpAddr::V4(_) => peer,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            },
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // Each change is an insert, an update of one entry or a retain.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses `peer` while its failures this window are at the limit.
    pub fn check(&self, peer: IpAddr) -> Result<(), DomainError> {
        let now = Instant::now();
        match self.windows().get(&Self::key(peer)) {
            Some(w) if w.failures >= self.per_minute && now.duration_since(w.start) < WINDOW => {
                Err(DomainError::RateLimited {
                    retry_after: WINDOW.saturating_sub(now.duration_since(w.start)),
                    limit: self.per_minute,
                    quota: "failed authentications",
                    subject: "peer address",
                })
            }
            _ => Ok(()),
        }
    }

    pub fn record(&self, peer: IpAddr) {
        let now = Instant::now();
        let mut windows = self.windows();
        if windows.len() >= MAX_PEERS {
            windows.retain(|_, w| now.duration_since(w.start) < WINDOW);
            if windows.len() >= MAX_PEERS {
                return;
            }
        }
        let w = windows.entry(Self::key(peer)).or_insert(Window {
            start: now,
            failures: 0,
        });
        if now.duration_since(w.start) >= WINDOW {
            *w = Window {
                start: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    pub fn forget_idle(&self) {
        let now = Instant::now();
        let mut windows = self.windows();
        windows.retain(|_, w| now.duration_since(w.start) < WINDOW);
        windows.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_shared_among_replicas() {
        assert_eq!(share(0, 3), None);
        assert_eq!(share(500, 1).map(NonZeroU32::get), Some(500));
        assert_eq!(share(500, 3).map(NonZeroU32::get), Some(166));
        assert_eq!(share(2, 5).map(NonZeroU32::get), Some(1));
        assert_eq!(share(10, 0).map(NonZeroU32::get), Some(10));
    }

    #[test]
    fn failed_authentications_block_an_address_and_its_prefix() {
        let limit = FailedAuth::new(2, 1).unwrap();
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_prefix: IpAddr = "2001:db8::2".parse().unwrap();
        let other: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        limit.record(a);
        assert!(limit.check(a).is_ok());
        limit.record(same_prefix);
        assert!(limit.check(a).is_err());
        assert!(limit.check(other).is_ok());
    }
}
