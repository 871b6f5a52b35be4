//! A change of a subscription's quantity: when it may be made and what it charges or
//! refunds (the catalog's quantity rules: `eligibility::quantity_change_problems`).

use chrono::{DateTime, Utc};

use super::{
    Subscription, SubscriptionStatus, SubscriptionTransaction, TransactionKind, billing_period,
    unused_share,
};
use crate::domain::DomainError;
use crate::domain::error::Precondition;
use crate::domain::money::Money;
use crate::domain::order::order_code;

impl Subscription {
    /// The record of changing its quantity to `to` at `now`, by a request that read it at
    /// `etag`, if the change may be made (the catalog's quantity rules aside: see
    /// `eligibility::quantity_change_problems`): up at any time, the seats added charged for
    /// the rest of the billing period (co-terminous with the term); down only inside the
    /// current term's cancellation window, the seats removed refunded pro rata. Only an
    /// active subscription changes (a suspended one does not).
    pub fn change_quantity(
        &self,
        etag: Option<&str>,
        to: i32,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransaction, DomainError> {
        if to < 1 {
            return Err(DomainError::invalid(
                "quantity",
                "OUT_OF_RANGE",
                format!("quantity must be at least 1, not {to}; cancel the subscription to end it"),
            ));
        }
        self.check_changeable(etag, self.status == SubscriptionStatus::Active)?;
        if to == self.quantity {
            return Err(DomainError::invalid(
                "quantity",
                "QUANTITY_UNCHANGED",
                format!("the subscription already has {to} seats"),
            ));
        }
        let delta = to - self.quantity;
        let deadline = self.cancel_deadline();
        if delta < 0 && now > deadline {
            let renewal = self
                .commitment_end_at
                .map_or_else(|| "its renewal".to_owned(), |t| t.to_rfc3339());
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "seats could be removed until {}; a lower quantity can be scheduled for the renewal on {renewal}",
                    deadline.to_rfc3339()
                ),
                violations: vec![Precondition {
                    code: order_code::QUANTITY_DECREASE_WINDOW_CLOSED.into(),
                    subject: format!("subscriptions/{}", self.id),
                    description: format!(
                        "seats can be removed only inside the cancellation window, which closed on {}; schedule the lower quantity for the renewal on {renewal}",
                        deadline.to_rfc3339()
                    ),
                }],
            });
        }
        let (period_start, period_end) =
            billing_period(self.start_at, self.term, self.billing_cycle, now);
        let seats = self.charge(delta.abs())?;
        let share = match period_end {
            None => seats,
            Some(end) => unused_share(seats, period_start, end, now),
        };
        let (kind, amount) = if delta > 0 {
            (TransactionKind::AddQuantity, share)
        } else {
            (
                TransactionKind::RemoveQuantity,
                Money::from_micros(share.currency, -share.micros),
            )
        };
        Ok(SubscriptionTransaction {
            subscription_id: self.id,
            version: self.version + 1,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind,
            quantity_delta: delta,
            quantity: to,
            period_start: now.max(period_start),
            period_end,
            amount,
            created_at: now,
        })
    }
}
