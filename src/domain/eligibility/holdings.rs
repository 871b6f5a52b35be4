//! What a customer already owns, as far as the purchase rules care: seats per SKU (counted
//! against seat limits, active for add-ons to hang on) and subscriptions held now and ever
//! (counted against the matrix's concurrent and lifetime limits, trials' above all).

use std::collections::HashMap;

use crate::domain::ids::{ProductId, SkuId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldingStatus {
    Active,
    Suspended,
    Cancelled,
    Expired,
}

/// One of the customer's subscriptions, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub product_id: ProductId,
    pub sku_id: SkuId,
    pub quantity: i64,
    pub status: HoldingStatus,
    pub is_trial: bool,
    /// A converted trial: the trial SKU it was (the subscription kept its id and is now of
    /// the paid SKU), which it still counts toward for life.
    pub converted_from: Option<(ProductId, SkuId)>,
}

/// What a customer already owns, summed per SKU.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Seats counting against the seat limit: every subscription not yet gone (cancelled ones
    /// included, expired ones not).
    counted_seats: HashMap<(ProductId, SkuId), i64>,
    /// Seats of active subscriptions: what an add-on can hang on.
    active_seats: HashMap<(ProductId, SkuId), i64>,
    /// Subscriptions held now (active or suspended): the concurrent limit's count.
    held_now: HashMap<(ProductId, SkuId), i64>,
    /// Subscriptions ever held, whatever became of them (cancelled, expired, converted): the
    /// lifetime limit's count.
    held_ever: HashMap<(ProductId, SkuId), i64>,
}

impl Holdings {
    pub fn new(holdings: impl IntoIterator<Item = Holding>) -> Self {
        let mut this = Self::default();
        for h in holdings {
            this.add(h);
        }
        this
    }

    /// Counts one more subscription in.
    pub fn add(&mut self, h: Holding) {
        let key = (h.product_id, h.sku_id);
        *self.held_ever.entry(key.clone()).or_default() += 1;
        if let Some(trial) = h.converted_from {
            *self.held_ever.entry(trial).or_default() += 1;
        }
        if matches!(h.status, HoldingStatus::Active | HoldingStatus::Suspended) {
            *self.held_now.entry(key.clone()).or_default() += 1;
        }
        if h.status != HoldingStatus::Expired {
            *self.counted_seats.entry(key.clone()).or_default() += h.quantity;
        }
        if h.status == HoldingStatus::Active {
            *self.active_seats.entry(key).or_default() += h.quantity;
        }
    }

    /// Adds seats that are not subscriptions yet (other lines of the same cart).
    pub fn with_pending(mut self, product: &ProductId, sku: &SkuId, quantity: i64) -> Self {
        let key = (product.clone(), sku.clone());
        *self.counted_seats.entry(key.clone()).or_default() += quantity;
        *self.active_seats.entry(key).or_default() += quantity;
        self
    }

    pub fn counted(&self, product: &ProductId, sku: &SkuId) -> i64 {
        self.counted_seats
            .get(&(product.clone(), sku.clone()))
            .copied()
            .unwrap_or(0)
    }

    pub fn active(&self, product: &ProductId, sku: &SkuId) -> i64 {
        self.active_seats
            .get(&(product.clone(), sku.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Subscriptions of the SKU held now (active or suspended).
    pub fn held_now(&self, product: &ProductId, sku: &SkuId) -> i64 {
        self.held_now
            .get(&(product.clone(), sku.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Subscriptions of the SKU ever held (a converted trial still counts for its trial SKU).
    pub fn held_ever(&self, product: &ProductId, sku: &SkuId) -> i64 {
        self.held_ever
            .get(&(product.clone(), sku.clone()))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str, s: &str) -> (ProductId, SkuId) {
        (
            ProductId::parse("p", p).unwrap(),
            SkuId::parse("s", s).unwrap(),
        )
    }

    fn holding(sku: (ProductId, SkuId), status: HoldingStatus) -> Holding {
        Holding {
            product_id: sku.0,
            sku_id: sku.1,
            quantity: 25,
            status,
            is_trial: true,
            converted_from: None,
        }
    }

    #[test]
    fn subscriptions_count_now_while_held_and_ever_whatever_became_of_them() {
        let (trial, paid) = (key("CFQ7TTC02ROY", "0004"), key("CFQ7TTC02ROY", "0001"));
        let converted = Holding {
            is_trial: false,
            converted_from: Some(trial.clone()),
            ..holding(paid.clone(), HoldingStatus::Active)
        };
        let held = Holdings::new([
            holding(trial.clone(), HoldingStatus::Active),
            holding(trial.clone(), HoldingStatus::Suspended),
            holding(trial.clone(), HoldingStatus::Cancelled),
            holding(trial.clone(), HoldingStatus::Expired),
            converted,
        ]);
        assert_eq!(held.held_now(&trial.0, &trial.1), 2);
        assert_eq!(held.held_ever(&trial.0, &trial.1), 5);
        assert_eq!(held.held_now(&paid.0, &paid.1), 1);
        assert_eq!(held.held_ever(&paid.0, &paid.1), 1);
    }
}
