//! Orders and subscriptions: what checkout creates, and the cancellation window.

use chrono::{DateTime, Duration, Months, Utc};

use super::catalog::{BillingCycle, Term};
use super::ids::{CatalogItemId, CustomerId, SubscriptionId};
use super::money::Money;

/// License-based subscriptions can be cancelled this long after purchase.
pub const LICENSE_CANCEL_WINDOW: Duration = Duration::days(7);
/// Perpetual software can be returned this long after purchase.
pub const PERPETUAL_CANCEL_WINDOW: Duration = Duration::days(30);

text_enum!(OrderStatus {
    Pending = "pending",
    Completed = "completed",
    Cancelled = "cancelled",
    Failed = "failed",
});

text_enum!(SubscriptionStatus {
    Active = "active",
    Suspended = "suspended",
    Cancelled = "cancelled",
    Expired = "expired",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub line_number: i32,
    pub item: CatalogItemId,
    pub product_title: String,
    pub sku_title: String,
    pub quantity: i32,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub unit_price: Money,
    pub extended_price: Money,
    pub subscription_id: SubscriptionId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: uuid::Uuid,
    pub order_number: String,
    pub customer_id: CustomerId,
    pub cart_id: uuid::Uuid,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub refund: Option<Money>,
    pub version: i64,
}

impl Order {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }

    /// Until when the order may be cancelled: the shortest window of its lines.
    pub fn cancel_deadline(&self) -> DateTime<Utc> {
        let window = if self.lines.iter().all(|l| l.term == Term::None) {
            PERPETUAL_CANCEL_WINDOW
        } else {
            LICENSE_CANCEL_WINDOW
        };
        self.created_at + window
    }

    /// The pro-rata refund at `now`: a term's price less the share of the term used; perpetual
    /// licences are refunded whole inside their window.
    pub fn refund_at(&self, now: DateTime<Utc>) -> Money {
        let used = (now - self.created_at).num_seconds().max(0);
        let mut refund = Money::zero(self.total.currency);
        for line in &self.lines {
            let amount = match term_end(line.term, self.created_at) {
                None => line.extended_price,
                Some(end) => {
                    let length = (end - self.created_at).num_seconds().max(1);
                    let unused = (length - used).max(0);
                    // Integer arithmetic in i128: exact, rounded down to the micro-unit.
                    let micros = i128::from(line.extended_price.micros) * i128::from(unused)
                        / i128::from(length);
                    Money::from_micros(
                        line.extended_price.currency,
                        i64::try_from(micros).unwrap_or(0),
                    )
                }
            };
            refund = refund.checked_add(amount).unwrap_or(refund);
        }
        refund
    }
}

/// The commitment end of a term started at `start`; `None` for perpetual.
pub fn term_end(term: Term, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match term {
        Term::P1M => start.checked_add_months(Months::new(1)),
        Term::P1Y => start.checked_add_months(Months::new(12)),
        Term::P3Y => start.checked_add_months(Months::new(36)),
        Term::None => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub customer_id: CustomerId,
    pub order_id: uuid::Uuid,
    pub item: CatalogItemId,
    pub title: String,
    pub quantity: i32,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub status: SubscriptionStatus,
    pub is_trial: bool,
    pub start_at: DateTime<Utc>,
    pub commitment_end_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub parent: Option<SubscriptionId>,
    pub version: i64,
}

impl Subscription {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }
}

/// A short human order number, e.g. `ORD-7K3M9QX2`, from a random value.
pub fn order_number(random: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut n = random;
    let mut out = String::from("ORD-");
    for _ in 0..8 {
        out.push(char::from(ALPHABET[(n % 32) as usize]));
        n /= 32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn order(term: Term, created_at: DateTime<Utc>) -> Order {
        let usd = Currency::parse("c", "USD").unwrap();
        let price = Money::from_micros(usd, 120_000_000);
        Order {
            id: uuid::Uuid::nil(),
            order_number: order_number(42),
            customer_id: CustomerId::new(),
            cart_id: uuid::Uuid::nil(),
            status: OrderStatus::Completed,
            lines: vec![OrderLine {
                line_number: 1,
                item: CatalogItemId::parse("i", "A:B:C").unwrap(),
                product_title: String::new(),
                sku_title: String::new(),
                quantity: 1,
                term,
                billing_cycle: BillingCycle::Annual,
                unit_price: price,
                extended_price: price,
                subscription_id: SubscriptionId::new(),
            }],
            total: price,
            created_at,
            cancelled_at: None,
            refund: None,
            version: 1,
        }
    }

    #[test]
    fn refunds_are_pro_rata_and_windows_depend_on_the_term() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let yearly = order(Term::P1Y, start);
        assert_eq!(yearly.refund_at(start).micros, 120_000_000);
        let after_73_days = yearly.refund_at(start + Duration::days(73));
        assert_eq!(
            after_73_days.micros, 96_000_000,
            "365 days, 73 used: 4/5 back"
        );
        assert_eq!(yearly.cancel_deadline(), start + Duration::days(7));
        let perpetual = order(Term::None, start);
        assert_eq!(perpetual.cancel_deadline(), start + Duration::days(30));
        assert_eq!(
            perpetual.refund_at(start + Duration::days(20)).micros,
            120_000_000
        );
    }

    #[test]
    fn order_numbers_are_short_and_distinct() {
        assert_eq!(order_number(0), "ORD-00000000");
        assert_ne!(order_number(1), order_number(2));
        assert_eq!(order_number(u64::MAX).len(), 12);
    }
}
