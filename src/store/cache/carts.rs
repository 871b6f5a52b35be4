//! The carts this process wrote or read last, each as it was at its version.
//!
//! Invalidated by nothing: a cart's content at a version never changes (every write to a cart
//! or its lines claims the cart at the version it read and bumps it, `carts::claim_statement`;
//! a delete claims it too). So a write that names the version it saw (its etag) takes the cart
//! from here instead of reading it: if the stored cart moved on meanwhile, in this process or
//! another replica, the write's claim fails exactly as it would have after a read, and the
//! refusal is diagnosed from the database.
//!
//! When this process is the database's only writer (SQLite: one process owns the file), each
//! cart it writes is cached as **current** right after the commit, before anyone is answered
//! (`GuardedWrite::after_commit`, on the writer thread: a caller that goes away does not skip
//! it). A checkout forgets the cart the same way, and a delete forgets it before it starts.
//! So a current cart is the stored one, and GetCart answers from it. A cart cached from a read
//! is never current (a write may have committed after the read), nor is any cart when other
//! processes write (PostgreSQL): there GetCart always reads. ListCarts always reads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::domain::cart::Cart;
use crate::domain::ids::{CartId, PartnerId};

/// Carts cached at most; past that, all are forgotten at once.
const MAX_CACHED: usize = 50_000;

#[derive(Debug)]
struct Entry {
    partner: PartnerId,
    cart: Cart,
    /// Cached by the only writer at its commit: the stored cart.
    current: bool,
}

#[derive(Debug)]
pub(in crate::store) struct CachedCarts {
    carts: Mutex<HashMap<CartId, Entry>>,
    /// Whether this process is the database's only writer: then what it committed last is the
    /// stored cart.
    sole_writer: bool,
}

impl CachedCarts {
    pub(in crate::store) fn new(sole_writer: bool) -> Self {
        Self {
            carts: Mutex::default(),
            sole_writer,
        }
    }

    /// Cart `id` of `partner` at `version`, if cached.
    pub(in crate::store) fn at_version(
        &self,
        partner: PartnerId,
        id: CartId,
        version: i64,
    ) -> Option<Cart> {
        let carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        carts
            .get(&id)
            .filter(|cached| cached.partner == partner && cached.cart.version == version)
            .map(|cached| cached.cart.clone())
    }

    /// Cart `id` of `partner` as stored, if it is cached current.
    pub(in crate::store) fn current(&self, partner: PartnerId, id: CartId) -> Option<Cart> {
        let carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        carts
            .get(&id)
            .filter(|cached| cached.current && cached.partner == partner)
            .map(|cached| cached.cart.clone())
    }

    /// Caches `cart` of `partner`, as read at its version, unless that version or a later one
    /// is cached.
    pub(in crate::store) fn read(&self, partner: PartnerId, cart: &Cart) {
        self.put(partner, Cow::Borrowed(cart), false);
    }

    /// Caches `cart` of `partner` as this process's write committed it, right after the
    /// commit: current if this process is the only writer.
    pub(in crate::store) fn committed(&self, partner: PartnerId, cart: Cart) {
        self.put(partner, Cow::Owned(cart), self.sole_writer);
    }

    /// Caches `cart` unless a later version, or the same one as current, is cached (copying
    /// it only if it is cached).
    fn put(&self, partner: PartnerId, cart: Cow<'_, Cart>, current: bool) {
        let mut carts = self.carts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = carts.get(&cart.id) {
            let newer = cached.cart.version > cart.version;
            // A read of the version the writer made current leaves it current.
            if newer || (cached.cart.version == cart.version && (cached.current || !current)) {
                return;
            }
        }
        if carts.len() >= MAX_CACHED {
            carts.clear();
        }
        carts.insert(
            cart.id,
            Entry {
                partner,
                cart: cart.into_owned(),
                current,
            },
        );
    }

    /// Forgets cart `id` (ordered, deleted, or moved on elsewhere).
    pub(in crate::store) fn forget(&self, id: CartId) {
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
        let cached = CachedCarts::new(true);
        let (ours, theirs) = (PartnerId::new(), PartnerId::new());
        let id = CartId::new();
        cached.read(ours, &cart(id, 2));
        assert_eq!(cached.at_version(ours, id, 2).map(|c| c.version), Some(2));
        assert!(cached.at_version(ours, id, 1).is_none());
        assert!(cached.at_version(ours, id, 3).is_none());
        assert!(cached.at_version(theirs, id, 2).is_none());

        // An older read never replaces a newer write.
        cached.read(ours, &cart(id, 3));
        cached.read(ours, &cart(id, 2));
        assert!(cached.at_version(ours, id, 2).is_none());
        assert!(cached.at_version(ours, id, 3).is_some());

        cached.forget(id);
        assert!(cached.at_version(ours, id, 3).is_none());
    }

    #[test]
    fn only_the_sole_writer_caches_a_cart_current_and_a_read_never_unseats_it() {
        let cached = CachedCarts::new(true);
        let (ours, theirs) = (PartnerId::new(), PartnerId::new());
        let id = CartId::new();
        // A read is cached, but not as the stored cart.
        cached.read(ours, &cart(id, 1));
        assert!(cached.current(ours, id).is_none());
        // The writer's commit makes its cart current, over a read of the same version too.
        cached.read(ours, &cart(id, 2));
        cached.committed(ours, cart(id, 2));
        assert_eq!(cached.current(ours, id).map(|c| c.version), Some(2));
        assert!(cached.current(theirs, id).is_none());
        // A read of that version, or of an older one, leaves it current.
        cached.read(ours, &cart(id, 2));
        cached.read(ours, &cart(id, 1));
        assert_eq!(cached.current(ours, id).map(|c| c.version), Some(2));
        // The next commit replaces it; an older commit's cart never does.
        cached.committed(ours, cart(id, 3));
        cached.committed(ours, cart(id, 2));
        assert_eq!(cached.current(ours, id).map(|c| c.version), Some(3));
        cached.forget(id);
        assert!(cached.current(ours, id).is_none());

        // Where other processes write too, a commit is cached at its version, never current.
        let shared = CachedCarts::new(false);
        shared.committed(ours, cart(id, 4));
        assert!(shared.current(ours, id).is_none());
        assert_eq!(shared.at_version(ours, id, 4).map(|c| c.version), Some(4));
    }
}
