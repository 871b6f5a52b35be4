//! Orders and subscriptions: what checkout creates (`Order::plan`), and the cancellation
//! window (`Order::cancel`).

use chrono::{DateTime, Duration, Months, Utc};

use super::DomainError;
use super::cart::{Cart, Review};
use super::catalog::{BillingCycle, Catalog, Term};
use super::error::Precondition;
use super::ids::{CartId, CatalogItemId, CustomerId, OrderId, ProductId, SubscriptionId};
use super::money::Money;

/// Why a checkout or a cancellation is refused (PreconditionFailure). Stable, like the
/// eligibility codes.
pub mod order_code {
    pub const MIXED_CURRENCIES: &str = "MIXED_CURRENCIES";
    pub const ORDER_ALREADY_CANCELLED: &str = "ORDER_ALREADY_CANCELLED";
    pub const CANCELLATION_WINDOW_CLOSED: &str = "CANCELLATION_WINDOW_CLOSED";

    /// Every code above (the wire's ProblemCode has each).
    pub const ALL: &[&str] = &[
        MIXED_CURRENCIES,
        ORDER_ALREADY_CANCELLED,
        CANCELLATION_WINDOW_CLOSED,
    ];
}

/// License-based subscriptions can be cancelled this long after purchase.
pub const LICENSE_CANCEL_WINDOW: Duration = Duration::days(7);
/// Perpetual software can be returned this long after purchase.
pub const PERPETUAL_CANCEL_WINDOW: Duration = Duration::days(30);

/// Currencies per order: every line of an order is priced in the same one.
pub const MAX_ORDER_CURRENCIES: usize = 1;

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
    pub id: OrderId,
    pub order_number: String,
    pub customer_id: CustomerId,
    pub cart_id: CartId,
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

    /// The order `cart` becomes at `now`, and one subscription per line, at the prices of
    /// `review` (the cart's review as of now, on what its customer holds). Refused unless the
    /// review is clean and every line is priced in one currency. Add-ons whose base is a line
    /// of the same cart hang on that line's new subscription.
    pub fn plan(
        catalog: &Catalog,
        cart: &Cart,
        review: &Review,
        now: DateTime<Utc>,
    ) -> Result<(Order, Vec<Subscription>), DomainError> {
        review.check_clean(cart.customer_id)?;
        if review.totals.len() > MAX_ORDER_CURRENCIES {
            return Err(mixed_currencies(cart.id));
        }
        let id = OrderId::new();
        let mut lines = Vec::with_capacity(review.lines.len());
        let mut subscriptions: Vec<Subscription> = Vec::with_capacity(review.lines.len());
        let new_subscription_of: Vec<(&CatalogItemId, SubscriptionId)> = review
            .lines
            .iter()
            .map(|reviewed| (&reviewed.line.input.item, SubscriptionId::new()))
            .collect();
        let mut total: Option<Money> = None;
        for (index, reviewed) in review.lines.iter().enumerate() {
            let input = &reviewed.line.input;
            let (Some(unit_price), Some(extended_price)) =
                (reviewed.unit_price, reviewed.extended_price)
            else {
                return Err(DomainError::Internal(
                    "a clean review has a line without a price".into(),
                ));
            };
            total = Some(match total {
                None => extended_price,
                Some(t) => t
                    .checked_add(extended_price)
                    .ok_or_else(|| mixed_currencies(cart.id))?,
            });
            let item = catalog.item(&input.item).ok_or_else(|| {
                DomainError::Internal("a clean review has an unknown item".into())
            })?;
            let sku = item.sku.sku;
            let subscription_id = new_subscription_of[index].1;
            let parent = input.provisioning.parent_subscription.or_else(|| {
                sku.is_addon()
                    .then(|| {
                        new_subscription_of.iter().find(|(base, _)| {
                            sku.prerequisites
                                .iter()
                                .any(|(p, s)| *p == base.product && *s == base.sku)
                        })
                    })
                    .flatten()
                    .map(|(_, id)| *id)
            });
            lines.push(OrderLine {
                line_number: index as i32 + 1,
                item: input.item.clone(),
                product_title: reviewed.product_title.clone(),
                sku_title: reviewed.sku_title.clone(),
                quantity: input.quantity,
                term: input.term,
                billing_cycle: input.billing_cycle,
                unit_price,
                extended_price,
                subscription_id,
            });
            subscriptions.push(Subscription {
                id: subscription_id,
                customer_id: cart.customer_id,
                order_id: id,
                item: input.item.clone(),
                title: reviewed.sku_title.clone(),
                quantity: input.quantity,
                term: input.term,
                billing_cycle: input.billing_cycle,
                status: SubscriptionStatus::Active,
                is_trial: sku.is_trial,
                start_at: now,
                commitment_end_at: term_end(input.term, now),
                auto_renew: !sku.is_trial && input.term != Term::None,
                parent,
                version: 1,
            });
        }
        let total = total.ok_or_else(|| DomainError::FailedPrecondition {
            message: "the cart has no lines".into(),
            violations: Vec::new(),
        })?;
        let random = uuid::Uuid::new_v4().as_u64_pair().0;
        Ok((
            Order {
                id,
                order_number: order_number(random),
                customer_id: cart.customer_id,
                cart_id: cart.id,
                status: OrderStatus::Pending,
                lines,
                total,
                created_at: now,
                cancelled_at: None,
                refund: None,
                version: 1,
            },
            subscriptions,
        ))
    }

    /// Whether the order may be cancelled at `now` by a request that read it at `etag`
    /// (`None`: no condition on the version), and the refund it earns: not cancelled
    /// already, inside its window (`cancel_deadline`), refunded pro rata (`refund_at`).
    pub fn cancel(&self, etag: Option<&str>, now: DateTime<Utc>) -> Result<Money, DomainError> {
        if let Some(etag) = etag
            && etag != self.etag()
        {
            return Err(DomainError::stale_etag(
                OrderId::RESOURCE,
                Some(&self.etag()),
                Some(etag),
                "read it again",
            ));
        }
        if self.status == OrderStatus::Cancelled {
            return Err(DomainError::FailedPrecondition {
                message: "the order is already cancelled".into(),
                violations: vec![Precondition {
                    code: order_code::ORDER_ALREADY_CANCELLED.into(),
                    subject: format!("orders/{}", self.id),
                    description: "an order is cancelled once".into(),
                }],
            });
        }
        let deadline = self.cancel_deadline();
        if now > deadline {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the cancellation window closed on {}",
                    deadline.to_rfc3339()
                ),
                violations: vec![Precondition {
                    code: order_code::CANCELLATION_WINDOW_CLOSED.into(),
                    subject: format!("orders/{}", self.id),
                    description: format!(
                        "cancellation was possible until {}",
                        deadline.to_rfc3339()
                    ),
                }],
            });
        }
        Ok(self.refund_at(now))
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

fn mixed_currencies(cart: CartId) -> DomainError {
    DomainError::FailedPrecondition {
        message: "the cart mixes currencies or its total overflows".into(),
        violations: vec![Precondition {
            code: order_code::MIXED_CURRENCIES.into(),
            subject: format!("carts/{cart}"),
            description: "every line of an order is priced in one currency".into(),
        }],
    }
}

/// Which of a customer's orders a listing shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// Which of a customer's subscriptions a listing shows.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub status: Option<SubscriptionStatus>,
    pub product: Option<ProductId>,
    pub parent: Option<SubscriptionId>,
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
    pub order_id: OrderId,
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
            id: OrderId::new(),
            order_number: order_number(42),
            customer_id: CustomerId::new(),
            cart_id: CartId::new(),
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
    fn a_clean_review_plans_an_order_with_a_subscription_per_line() {
        use crate::domain::cart::fixtures::{cart_of, catalog_priced_at, review_e3, test_now};
        let catalog = catalog_priced_at(1_000_000);
        let review = review_e3(&catalog, &[3]);
        assert!(review.is_clean(), "{review:?}");
        let cart = cart_of(&review);
        let (order, subscriptions) = Order::plan(&catalog, &cart, &review, test_now()).unwrap();
        assert_eq!(
            (order.cart_id, order.status),
            (cart.id, OrderStatus::Pending)
        );
        assert_eq!(order.total.micros, 3_000_000);
        assert_eq!(subscriptions.len(), 1);
        assert_eq!(subscriptions[0].order_id, order.id);
        assert_eq!(order.lines[0].subscription_id, subscriptions[0].id);
        assert_eq!(
            subscriptions[0].commitment_end_at,
            term_end(Term::P1Y, test_now())
        );
    }

    #[test]
    fn an_order_is_priced_in_one_currency_and_planned_only_from_a_clean_review() {
        use crate::domain::cart::fixtures::{cart_of, catalog_priced_at, review_e3, test_now};
        use crate::domain::money::Currency;
        let catalog = catalog_priced_at(1_000_000);
        let mut review = review_e3(&catalog, &[1]);
        let cart = cart_of(&review);
        let eur = Money::from_micros(Currency::parse("c", "EUR").unwrap(), 1);
        review.totals.push(eur);
        let Err(DomainError::FailedPrecondition { violations, .. }) =
            Order::plan(&catalog, &cart, &review, test_now())
        else {
            panic!("two currencies were planned");
        };
        assert_eq!(violations[0].code, "MIXED_CURRENCIES");

        let review = review_e3(&catalog, &[1, 1]);
        let Err(DomainError::FailedPrecondition { violations, .. }) =
            Order::plan(&catalog, &cart_of(&review), &review, test_now())
        else {
            panic!("a cart with problems was planned");
        };
        assert!(
            violations.iter().any(|v| v.code == "DUPLICATE_SKU_IN_CART"),
            "{violations:?}"
        );
    }

    #[test]
    fn an_order_is_cancelled_once_inside_its_window_at_its_etag() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let yearly = order(Term::P1Y, start);
        assert_eq!(
            yearly.cancel(Some("v1"), start).unwrap().micros,
            120_000_000
        );
        assert!(
            yearly
                .cancel(Some("v2"), start)
                .unwrap_err()
                .is_stale_etag()
        );
        let code = |error: DomainError| match error {
            DomainError::FailedPrecondition { violations, .. } => violations[0].code.clone(),
            other => panic!("{other:?}"),
        };
        let late = yearly.cancel(None, start + Duration::days(8)).unwrap_err();
        assert_eq!(code(late), "CANCELLATION_WINDOW_CLOSED");
        let cancelled = Order {
            status: OrderStatus::Cancelled,
            ..yearly
        };
        assert_eq!(
            code(cancelled.cancel(None, start).unwrap_err()),
            "ORDER_ALREADY_CANCELLED"
        );
    }

    #[test]
    fn order_numbers_are_short_and_distinct() {
        assert_eq!(order_number(0), "ORD-00000000");
        assert_ne!(order_number(1), order_number(2));
        assert_eq!(order_number(u64::MAX).len(), 12);
    }
}
