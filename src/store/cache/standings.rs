//! Customer standings: the customer, its qualifications and agreement (its profile), and what
//! it holds. The purchasability check, `purchasable_by` listings and cart reviews read them on
//! every call, so each process caches the standings it read, and forgets what may have
//! changed:
//! - after each of this process's own writes commits: the whole standing after a write to the
//!   customer or its qualifications, only what it holds after a cancellation (read-your-writes
//!   in one process). A checkout instead brings what it holds forward in place, when it was
//!   cached at the `holdings_version` the checkout's write held at;
//! - on PostgreSQL, when another replica's write commits. Profile changes are announced by
//!   triggers (migrations m0004, m0006) in the writing transaction: NOTIFY of the customer's id
//!   on `csp_customer_changes`. Holdings changes are announced right after the commit, on
//!   `csp_holdings_changes`, by the store's announcer (`announcer.rs`): a NOTIFY
//!   inside a transaction holds PostgreSQL's global notification lock through the commit's
//!   WAL flush, which would serialize every checkout of every replica (measured: 3× fewer
//!   transactions/s); each names the new holdings version when known, so holdings cached at it
//!   or later stay. Every process LISTENs to both. While that listener is not connected
//!   nothing is cached: its connection's loss (or failure) forgets everything at once
//!   (`disable`, from `Store::publish_notifications`), and everything cached is forgotten again
//!   when it reconnects, since notifications may have been missed.
//! - A notification sent after a commit is lost if its writer dies in between: so nothing is
//!   cached longer than [`MAX_AGE`].
//!
//! Checkout may plan on what a cached standing holds, since it writes only if the customer's
//! `holdings_version` is still the one those holdings were read at (else it reads them and
//! plans again): a cached standing never sells a seat twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::customer::Customer;
use crate::domain::ids::CustomerId;

use crate::store::CustomerHoldings;

/// The PostgreSQL channel on which profile changes are announced (payload: the customer id).
pub const CUSTOMER_CHANNEL: &str = "csp_customer_changes";
/// The PostgreSQL channel on which holdings changes are announced (payload: the customer id).
pub const HOLDINGS_CHANNEL: &str = "csp_holdings_changes";

/// Standings cached at most; past that, all are forgotten at once.
const MAX_CACHED: usize = 100_000;

/// How long a standing is cached at most: the bound on staleness if an announcement is lost.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// A customer and what it holds, as read together.
#[derive(Debug)]
pub struct Standing {
    pub customer: Arc<Customer>,
    pub held: CustomerHoldings,
}

impl Standing {
    pub fn new(customer: Arc<Customer>, held: CustomerHoldings) -> Self {
        Self { customer, held }
    }
}

#[derive(Debug, Default)]
struct Slot {
    standing: Option<Entry>,
    /// Bumped by every change of the profile: a read that started before a change must not be
    /// cached after it.
    generation: u64,
    /// Bumped by every change of the holdings.
    holdings_generation: u64,
}

#[derive(Debug)]
struct Entry {
    standing: Arc<Standing>,
    /// Whether the holdings changed since `standing` was read (its profile still holds).
    holdings_stale: bool,
    read_at: Instant,
}

#[derive(Debug, Default)]
struct Slots {
    slots: HashMap<CustomerId, Slot>,
    /// Bumped when everything is forgotten.
    epoch: u64,
}

/// Where a read started: what it may be cached under.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket {
    epoch: u64,
    generation: u64,
    holdings_generation: u64,
}

/// What is cached of a customer.
#[derive(Debug)]
pub enum Lookup {
    /// All of it, current.
    Cached(Arc<Standing>),
    /// Its profile, read at `read_at`, is current; what it holds is not: read that and cache
    /// both under the ticket.
    HoldingsStale {
        customer: Arc<Customer>,
        read_at: Instant,
        ticket: ReadTicket,
    },
    /// Nothing: read it all and cache it under the ticket.
    Missing(ReadTicket),
}

#[derive(Debug)]
pub struct Standings {
    slots: Mutex<Slots>,
    /// Whether cached standings may be used: always on SQLite (one process owns the file), on
    /// PostgreSQL only while this process hears other replicas' changes.
    enabled: AtomicBool,
}

impl Standings {
    pub fn new(enabled: bool) -> Self {
        Self {
            slots: Mutex::default(),
            enabled: AtomicBool::new(enabled),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        // The map stays consistent whatever a panicking holder did: every change is one insert
        // or one field write.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is cached of `id`, with the ticket to cache what is read from the database now.
    pub fn get(&self, id: CustomerId) -> Lookup {
        let slots = self.slots();
        let slot = slots.slots.get(&id);
        let ticket = ReadTicket {
            epoch: slots.epoch,
            generation: slot.map_or(0, |s| s.generation),
            holdings_generation: slot.map_or(0, |s| s.holdings_generation),
        };
        if !self.enabled.load(Ordering::Acquire) {
            return Lookup::Missing(ticket);
        }
        match slot.and_then(|s| s.standing.as_ref()) {
            Some(k) if k.read_at.elapsed() > MAX_AGE => Lookup::Missing(ticket),
            Some(k) if k.holdings_stale => Lookup::HoldingsStale {
                customer: k.standing.customer.clone(),
                read_at: k.read_at,
                ticket,
            },
            Some(k) => Lookup::Cached(k.standing.clone()),
            None => Lookup::Missing(ticket),
        }
    }

    /// Caches `standing`, read after `ticket` was taken, unless the customer changed since.
    /// `read_at`: when the oldest part of it was read.
    pub fn put(&self, ticket: ReadTicket, standing: Arc<Standing>, read_at: Instant) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut slots = self.slots();
        if slots.epoch != ticket.epoch {
            return;
        }
        if slots.slots.len() >= MAX_CACHED {
            Self::clear(&mut slots);
            return;
        }
        let id = standing.customer.id;
        let slot = slots.slots.entry(id).or_default();
        if slot.generation == ticket.generation
            && slot.holdings_generation == ticket.holdings_generation
        {
            slot.standing = Some(Entry {
                standing,
                holdings_stale: false,
                read_at,
            });
        }
    }

    /// The customer's profile changed (after the change committed): forget all of it.
    pub fn forget(&self, id: CustomerId) {
        let mut slots = self.slots();
        let slot = slots.slots.entry(id).or_default();
        slot.standing = None;
        slot.generation += 1;
    }

    /// A write (of any replica) moved what the customer holds to `version` (unknown: `None`):
    /// holdings cached at that version or later already show it (this replica's own write
    /// brought them forward, or they were read after it); others are stale, and so is every
    /// read that began before.
    pub fn holdings_announced(&self, id: CustomerId, version: Option<i64>) {
        let mut slots = self.slots();
        let slot = slots.slots.entry(id).or_default();
        slot.holdings_generation += 1;
        if let Some(k) = slot.standing.as_mut()
            && (version.is_none() || k.standing.held.version < version)
        {
            k.holdings_stale = true;
        }
    }

    /// This process's own write moved what the customer holds on from version `from`, by one
    /// (after the write committed): a cached standing whose holdings were read at `from` is
    /// brought forward in place to `next(its holdings)`, since no other write can have come
    /// between (the write held only at `from`). Any other is stale, as after
    /// `holdings_announced` without a version, and so is every read that began before.
    pub fn holdings_written(
        &self,
        id: CustomerId,
        from: i64,
        next: impl FnOnce(&CustomerHoldings) -> CustomerHoldings,
    ) {
        let mut slots = self.slots();
        let slot = slots.slots.entry(id).or_default();
        slot.holdings_generation += 1;
        let Some(k) = slot.standing.as_mut() else {
            return;
        };
        if !k.holdings_stale && k.standing.held.version == Some(from) {
            let held = next(&k.standing.held);
            k.standing = Arc::new(Standing::new(k.standing.customer.clone(), held));
        } else {
            k.holdings_stale = true;
        }
    }

    /// Changes may have been missed (the listener was down): forget everything, and cache
    /// nothing more until `enable` is called again.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Release);
        Self::clear(&mut self.slots());
    }

    /// Whether standings are cached now (read by the metrics).
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Changes are heard again: start caching afresh.
    pub fn enable(&self) {
        self.forget_all();
        self.enabled.store(true, Ordering::Release);
    }

    /// Which customer changed is not known: forget every one.
    pub fn forget_all(&self) {
        Self::clear(&mut self.slots());
    }

    fn clear(slots: &mut Slots) {
        slots.slots.clear();
        slots.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn customer(id: CustomerId) -> Arc<Customer> {
        let now = chrono::Utc::now();
        Arc::new(Customer {
            id,
            partner_id: crate::domain::ids::PartnerId::from_uuid(uuid::Uuid::now_v7()),
            company_name: "Contoso".into(),
            country: crate::domain::ids::CountryCode::parse("country", "US").unwrap(),
            email: "a@contoso.com".into(),
            domain: "contoso.com".into(),
            qualifications: Vec::new(),
            agreement: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    fn standing(id: CustomerId) -> Arc<Standing> {
        Arc::new(Standing::new(customer(id), CustomerHoldings::default()))
    }

    fn ticket(lookup: Lookup) -> ReadTicket {
        match lookup {
            Lookup::Missing(ticket) | Lookup::HoldingsStale { ticket, .. } => ticket,
            Lookup::Cached(_) => panic!("expected nothing current to be cached"),
        }
    }

    fn is_cached(lookup: &Lookup) -> bool {
        matches!(lookup, Lookup::Cached(_))
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_cached() {
        let standings = Standings::new(true);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let before = ticket(standings.get(id));
        standings.forget(id);
        standings.put(before, standing(id), Instant::now());
        assert!(matches!(standings.get(id), Lookup::Missing(_)));

        let before = ticket(standings.get(id));
        standings.holdings_announced(id, None);
        standings.put(before, standing(id), Instant::now());
        assert!(matches!(standings.get(id), Lookup::Missing(_)));

        let fresh = ticket(standings.get(id));
        standings.put(fresh, standing(id), Instant::now());
        assert!(is_cached(&standings.get(id)));
        standings.forget(id);
        assert!(matches!(standings.get(id), Lookup::Missing(_)));
    }

    #[test]
    fn a_holdings_change_leaves_the_profile_cached() {
        let standings = Standings::new(true);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let read_at = Instant::now();
        standings.put(ticket(standings.get(id)), standing(id), read_at);
        standings.holdings_announced(id, None);
        let Lookup::HoldingsStale {
            customer,
            read_at: profile_read_at,
            ticket,
        } = standings.get(id)
        else {
            panic!("expected the profile without the holdings");
        };
        assert_eq!(customer.id, id);
        assert_eq!(profile_read_at, read_at);
        standings.put(
            ticket,
            Arc::new(Standing::new(customer, CustomerHoldings::default())),
            profile_read_at,
        );
        assert!(is_cached(&standings.get(id)));
    }

    /// Holdings read at `version` holding `seats` seats of one SKU.
    fn holdings_at(version: i64, seats: i64) -> CustomerHoldings {
        let id = |s: &str| crate::domain::ids::ProductId::parse("p", s).unwrap();
        let sku = crate::domain::ids::SkuId::parse("s", "0001").unwrap();
        CustomerHoldings {
            holdings: crate::domain::eligibility::Holdings::new([
                crate::domain::eligibility::Holding {
                    product_id: id("CFQ7TTC0LH18"),
                    sku_id: sku,
                    quantity: seats,
                    status: crate::domain::eligibility::HoldingStatus::Active,
                    is_trial: false,
                    converted_from: None,
                },
            ]),
            parents: Default::default(),
            version: Some(version),
        }
    }

    fn cached_seats(standings: &Standings, id: CustomerId) -> Option<(Option<i64>, i64)> {
        let product = crate::domain::ids::ProductId::parse("p", "CFQ7TTC0LH18").unwrap();
        let sku = crate::domain::ids::SkuId::parse("s", "0001").unwrap();
        match standings.get(id) {
            Lookup::Cached(cached) => Some((
                cached.held.version,
                cached.held.holdings.counted(&product, &sku),
            )),
            _ => None,
        }
    }

    #[test]
    fn this_process_s_own_write_brings_cached_holdings_forward_only_from_their_version() {
        let standings = Standings::new(true);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let cache = |version: i64| {
            let standing = Standing::new(customer(id), holdings_at(version, 5));
            standings.put(
                ticket(standings.get(id)),
                Arc::new(standing),
                Instant::now(),
            );
        };
        cache(3);
        let written = |_: &CustomerHoldings| holdings_at(4, 7);
        standings.holdings_written(id, 3, written);
        assert_eq!(cached_seats(&standings, id), Some((Some(4), 7)));
        // Its own announcement (version 4) leaves it; a later one (another replica's) does not.
        standings.holdings_announced(id, Some(4));
        assert_eq!(cached_seats(&standings, id), Some((Some(4), 7)));
        standings.holdings_announced(id, Some(5));
        assert_eq!(cached_seats(&standings, id), None);
        cache(3);
        standings.holdings_written(id, 3, written);

        // A write from another version than the one cached: what is cached is stale.
        standings.holdings_written(id, 3, written);
        assert_eq!(cached_seats(&standings, id), None);

        // A read that began before the write is not cached after it, even brought forward.
        standings.forget(id);
        let before = ticket(standings.get(id));
        standings.holdings_written(id, 3, written);
        let stale = Standing::new(customer(id), holdings_at(3, 5));
        standings.put(before, Arc::new(stale), Instant::now());
        assert!(matches!(standings.get(id), Lookup::Missing(_)));

        // Holdings already stale (announced by another replica) are not brought forward.
        cache(3);
        standings.holdings_announced(id, None);
        standings.holdings_written(id, 3, written);
        assert!(matches!(standings.get(id), Lookup::HoldingsStale { .. }));
    }

    #[test]
    fn nothing_is_cached_past_its_age() {
        let standings = Standings::new(true);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let Some(long_ago) = Instant::now().checked_sub(MAX_AGE + Duration::from_secs(1)) else {
            return; // A machine up for less than MAX_AGE cannot tell.
        };
        standings.put(ticket(standings.get(id)), standing(id), long_ago);
        assert!(matches!(standings.get(id), Lookup::Missing(_)));
    }

    #[test]
    fn nothing_is_cached_while_disabled_nor_across_a_reconnect() {
        let standings = Standings::new(false);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        standings.put(ticket(standings.get(id)), standing(id), Instant::now());
        assert!(matches!(standings.get(id), Lookup::Missing(_)));

        standings.enable();
        let before_reconnect = ticket(standings.get(id));
        standings.disable();
        standings.enable();
        standings.put(before_reconnect, standing(id), Instant::now());
        assert!(matches!(standings.get(id), Lookup::Missing(_)));
    }
}
