//! A customer's standing: the customer, its qualifications and agreement, and what it holds.
//! The purchasability check, `purchasable_by` listings and cart reviews read it on every call,
//! so each process keeps the standings it read, and forgets one when it may have changed:
//! - after each of this process's own writes to a customer, its qualifications or its
//!   subscriptions commit (read-your-writes in one process);
//! - on PostgreSQL, when another replica's write commits: triggers (migration m0004) NOTIFY the
//!   customer's id on `csp_customer_changes`, which every process LISTENs to. While that
//!   listener is not connected, nothing is kept (every read goes to the database), and
//!   everything kept is forgotten when it reconnects, since notifications may have been missed.
//!
//! Checkout never reads a kept standing: it reads what the customer holds itself, and writes
//! only if the customer's `holdings_version` is still the one read with it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::domain::customer::Customer;
use crate::domain::eligibility::Holdings;
use crate::domain::ids::CustomerId;

use super::Held;

/// The PostgreSQL channel on which customer changes are announced (payload: the customer id).
pub const CUSTOMER_CHANNEL: &str = "csp_customer_changes";

/// Standings kept at most; past that, all are forgotten at once (a cache, not a store).
const MAX_KEPT: usize = 100_000;

/// A customer and what it holds, as read together.
#[derive(Debug)]
pub struct Standing {
    pub customer: Customer,
    pub held: Held,
    /// `held.holdings` counted per SKU, for the rules.
    pub holdings: Holdings,
}

impl Standing {
    pub fn new(customer: Customer, held: Held) -> Self {
        let holdings = Holdings::new(held.holdings.iter().cloned());
        Self {
            customer,
            held,
            holdings,
        }
    }
}

#[derive(Debug, Default)]
struct Slot {
    standing: Option<Arc<Standing>>,
    /// Bumped by every change of the customer: a read that started before a change must not
    /// be kept after it.
    generation: u64,
}

#[derive(Debug, Default)]
struct Kept {
    slots: HashMap<CustomerId, Slot>,
    /// Bumped when everything is forgotten.
    epoch: u64,
}

/// Where a read started: what it may be kept under.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket {
    epoch: u64,
    generation: u64,
}

#[derive(Debug)]
pub struct Standings {
    kept: Mutex<Kept>,
    /// Whether kept standings may be used: always on SQLite (one process owns the file), on
    /// PostgreSQL only while this process hears other replicas' changes.
    enabled: AtomicBool,
}

impl Standings {
    pub fn new(enabled: bool) -> Self {
        Self {
            kept: Mutex::default(),
            enabled: AtomicBool::new(enabled),
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map stays consistent whatever a panicking holder did: every change is one insert
        // or one field write.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The kept standing of `id`, or the ticket to keep one read from the database now.
    pub fn get(&self, id: CustomerId) -> Result<Arc<Standing>, ReadTicket> {
        let kept = self.kept();
        let slot = kept.slots.get(&id);
        if self.enabled.load(Ordering::Acquire)
            && let Some(standing) = slot.and_then(|s| s.standing.clone())
        {
            return Ok(standing);
        }
        Err(ReadTicket {
            epoch: kept.epoch,
            generation: slot.map_or(0, |s| s.generation),
        })
    }

    /// Keeps `standing`, read after `ticket` was taken, unless the customer changed since.
    pub fn keep(&self, ticket: ReadTicket, standing: Arc<Standing>) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut kept = self.kept();
        if kept.epoch != ticket.epoch {
            return;
        }
        if kept.slots.len() >= MAX_KEPT {
            Self::clear(&mut kept);
            return;
        }
        let id = standing.customer.id;
        let slot = kept.slots.entry(id).or_default();
        if slot.generation == ticket.generation {
            slot.standing = Some(standing);
        }
    }

    /// The customer changed (after the change committed).
    pub fn forget(&self, id: CustomerId) {
        let mut kept = self.kept();
        let slot = kept.slots.entry(id).or_default();
        slot.standing = None;
        slot.generation += 1;
    }

    /// Changes may have been missed (the listener was down): forget everything, and keep
    /// nothing more until `enable` is called again.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Release);
        Self::clear(&mut self.kept());
    }

    /// Changes are heard again: start keeping afresh.
    pub fn enable(&self) {
        self.forget_all();
        self.enabled.store(true, Ordering::Release);
    }

    /// Which customer changed is not known: forget every one.
    pub fn forget_all(&self) {
        Self::clear(&mut self.kept());
    }

    fn clear(kept: &mut Kept) {
        kept.slots.clear();
        kept.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn customer(id: CustomerId) -> Customer {
        let now = chrono::Utc::now();
        Customer {
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
        }
    }

    fn standing(id: CustomerId) -> Arc<Standing> {
        Arc::new(Standing::new(customer(id), Held::default()))
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_kept() {
        let standings = Standings::new(true);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let ticket = standings.get(id).unwrap_err();
        standings.forget(id);
        standings.keep(ticket, standing(id));
        assert!(standings.get(id).is_err());

        let ticket = standings.get(id).unwrap_err();
        standings.keep(ticket, standing(id));
        assert!(standings.get(id).is_ok());
        standings.forget(id);
        assert!(standings.get(id).is_err());
    }

    #[test]
    fn nothing_is_kept_while_disabled_nor_across_a_reconnect() {
        let standings = Standings::new(false);
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let ticket = standings.get(id).unwrap_err();
        standings.keep(ticket, standing(id));
        assert!(standings.get(id).is_err());

        standings.enable();
        let before_reconnect = standings.get(id).unwrap_err();
        standings.disable();
        standings.enable();
        standings.keep(before_reconnect, standing(id));
        assert!(standings.get(id).is_err());
    }
}
