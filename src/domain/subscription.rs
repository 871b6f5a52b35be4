//! Subscriptions after the sale: each line's cancellation window, the billing period a moment
//! falls in, what a cancellation refunds (the unused share of what was billed for that
//! period, never of the whole term), and the record of every change
//! (`SubscriptionTransaction`).

use chrono::{DateTime, Duration, Months, Utc};

use super::DomainError;
use super::catalog::{BillingCycle, Term, billing_periods, line_charge};
use super::error::Precondition;
use super::ids::{CatalogItemId, CustomerId, OrderId, SubscriptionId};
use super::money::Money;
use super::order::order_code;

mod conversion;
mod events;
mod quantity;
mod renewal;
mod state;

pub use conversion::{Conversion, check_conversion_target};
pub use events::{SubscriptionEvent, SubscriptionEventKind};
pub use renewal::{ExpiryReason, NextTerm, NextTermRequest, TermEnd};

/// License-based subscriptions can be cancelled this long after purchase (or renewal).
pub const LICENSE_CANCEL_WINDOW: Duration = Duration::days(7);
/// Perpetual software can be returned this long after purchase.
pub const PERPETUAL_CANCEL_WINDOW: Duration = Duration::days(30);

text_enum!(SubscriptionStatus {
    Active = "active",
    Suspended = "suspended",
    Cancelled = "cancelled",
    Expired = "expired",
});

text_enum!(
    /// What a transaction on a subscription's record did.
    TransactionKind {
        New = "new",
        AddQuantity = "add_quantity",
        RemoveQuantity = "remove_quantity",
        Cancel = "cancel",
        Renew = "renew",
        Convert = "convert",
        /// Ended at its term's end (no amount).
        Expire = "expire",
    }
);

/// The window a line of `term` may be cancelled in: perpetual software (no term) 30 days,
/// everything else 7 days.
pub fn cancel_window(term: Term) -> Duration {
    if term == Term::None {
        PERPETUAL_CANCEL_WINDOW
    } else {
        LICENSE_CANCEL_WINDOW
    }
}

/// The commitment end of a term started at `start`; `None` for perpetual.
pub fn term_end(term: Term, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    start.checked_add_months(Months::new(term_months(term)?))
}

fn term_months(term: Term) -> Option<u32> {
    match term {
        Term::P1M => Some(1),
        Term::P1Y => Some(12),
        Term::P3Y => Some(36),
        Term::None => None,
    }
}

/// The billing period of a term started at `start`, billed in `cycle`, that holds `at` (the
/// last one from the term's end on; the first one before `start`): its start and end. A
/// perpetual licence has one period without an end.
pub fn billing_period(
    start: DateTime<Utc>,
    term: Term,
    cycle: BillingCycle,
    at: DateTime<Utc>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let Some(months) = term_months(term) else {
        return (start, None);
    };
    let periods = billing_periods(term, cycle);
    let step = months / periods;
    let mut period_start = start;
    for k in 1..=periods {
        let Some(end) = start.checked_add_months(Months::new(step * k)) else {
            break;
        };
        if at < end || k == periods {
            return (period_start, Some(end));
        }
        period_start = end;
    }
    (period_start, None)
}

/// The share of `charge` (billed for `[start, end)`) not used at `now`, rounded down to the
/// micro-unit: all of it before the period, none after it.
pub fn unused_share(
    charge: Money,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Money {
    let length = (end - start).num_seconds().max(1);
    let unused = (end - now.max(start)).num_seconds().clamp(0, length);
    // Integer arithmetic in i128: exact; |charge * unused / length| <= |charge|.
    let micros = i128::from(charge.micros) * i128::from(unused) / i128::from(length);
    Money::from_micros(charge.currency, i64::try_from(micros).unwrap_or(0))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub customer_id: CustomerId,
    pub order_id: OrderId,
    pub item: CatalogItemId,
    pub title: String,
    pub quantity: i32,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub status: SubscriptionStatus,
    pub is_trial: bool,
    /// The current term's start: purchase (or, later, the last renewal).
    pub start_at: DateTime<Utc>,
    pub commitment_end_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub parent: Option<SubscriptionId>,
    /// One unit for the whole term, as sold.
    pub unit_price: Money,
    pub version: i64,
    /// Changes scheduled for the next term (applied at the renewal, then cleared).
    pub next_term: Option<NextTerm>,
    /// Why it expired, once it did.
    pub expiry_reason: Option<ExpiryReason>,
}

impl Subscription {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }

    /// Whether it is still held (active or suspended): what a cancellation ends.
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            SubscriptionStatus::Active | SubscriptionStatus::Suspended
        )
    }

    /// Until when the current term may be cancelled.
    pub fn cancel_deadline(&self) -> DateTime<Utc> {
        self.start_at + cancel_window(self.term)
    }

    /// What one billing period charges at `quantity`; `None` if it does not fit an amount.
    fn charge(&self, quantity: i32) -> Result<Money, DomainError> {
        line_charge(self.unit_price, quantity, self.term, self.billing_cycle).ok_or_else(|| {
            DomainError::Internal(format!("subscription {} charge overflows", self.id))
        })
    }

    /// The record of its purchase: the first billing period's charge.
    pub fn purchase(&self) -> Result<SubscriptionTransaction, DomainError> {
        let (period_start, period_end) =
            billing_period(self.start_at, self.term, self.billing_cycle, self.start_at);
        Ok(SubscriptionTransaction {
            subscription_id: self.id,
            version: self.version,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind: TransactionKind::New,
            quantity_delta: self.quantity,
            quantity: self.quantity,
            period_start,
            period_end,
            amount: self.charge(self.quantity)?,
            created_at: self.start_at,
        })
    }

    /// The record of its cancellation at `now`: inside its window, the unused share of the
    /// billing period's charge comes back (a perpetual licence: all of it); after the window
    /// (an add-on ended with its base), nothing.
    pub fn cancellation(&self, now: DateTime<Utc>) -> Result<SubscriptionTransaction, DomainError> {
        let (period_start, period_end) =
            billing_period(self.start_at, self.term, self.billing_cycle, now);
        let charge = self.charge(self.quantity)?;
        let refund = match period_end {
            _ if now > self.cancel_deadline() => Money::zero(charge.currency),
            None => charge,
            Some(end) => unused_share(charge, period_start, end, now),
        };
        Ok(SubscriptionTransaction {
            subscription_id: self.id,
            version: self.version + 1,
            customer_id: self.customer_id,
            order_id: self.order_id,
            kind: TransactionKind::Cancel,
            quantity_delta: -self.quantity,
            quantity: 0,
            period_start: now.max(period_start),
            period_end,
            amount: Money::from_micros(refund.currency, -refund.micros),
            created_at: now,
        })
    }

    /// Whether it may be cancelled at `now` by a request that read it at `etag` (`None`: no
    /// condition on the version): still held, at its etag, inside its window.
    pub fn check_cancel(&self, etag: Option<&str>, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.check_changeable(etag, self.is_live())?;
        match self.window_closed(now) {
            Some(closed) => Err(DomainError::FailedPrecondition {
                message: format!(
                    "the cancellation window closed on {}",
                    self.cancel_deadline().to_rfc3339()
                ),
                violations: vec![closed],
            }),
            None => Ok(()),
        }
    }

    /// At the caller's `etag` (if any), and `changeable` in its status.
    fn check_changeable(&self, etag: Option<&str>, changeable: bool) -> Result<(), DomainError> {
        if let Some(etag) = etag
            && etag != self.etag()
        {
            return Err(DomainError::stale_etag(
                SubscriptionId::RESOURCE,
                Some(&self.etag()),
                Some(etag),
                "read it again",
            ));
        }
        if !changeable {
            return Err(DomainError::FailedPrecondition {
                message: format!("the subscription is {}", self.status),
                violations: vec![Precondition {
                    code: order_code::SUBSCRIPTION_NOT_ACTIVE.into(),
                    subject: format!("subscriptions/{}", self.id),
                    description: format!(
                        "this change needs an active subscription; this one is {}",
                        self.status
                    ),
                }],
            });
        }
        Ok(())
    }

    /// The violation of a cancellation at `now` past its window, saying until when it was open.
    pub fn window_closed(&self, now: DateTime<Utc>) -> Option<Precondition> {
        let deadline = self.cancel_deadline();
        (now > deadline).then(|| Precondition {
            code: order_code::CANCELLATION_WINDOW_CLOSED.into(),
            subject: format!("subscriptions/{}", self.id),
            description: format!(
                "cancellation was possible until {}; turn auto-renew off to end it at {}",
                deadline.to_rfc3339(),
                self.commitment_end_at
                    .map_or_else(|| "its term's end".to_owned(), |t| t.to_rfc3339())
            ),
        })
    }
}

/// One change on a subscription's record, as Partner Center's order history and
/// reconciliation show it: what it did, to which quantity, for which billing period, and the
/// prorated amount in the subscription's currency (negative: a refund).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionTransaction {
    pub subscription_id: SubscriptionId,
    /// The subscription's version this change made (1: its purchase).
    pub version: i64,
    pub customer_id: CustomerId,
    pub order_id: OrderId,
    pub kind: TransactionKind,
    pub quantity_delta: i32,
    /// The quantity after the change.
    pub quantity: i32,
    pub period_start: DateTime<Utc>,
    /// `None`: a perpetual licence.
    pub period_end: Option<DateTime<Utc>>,
    pub amount: Money,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn subscription(term: Term, cycle: BillingCycle, unit_micros: i64) -> Subscription {
        let usd = Currency::parse("c", "USD").unwrap();
        let start = at("2026-01-01T00:00:00Z");
        Subscription {
            id: SubscriptionId::new(),
            customer_id: CustomerId::new(),
            order_id: OrderId::new(),
            item: CatalogItemId::parse("i", "A:B:C").unwrap(),
            title: String::new(),
            quantity: 1,
            term,
            billing_cycle: cycle,
            status: SubscriptionStatus::Active,
            is_trial: false,
            start_at: start,
            commitment_end_at: term_end(term, start),
            auto_renew: true,
            parent: None,
            unit_price: Money::from_micros(usd, unit_micros),
            version: 1,
            next_term: None,
            expiry_reason: None,
        }
    }

    #[test]
    fn billing_periods_follow_the_cycle() {
        let start = at("2026-01-31T00:00:00Z");
        let (s, e) = billing_period(
            start,
            Term::P1Y,
            BillingCycle::Monthly,
            at("2026-03-05T00:00:00Z"),
        );
        assert_eq!(
            (s, e),
            (at("2026-02-28T00:00:00Z"), Some(at("2026-03-31T00:00:00Z")))
        );
        let (s, e) = billing_period(start, Term::P1Y, BillingCycle::Annual, start);
        assert_eq!((s, e), (start, Some(at("2027-01-31T00:00:00Z"))));
        assert_eq!(
            billing_period(start, Term::None, BillingCycle::OneTime, start),
            (start, None)
        );
    }

    #[test]
    fn a_yearly_line_billed_monthly_refunds_only_the_billed_month() {
        // 120.00 a year billed monthly: 10.00 billed; cancelled on day 3 of a 31-day month.
        let monthly = subscription(Term::P1Y, BillingCycle::Monthly, 120_000_000);
        let refund = monthly
            .cancellation(monthly.start_at + Duration::days(3))
            .unwrap();
        assert_eq!(refund.amount.micros, -(10_000_000_i64 * 28 / 31));
        assert_eq!((refund.quantity_delta, refund.version), (-1, 2));
        // Billed annually, the year was billed: 362/365 of it.
        let annual = subscription(Term::P1Y, BillingCycle::Annual, 120_000_000);
        let refund = annual
            .cancellation(annual.start_at + Duration::days(3))
            .unwrap();
        assert_eq!(refund.amount.micros, -(120_000_000_i64 * 362 / 365));
    }

    #[test]
    fn seats_are_added_for_the_rest_of_the_period_and_removed_only_inside_the_window() {
        // 120.00 a seat a year billed monthly: 10.00 a seat a month; day 6 of 31.
        let sub = subscription(Term::P1Y, BillingCycle::Monthly, 120_000_000);
        let day_6 = sub.start_at + Duration::days(6);
        let up = sub.change_quantity(Some("v1"), 4, day_6).unwrap();
        assert_eq!(
            (up.kind, up.quantity_delta, up.quantity),
            (TransactionKind::AddQuantity, 3, 4)
        );
        assert_eq!(up.amount.micros, 30_000_000 * 25 / 31);
        let mut bigger = sub.clone();
        bigger.quantity = 4;
        let down = bigger.change_quantity(None, 2, day_6).unwrap();
        assert_eq!(down.amount.micros, -(20_000_000 * 25 / 31));
        let Err(DomainError::FailedPrecondition {
            message,
            violations,
        }) = bigger.change_quantity(None, 2, sub.start_at + Duration::days(8))
        else {
            panic!("seats removed after the window");
        };
        assert_eq!(violations[0].code, "QUANTITY_DECREASE_WINDOW_CLOSED");
        assert!(
            message.contains("until 2026-01-08T00:00:00+00:00"),
            "{message}"
        );
        assert!(
            message.contains("scheduled for the renewal on 2027-01-01"),
            "{message}"
        );
        assert!(matches!(
            sub.change_quantity(None, 1, day_6),
            Err(DomainError::InvalidArgument(_))
        ));
        let suspended = Subscription {
            status: SubscriptionStatus::Suspended,
            ..sub
        };
        assert!(suspended.change_quantity(None, 2, day_6).is_err());
    }

    #[test]
    fn windows_are_per_line_and_perpetual_licences_come_back_whole() {
        let perpetual = subscription(Term::None, BillingCycle::OneTime, 50_000_000);
        let day_20 = perpetual.start_at + Duration::days(20);
        assert!(perpetual.check_cancel(None, day_20).is_ok());
        assert_eq!(
            perpetual.cancellation(day_20).unwrap().amount.micros,
            -50_000_000
        );
        let license = subscription(Term::P1M, BillingCycle::Monthly, 10_000_000);
        let day_8 = license.start_at + Duration::days(8);
        let Err(DomainError::FailedPrecondition { violations, .. }) =
            license.check_cancel(None, day_8)
        else {
            panic!("cancelled after its window");
        };
        assert_eq!(violations[0].code, "CANCELLATION_WINDOW_CLOSED");
        assert!(violations[0].description.contains("2026-01-08T00:00:00"));
        // An add-on ended with its base after its own window: nothing back.
        assert_eq!(license.cancellation(day_8).unwrap().amount.micros, 0);
        assert!(
            license
                .check_cancel(Some("v9"), license.start_at)
                .unwrap_err()
                .is_stale_etag()
        );
    }
}
