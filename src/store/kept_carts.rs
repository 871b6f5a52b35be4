//! The carts this process wrote or read last, each as it was at its version.
//!
//! A cart's content at a version never changes: every write to a cart or its lines claims the
//! cart at the version it read and bumps it (`carts::claim_statement`; a delete claims it
//! too). So a write that names the version it saw (its etag) can take the cart from here
//! instead of reading it: if the stored cart moved on meanwhile, in this process or another
//! replica, the write's claim fails exactly as it would have after a read, and the refusal is
//! diagnosed from the database. Reads that name no version (GetCart, ListCarts) always read.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::domain::cart::Cart;
use crate::domain::ids::PartnerId;

/// Carts kept at most; past that, all are forgotten at once (a cache, not a store).
const MAX_KEPT: usize = 50_000;

#[derive(Debug, Default)]
pub(super) struct KeptCarts {
    carts: Mutex<HashMap<uuid::Uuid, (PartnerId, Cart)>>,
}

impl KeptCarts {
    /// Cart `id` of `partner` at `version`, if kept.
    pub(super) fn get(&self, partner: PartnerId, id: uuid::Uuid, version: i64) -> Option<Cart> {
        let carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        carts
            .get(&id)
            .filter(|(owner, cart)| *owner == partner && cart.version == version)
            .map(|(_, cart)| cart.clone())
    }

    /// Keeps `cart` of `partner` as stored at its version, unless a later version is kept.
    pub(super) fn keep(&self, partner: PartnerId, cart: &Cart) {
        let mut carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        if carts
            .get(&cart.id)
            .is_some_and(|(_, kept)| kept.version >= cart.version)
        {
            return;
        }
        if carts.len() >= MAX_KEPT {
            carts.clear();
        }
        carts.insert(cart.id, (partner, cart.clone()));
    }

    /// Forgets cart `id` (ordered or deleted: it is no longer written).
    pub(super) fn forget(&self, id: uuid::Uuid) {
        self.carts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::CartStatus;
    use crate::domain::ids::CustomerId;

    fn cart(id: uuid::Uuid, version: i64) -> Cart {
        let now = chrono::Utc::now();
        Cart {
            id,
            customer_id: CustomerId::new(),
            status: CartStatus::Active,
            lines: Vec::new(),
            created_at: now,
            expires_at: now,
            version,
            order_id: None,
        }
    }

    #[test]
    fn a_cart_is_given_only_at_its_version_and_to_its_partner() {
        let kept = KeptCarts::default();
        let (ours, theirs) = (PartnerId::new(), PartnerId::new());
        let id = uuid::Uuid::now_v7();
        kept.keep(ours, &cart(id, 2));
        assert_eq!(kept.get(ours, id, 2).map(|c| c.version), Some(2));
        assert!(kept.get(ours, id, 1).is_none());
        assert!(kept.get(ours, id, 3).is_none());
        assert!(kept.get(theirs, id, 2).is_none());

        // An older read never replaces a newer write.
        kept.keep(ours, &cart(id, 3));
        kept.keep(ours, &cart(id, 2));
        assert!(kept.get(ours, id, 2).is_none());
        assert!(kept.get(ours, id, 3).is_some());

        kept.forget(id);
        assert!(kept.get(ours, id, 3).is_none());
    }
}
