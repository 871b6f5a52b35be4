//! The end of a term: a subscription with auto-renew renews for the next term at the price of
//! the catalog current at the renewal (a new price reaches it only then), with the next term
//! its partner scheduled (term, billing cycle, quantity, another SKU of the same product); one
//! without auto-renew, a suspended one, a trial, an add-on whose base ended, or one whose
//! renewal the catalog no longer offers, expires. Both are on its record (`Renew` with the new
//! term's first billing-period charge; `Expire` with no amount).

use chrono::{DateTime, Utc};

use super::{
    Subscription, SubscriptionStatus, SubscriptionTransaction, TransactionKind, billing_period,
    term_end,
};
use crate::domain::DomainError;
use crate::domain::catalog::{BillingCycle, Catalog, Term, line_charge};
use crate::domain::error::Precondition;
use crate::domain::ids::{AvailabilityId, CatalogItemId, SkuId};
use crate::domain::money::Money;
use crate::domain::order::order_code;

text_enum!(
    /// Why a subscription expired at its term's end.
    ExpiryReason {
        /// Auto-renew was off (or it was suspended, which turns it off).
        AutoRenewOff = "auto_renew_off",
        /// A trial ends unless converted.
        TrialEnded = "trial_ended",
        /// An add-on does not outlive its base.
        BaseEnded = "base_ended",
        /// The catalog current at the renewal no longer offers its SKU (or the scheduled one)
        /// at its term and billing cycle in its market and currency.
        RenewalUnavailable = "renewal_unavailable",
    }
);

/// Changes scheduled for a subscription's next term, applied at its renewal and then
/// cleared; each `None`: as now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NextTerm {
    pub term: Option<Term>,
    pub billing_cycle: Option<BillingCycle>,
    pub quantity: Option<i32>,
    /// Another SKU of the same product, and its availability in the subscription's market.
    pub sku: Option<(SkuId, AvailabilityId)>,
}

/// What a partner asks to schedule (each `None`: as now).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NextTermRequest {
    pub term: Option<Term>,
    pub billing_cycle: Option<BillingCycle>,
    pub quantity: Option<i32>,
    pub sku: Option<SkuId>,
}

/// What the end of a term makes of a subscription: it as written and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermEnd {
    pub after: Subscription,
    pub record: SubscriptionTransaction,
}

impl TermEnd {
    pub fn renewed(&self) -> bool {
        self.record.kind == TransactionKind::Renew
    }
}

fn not_offered(sub: &Subscription, message: String) -> DomainError {
    DomainError::FailedPrecondition {
        violations: vec![Precondition {
            code: order_code::NEXT_TERM_NOT_AVAILABLE.into(),
            subject: format!("subscriptions/{}", sub.id),
            description: message.clone(),
        }],
        message,
    }
}

fn not_allowed(sub: &Subscription, message: String) -> DomainError {
    DomainError::FailedPrecondition {
        violations: vec![Precondition {
            code: order_code::NEXT_TERM_NOT_ALLOWED.into(),
            subject: format!("subscriptions/{}", sub.id),
            description: message.clone(),
        }],
        message,
    }
}

impl Subscription {
    /// What it renews on: its item, term, billing cycle and quantity with the scheduled next
    /// term applied.
    pub fn renewal_target(&self) -> (CatalogItemId, Term, BillingCycle, i32) {
        let next = self.next_term.clone().unwrap_or_default();
        let mut item = self.item.clone();
        if let Some((sku, availability)) = next.sku {
            item.sku = sku;
            item.availability = availability;
        }
        (
            item,
            next.term.unwrap_or(self.term),
            next.billing_cycle.unwrap_or(self.billing_cycle),
            next.quantity.unwrap_or(self.quantity),
        )
    }

    /// It with `request` scheduled for its next term (`None`: the schedule cleared), by a
    /// request that read it at `etag`, judged on the current `catalog`: only an active
    /// subscription with a term that renews (not a trial); a SKU of the same product, not a
    /// trial, an add-on exactly when it is one, sold in its market (country, segment) in its
    /// currency; the term and billing cycle offered there; the quantity within the SKU's.
    pub fn with_next_term(
        &self,
        etag: Option<&str>,
        request: Option<&NextTermRequest>,
        catalog: &Catalog,
    ) -> Result<Subscription, DomainError> {
        self.check_changeable(etag, self.status == SubscriptionStatus::Active)?;
        let Some(request) = request else {
            return Ok(Subscription {
                next_term: None,
                version: self.version + 1,
                ..self.clone()
            });
        };
        if self.term == Term::None || self.is_trial {
            return Err(not_allowed(
                self,
                if self.is_trial {
                    "a trial does not renew: it ends unless converted".into()
                } else {
                    "a perpetual licence has no next term".into()
                },
            ));
        }
        let Some(current) = catalog.item(&self.item) else {
            return Err(not_offered(
                self,
                format!(
                    "{} is not in the current price list: its next term cannot be scheduled (it expires at its end unless the catalog offers it again)",
                    self.item
                ),
            ));
        };
        let (sku, availability) = match &request.sku {
            Some(sku) if *sku != self.item.sku => {
                let Some(target) = catalog.sku(&self.item.product, sku) else {
                    return Err(DomainError::invalid(
                        "next_term.sku_id",
                        "NOT_FOUND",
                        format!(
                            "product {} has no SKU {sku} in the current price list",
                            self.item.product
                        ),
                    ));
                };
                if target.sku.is_trial {
                    return Err(not_allowed(
                        self,
                        format!("SKU {sku} is a trial: a subscription does not renew into one"),
                    ));
                }
                if target.sku.is_addon() != current.sku.sku.is_addon() {
                    return Err(not_allowed(
                        self,
                        format!(
                            "SKU {sku} is {} and this subscription is {}",
                            if target.sku.is_addon() {
                                "an add-on"
                            } else {
                                "not an add-on"
                            },
                            if self.parent.is_some() { "one" } else { "not" }
                        ),
                    ));
                }
                let (country, segment) =
                    (current.availability.country, current.availability.segment);
                let Some(found) = target
                    .availabilities
                    .iter()
                    .find(|a| a.country == country && a.segment == segment)
                else {
                    return Err(not_offered(
                        self,
                        format!("SKU {sku} is not sold to {segment} customers in {country}"),
                    ));
                };
                (target, found)
            }
            _ => (current.sku, current.availability),
        };
        if availability.currency != self.unit_price.currency {
            return Err(not_offered(
                self,
                format!(
                    "SKU {} is priced in {} in this market, the subscription in {}",
                    sku.sku.id, availability.currency, self.unit_price.currency
                ),
            ));
        }
        let term = request.term.unwrap_or(self.term);
        let cycle = request.billing_cycle.unwrap_or(self.billing_cycle);
        if term == Term::None {
            return Err(DomainError::invalid(
                "next_term.term",
                "NOT_RENEWABLE",
                "a subscription renews for a term (P1M, P1Y or P3Y), not into a perpetual licence",
            ));
        }
        if availability.price_for(term, cycle).is_none() {
            let offered: Vec<String> = availability
                .terms
                .iter()
                .filter(|t| t.term != Term::None)
                .map(|t| format!("{} billed {}", t.term, t.billing_cycle))
                .collect();
            return Err(not_offered(
                self,
                format!(
                    "SKU {} is not offered for {term} billed {cycle} in this market; offered: {}",
                    sku.sku.id,
                    offered.join(", ")
                ),
            ));
        }
        let quantity = request.quantity.unwrap_or(self.quantity);
        let (min, max) = (sku.sku.min_quantity.max(1), sku.sku.max_quantity);
        if quantity < min || (max > 0 && quantity > max) {
            return Err(DomainError::invalid(
                "next_term.quantity",
                "OUT_OF_RANGE",
                format!(
                    "the next term's quantity must be between {min} and {max} for SKU {}, not {quantity}",
                    sku.sku.id
                ),
            ));
        }
        let next = NextTerm {
            term: (term != self.term).then_some(term),
            billing_cycle: (cycle != self.billing_cycle).then_some(cycle),
            quantity: (quantity != self.quantity).then_some(quantity),
            sku: (sku.sku.id != self.item.sku)
                .then(|| (sku.sku.id.clone(), availability.id.clone())),
        };
        if next == NextTerm::default() {
            return Err(DomainError::invalid(
                "next_term",
                "NO_CHANGE",
                "the next term would be the same as this one; leave next_term unset to clear a schedule",
            ));
        }
        Ok(Subscription {
            next_term: Some(next),
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// What the end of its term makes of it, if it is live and its term ends: `price`, the
    /// unit term price the catalog current at the renewal has for `renewal_target` (`None`:
    /// not offered); `base_live`, whether its base (an add-on's) renews or lives on.
    pub fn at_term_end(
        &self,
        price: Option<Money>,
        base_live: bool,
    ) -> Result<Option<TermEnd>, DomainError> {
        let Some(end) = self.commitment_end_at.filter(|_| self.is_live()) else {
            return Ok(None);
        };
        let reason = if self.is_trial {
            Some(ExpiryReason::TrialEnded)
        } else if !base_live {
            Some(ExpiryReason::BaseEnded)
        } else if !self.auto_renew || self.status != SubscriptionStatus::Active {
            Some(ExpiryReason::AutoRenewOff)
        } else if price.is_none_or(|p| p.currency != self.unit_price.currency) {
            Some(ExpiryReason::RenewalUnavailable)
        } else {
            None
        };
        if let Some(reason) = reason {
            return self.expired(end, reason).map(Some);
        }
        let Some(price) = price else {
            return Ok(None);
        };
        let (item, term, cycle, quantity) = self.renewal_target();
        let Some(commitment_end_at) = term_end(term, end) else {
            return self
                .expired(end, ExpiryReason::RenewalUnavailable)
                .map(Some);
        };
        let (period_start, period_end) = billing_period(end, term, cycle, end);
        let amount = line_charge(price, quantity, term, cycle).ok_or_else(|| {
            DomainError::Internal(format!("subscription {} renewal charge overflows", self.id))
        })?;
        let after = Subscription {
            item,
            quantity,
            term,
            billing_cycle: cycle,
            start_at: end,
            commitment_end_at: Some(commitment_end_at),
            unit_price: price,
            next_term: None,
            version: self.version + 1,
            ..self.clone()
        };
        let record = SubscriptionTransaction {
            subscription_id: self.id,
            version: after.version,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind: TransactionKind::Renew,
            quantity_delta: quantity - self.quantity,
            quantity,
            period_start,
            period_end,
            amount,
            created_at: end,
        };
        Ok(Some(TermEnd { after, record }))
    }

    /// It expired at `at` for `reason`, and the record of that (no amount).
    pub fn expired(&self, at: DateTime<Utc>, reason: ExpiryReason) -> Result<TermEnd, DomainError> {
        let after = Subscription {
            status: SubscriptionStatus::Expired,
            auto_renew: false,
            expiry_reason: Some(reason),
            version: self.version + 1,
            ..self.clone()
        };
        let record = SubscriptionTransaction {
            subscription_id: self.id,
            version: after.version,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind: TransactionKind::Expire,
            quantity_delta: -self.quantity,
            quantity: 0,
            period_start: at,
            period_end: Some(at),
            amount: Money::zero(self.unit_price.currency),
            created_at: at,
        };
        Ok(TermEnd { after, record })
    }
}
