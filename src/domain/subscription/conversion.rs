//! A trial converted to a paid SKU (DOMAIN.md section 6, "Trials"), as Partner Center does
//! it: the subscription keeps its id and becomes the paid one (the catalog item, term,
//! billing cycle, quantity and price it was converted to; a new term from the conversion,
//! auto-renew on), and its record gets a CONVERT transaction charging the new term's first
//! billing period. The trial SKU it was still counts toward that SKU's lifetime limit
//! (`eligibility::Holding::converted_from`). Which targets are allowed is the trial SKU's
//! (`Sku::conversions`, the matrix's `ProductSkuConversion`); whether the customer may buy the
//! target is checkout's rules' (`eligibility::check`).

use chrono::{DateTime, Utc};

use super::{
    Subscription, SubscriptionStatus, SubscriptionTransaction, TransactionKind, billing_period,
    term_end,
};
use crate::domain::DomainError;
use crate::domain::catalog::{BillingCycle, Sku, Term};
use crate::domain::error::Precondition;
use crate::domain::ids::CatalogItemId;
use crate::domain::money::Money;
use crate::domain::order::order_code;

/// What a trial converts to, as the caller chose it and the current price list prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub item: CatalogItemId,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub quantity: i32,
    /// One unit for the whole term, from the current month's list.
    pub unit_price: Money,
}

impl Subscription {
    /// Whether it may be converted by a request that read it at `etag`: an active trial.
    pub fn check_convertible(&self, etag: Option<&str>) -> Result<(), DomainError> {
        self.check_changeable(etag, self.status == SubscriptionStatus::Active)?;
        if !self.is_trial {
            return Err(self.refused(
                order_code::NOT_A_TRIAL,
                "only a trial converts; this subscription is a paid one (or a trial converted already)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The seats a conversion asks for: `requested`, or the trial's when 0.
    pub fn conversion_quantity(&self, requested: i32) -> Result<i32, DomainError> {
        match requested {
            0 => Ok(self.quantity),
            q if q > 0 => Ok(q),
            q => Err(DomainError::invalid(
                "quantity",
                "OUT_OF_RANGE",
                format!("quantity must be at least 1 (or 0 for the trial's), not {q}"),
            )),
        }
    }

    /// It converted at `now` to `to` (judged convertible and `to` allowed and purchasable),
    /// and the CONVERT transaction on its record.
    pub fn converted(
        &self,
        to: &Conversion,
        now: DateTime<Utc>,
    ) -> Result<(Subscription, SubscriptionTransaction), DomainError> {
        let after = Subscription {
            item: to.item.clone(),
            quantity: to.quantity,
            term: to.term,
            billing_cycle: to.billing_cycle,
            status: SubscriptionStatus::Active,
            is_trial: false,
            start_at: now,
            commitment_end_at: term_end(to.term, now),
            auto_renew: to.term != Term::None,
            unit_price: to.unit_price,
            version: self.version + 1,
            ..self.clone()
        };
        let (period_start, period_end) = billing_period(now, after.term, after.billing_cycle, now);
        let t = SubscriptionTransaction {
            subscription_id: self.id,
            version: after.version,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind: TransactionKind::Convert,
            quantity_delta: after.quantity - self.quantity,
            quantity: after.quantity,
            period_start,
            period_end,
            amount: after.charge(after.quantity)?,
            created_at: now,
        };
        Ok((after, t))
    }
}

/// Whether a trial of `trial` may convert to `target`'s SKU: one of the SKU's conversion
/// targets, else FAILED_PRECONDITION naming them.
pub fn check_conversion_target(
    trial: &Sku,
    target: &CatalogItemId,
    subject: &str,
) -> Result<(), DomainError> {
    if trial.converts_to(&target.product, &target.sku) {
        return Ok(());
    }
    let allowed = trial
        .conversions
        .iter()
        .map(|(p, s)| format!("{p}/{s}"))
        .collect::<Vec<_>>()
        .join(", ");
    let description = if allowed.is_empty() {
        format!(
            "{}/{} names no SKU to convert to",
            trial.product_id, trial.id
        )
    } else {
        format!(
            "{}/{} is not a conversion target of {}/{}; allowed: {allowed}",
            target.product, target.sku, trial.product_id, trial.id
        )
    };
    Err(DomainError::FailedPrecondition {
        message: format!("the trial cannot convert to {target}: {description}"),
        violations: vec![Precondition {
            code: order_code::CONVERSION_TARGET_NOT_ALLOWED.into(),
            subject: subject.to_owned(),
            description,
        }],
    })
}
