//! Partners: every call of a partner's users reads its partner (the eligibility rules look at
//! its GCC status), so each process caches the partners it read, and forgets one:
//! - after this process's UpdatePartner (whatever its answer: a retry may have changed it);
//! - on PostgreSQL, when any replica's change to it commits: a trigger (migration m0011)
//!   NOTIFYs its id on [`PARTNER_CHANNEL`] in the writing transaction, so no committed change
//!   goes unannounced, and every process LISTENs to it. While that listener is not connected
//!   nothing is cached (`disable`, with the customer standings), and everything is forgotten
//!   again when it reconnects.
//!
//! No age limit is needed: the announcement commits with the change, and a listener that
//! misses it has lost its connection, which forgets everything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::domain::customer::Partner;
use crate::domain::ids::PartnerId;

/// The PostgreSQL channel on which partner changes are announced (payload: the partner id).
pub const PARTNER_CHANNEL: &str = "csp_partner_changes";

/// Partners cached at most; past that, all are forgotten at once.
const MAX_CACHED: usize = 10_000;

#[derive(Debug, Default)]
struct Slot {
    partner: Option<Partner>,
    /// Bumped by every change: a read that started before a change is not cached after it.
    generation: u64,
}

#[derive(Debug, Default)]
struct Slots {
    slots: HashMap<PartnerId, Slot>,
    /// Bumped when everything is forgotten.
    epoch: u64,
}

/// Where a read started: what it may be cached under.
#[derive(Debug, Clone, Copy)]
pub struct PartnerTicket {
    epoch: u64,
    generation: u64,
}

#[derive(Debug)]
pub struct Partners {
    slots: Mutex<Slots>,
    /// Whether cached partners may be used: always on SQLite (one process owns the file), on
    /// PostgreSQL only while this process hears other replicas' changes.
    enabled: AtomicBool,
}

impl Partners {
    pub fn new(enabled: bool) -> Self {
        Self {
            slots: Mutex::default(),
            enabled: AtomicBool::new(enabled),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        // Every change is one insert or one field write: consistent whatever a holder did.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached partner, or the ticket to cache what is read from the database now.
    pub fn get(&self, id: PartnerId) -> Result<Partner, PartnerTicket> {
        let slots = self.slots();
        let slot = slots.slots.get(&id);
        let ticket = PartnerTicket {
            epoch: slots.epoch,
            generation: slot.map_or(0, |s| s.generation),
        };
        if !self.enabled.load(Ordering::Acquire) {
            return Err(ticket);
        }
        slot.and_then(|s| s.partner.clone()).ok_or(ticket)
    }

    /// Caches `partner`, read after `ticket` was taken, unless it changed since.
    pub fn put(&self, ticket: PartnerTicket, partner: Partner) {
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
        let slot = slots.slots.entry(partner.id).or_default();
        if slot.generation == ticket.generation {
            slot.partner = Some(partner);
        }
    }

    /// The partner changed (after the change committed).
    pub fn forget(&self, id: PartnerId) {
        let mut slots = self.slots();
        let slot = slots.slots.entry(id).or_default();
        slot.partner = None;
        slot.generation += 1;
    }

    /// Which partner changed is not known: forget every one.
    pub fn forget_all(&self) {
        Self::clear(&mut self.slots());
    }

    /// Changes may have been missed (the listener is down): forget everything, and cache
    /// nothing more until `enable`.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Release);
        Self::clear(&mut self.slots());
    }

    /// Whether partners are cached now (read by the metrics).
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Changes are heard again: start caching afresh.
    pub fn enable(&self) {
        self.forget_all();
        self.enabled.store(true, Ordering::Release);
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

    fn partner(gcc: bool) -> Partner {
        Partner {
            id: PartnerId::from_uuid(uuid::Uuid::from_u128(7)),
            name: "Contoso".into(),
            country: crate::domain::ids::CountryCode::parse("country", "US").unwrap(),
            currency: crate::domain::money::Currency::parse("currency", "USD").unwrap(),
            gcc,
        }
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_cached() {
        let partners = Partners::new(true);
        let id = partner(false).id;
        let before = partners.get(id).unwrap_err();
        partners.forget(id);
        partners.put(before, partner(false));
        let fresh = partners.get(id).unwrap_err();
        partners.put(fresh, partner(true));
        assert!(partners.get(id).unwrap().gcc);
        partners.forget(id);
        assert!(partners.get(id).is_err());
    }

    #[test]
    fn nothing_is_cached_while_disabled_nor_across_a_reconnect() {
        let partners = Partners::new(false);
        let id = partner(true).id;
        partners.put(partners.get(id).unwrap_err(), partner(true));
        assert!(partners.get(id).is_err());

        partners.enable();
        let before_reconnect = partners.get(id).unwrap_err();
        partners.disable();
        partners.enable();
        partners.put(before_reconnect, partner(true));
        assert!(partners.get(id).is_err());
        partners.put(partners.get(id).unwrap_err(), partner(true));
        assert!(partners.get(id).is_ok());
        partners.disable();
        assert!(partners.get(id).is_err());
    }
}
