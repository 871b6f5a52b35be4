//! The carts this process wrote or read last, each as it was at its version.
//!
//! A cart's content at a version never changes: every write to a cart or its lines claims the
//! cart at the version it read and bumps it (`carts::claim_statement`; a delete claims it
//! too). So a write that names the version it saw (its etag) can take the cart from here
//! instead of reading it: if the stored cart moved on meanwhile, in this process or another
//! replica, the write's claim fails exactly as it would have after a read, and the refusal is
//! diagnosed from the database.
//!
//! On SQLite one process owns the file, and each of its cart writes goes through the writer
//! thread, which keeps the cart it wrote as **current** right after its commit, before anyone
//! is answered (`SqliteBatch::after_commit`: a caller that goes away does not skip it). A
//! checkout forgets the cart the same way, and a delete forgets it before it starts. So a
//! current cart is the stored one, and GetCart answers from it. A cart kept from a read is
//! never current (a write may have committed after the read), nor is any cart on PostgreSQL,
//! where other replicas write: there GetCart always reads. ListCarts always reads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::domain::cart::Cart;
use crate::domain::ids::{CartId, PartnerId};

/// Carts kept at most; past that, all are forgotten at once (a cache, not a store).
const MAX_KEPT: usize = 50_000;

#[derive(Debug)]
struct Kept {
    partner: PartnerId,
    cart: Cart,
    /// Kept by the SQLite writer at its commit: the stored cart.
    current: bool,
}

#[derive(Debug, Default)]
pub(super) struct KeptCarts {
    carts: Mutex<HashMap<CartId, Kept>>,
}

impl KeptCarts {
    /// Cart `id` of `partner` at `version`, if kept.
    pub(super) fn get(&self, partner: PartnerId, id: CartId, version: i64) -> Option<Cart> {
        let carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        carts
            .get(&id)
            .filter(|kept| kept.partner == partner && kept.cart.version == version)
            .map(|kept| kept.cart.clone())
    }

    /// Cart `id` of `partner` as stored, if it is kept current.
    pub(super) fn current(&self, partner: PartnerId, id: CartId) -> Option<Cart> {
        let carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        carts
            .get(&id)
            .filter(|kept| kept.current && kept.partner == partner)
            .map(|kept| kept.cart.clone())
    }

    /// Keeps `cart` of `partner` as stored at its version, unless that version or a later one
    /// is kept.
    pub(super) fn keep(&self, partner: PartnerId, cart: &Cart) {
        self.put(partner, Cow::Borrowed(cart), false);
    }

    /// Keeps `cart` of `partner` as the stored cart: only the SQLite writer, right after the
    /// commit that wrote it.
    pub(super) fn keep_current(&self, partner: PartnerId, cart: Cart) {
        self.put(partner, Cow::Owned(cart), true);
    }

    /// Keeps `cart` unless a later version, or the same one as current, is kept (copying it
    /// only if it is kept).
    fn put(&self, partner: PartnerId, cart: Cow<'_, Cart>, current: bool) {
        let mut carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = carts.get(&cart.id) {
            let newer = kept.cart.version > cart.version;
            // A read of the version the writer keeps current leaves it current.
            if newer || (kept.cart.version == cart.version && (kept.current || !current)) {
                return;
            }
        }
        if carts.len() >= MAX_KEPT {
            carts.clear();
        }
        carts.insert(
            cart.id,
            Kept {
                partner,
                cart: cart.into_owned(),
                current,
            },
        );
    }

    /// Forgets cart `id` (ordered, deleted, or moved on elsewhere).
    pub(super) fn forget(&self, id: CartId) {
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

    fn cart(id: CartId, version: i64) -> Cart {
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
        let id = CartId::new();
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

    #[test]
    fn only_the_writer_keeps_a_cart_current_and_a_read_never_unseats_it() {
        let kept = KeptCarts::default();
        let (ours, theirs) = (PartnerId::new(), PartnerId::new());
        let id = CartId::new();
        // A read is kept, but not as the stored cart.
        kept.keep(ours, &cart(id, 1));
        assert!(kept.current(ours, id).is_none());
        // The writer's commit makes its cart current, over a read of the same version too.
        kept.keep(ours, &cart(id, 2));
        kept.keep_current(ours, cart(id, 2));
        assert_eq!(kept.current(ours, id).map(|c| c.version), Some(2));
        assert!(kept.current(theirs, id).is_none());
        // A read of that version, or of an older one, leaves it current.
        kept.keep(ours, &cart(id, 2));
        kept.keep(ours, &cart(id, 1));
        assert_eq!(kept.current(ours, id).map(|c| c.version), Some(2));
        // The next commit replaces it; an older commit's cart never does.
        kept.keep_current(ours, cart(id, 3));
        kept.keep_current(ours, cart(id, 2));
        assert_eq!(kept.current(ours, id).map(|c| c.version), Some(3));
        kept.forget(id);
        assert!(kept.current(ours, id).is_none());
    }
}
