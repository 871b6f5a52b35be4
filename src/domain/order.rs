//! Orders: what checkout creates (`Order::plan`), and their cancellation (`Order::cancel`,
//! each line inside its own window). Subscriptions and their record: `subscription.rs`.

use chrono::{DateTime, Utc};

use super::DomainError;
use super::cart::{Cart, Review};
use super::catalog::{BillingCycle, Catalog, Term};
use super::error::Precondition;
use super::ids::{CartId, CatalogItemId, CustomerId, OrderId, ProductId, SubscriptionId};
use super::money::Money;
pub use super::subscription::{
    Conversion, ExpiryReason, LICENSE_CANCEL_WINDOW, NextTerm, NextTermRequest,
    PERPETUAL_CANCEL_WINDOW, Subscription, SubscriptionStatus, SubscriptionTransaction, TermEnd,
    TransactionKind, check_conversion_target, term_end,
};

/// Why a checkout or a cancellation is refused (PreconditionFailure). Stable, like the
/// eligibility codes.
pub mod order_code {
    pub const MIXED_CURRENCIES: &str = "MIXED_CURRENCIES";
    pub const ORDER_ALREADY_CANCELLED: &str = "ORDER_ALREADY_CANCELLED";
    pub const CANCELLATION_WINDOW_CLOSED: &str = "CANCELLATION_WINDOW_CLOSED";
    pub const SUBSCRIPTION_NOT_ACTIVE: &str = "SUBSCRIPTION_NOT_ACTIVE";
    pub const QUANTITY_DECREASE_WINDOW_CLOSED: &str = "QUANTITY_DECREASE_WINDOW_CLOSED";
    pub const SUSPENSION_NOT_ALLOWED: &str = "SUSPENSION_NOT_ALLOWED";
    pub const SUBSCRIPTION_NOT_SUSPENDED: &str = "SUBSCRIPTION_NOT_SUSPENDED";
    pub const AUTO_RENEW_NOT_ALLOWED: &str = "AUTO_RENEW_NOT_ALLOWED";
    pub const NEXT_TERM_NOT_AVAILABLE: &str = "NEXT_TERM_NOT_AVAILABLE";
    pub const NEXT_TERM_NOT_ALLOWED: &str = "NEXT_TERM_NOT_ALLOWED";
    pub const NO_CURRENT_MONTH: &str = "NO_CURRENT_MONTH";
    pub const NOT_A_TRIAL: &str = "NOT_A_TRIAL";
    pub const CONVERSION_TARGET_NOT_ALLOWED: &str = "CONVERSION_TARGET_NOT_ALLOWED";

    /// Every code above (the wire's ProblemCode has each).
    pub const ALL: &[&str] = &[
        MIXED_CURRENCIES,
        ORDER_ALREADY_CANCELLED,
        CANCELLATION_WINDOW_CLOSED,
        SUBSCRIPTION_NOT_ACTIVE,
        QUANTITY_DECREASE_WINDOW_CLOSED,
        SUSPENSION_NOT_ALLOWED,
        SUBSCRIPTION_NOT_SUSPENDED,
        AUTO_RENEW_NOT_ALLOWED,
        NEXT_TERM_NOT_AVAILABLE,
        NEXT_TERM_NOT_ALLOWED,
        NO_CURRENT_MONTH,
        NOT_A_TRIAL,
        CONVERSION_TARGET_NOT_ALLOWED,
    ];
}

/// Currencies per order: every line of an order is priced in the same one.
pub const MAX_ORDER_CURRENCIES: usize = 1;

text_enum!(OrderStatus {
    Pending = "pending",
    Completed = "completed",
    Cancelled = "cancelled",
    Failed = "failed",
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
    /// The record of its subscriptions (their purchase, then every change), oldest first.
    pub transactions: Vec<SubscriptionTransaction>,
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
                unit_price,
                version: 1,
                next_term: None,
                expiry_reason: None,
            });
        }
        let total = total.ok_or_else(|| DomainError::FailedPrecondition {
            message: "the cart has no lines".into(),
            violations: Vec::new(),
        })?;
        let transactions = subscriptions
            .iter()
            .map(Subscription::purchase)
            .collect::<Result<_, _>>()?;
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
                transactions,
            },
            subscriptions,
        ))
    }

    /// Whether the order may be cancelled at `now` by a request that read it at `etag`
    /// (`None`: no condition on the version), and what it writes: not cancelled already, every
    /// line still held inside its own window (license-based 7 days, perpetual software 30),
    /// `held` being its subscriptions and the add-ons on them as read now. Answers the
    /// refund of its own lines and the cancellation of every subscription still held (add-ons
    /// of other orders end with their base too).
    pub fn cancel(
        &self,
        etag: Option<&str>,
        now: DateTime<Utc>,
        held: &[Subscription],
    ) -> Result<(Money, Vec<SubscriptionTransaction>), DomainError> {
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
        let live: Vec<&Subscription> = held.iter().filter(|s| s.is_live()).collect();
        let closed: Vec<(DateTime<Utc>, Precondition)> = live
            .iter()
            .filter(|s| self.owns(s.id))
            .filter_map(|s| Some((s.cancel_deadline(), s.window_closed(now)?)))
            .collect();
        if let Some(first) = closed.iter().map(|(deadline, _)| *deadline).min() {
            let open = live.iter().filter(|s| self.owns(s.id)).count() - closed.len();
            let rest = if open > 0 {
                format!(
                    "; {open} of its lines can still be cancelled one by one (CancelSubscription)"
                )
            } else {
                String::new()
            };
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the cancellation window closed on {}{rest}",
                    first.to_rfc3339()
                ),
                violations: closed.into_iter().map(|(_, v)| v).collect(),
            });
        }
        let transactions = live
            .iter()
            .map(|s| s.cancellation(now))
            .collect::<Result<Vec<_>, _>>()?;
        let mut refund = Money::zero(self.total.currency);
        for t in transactions.iter().filter(|t| self.owns(t.subscription_id)) {
            refund = refund
                .checked_add(Money::from_micros(t.amount.currency, -t.amount.micros))
                .ok_or_else(|| DomainError::Internal("a refund overflows".into()))?;
        }
        Ok((refund, transactions))
    }

    /// Whether subscription `id` is one of its lines'.
    pub fn owns(&self, id: SubscriptionId) -> bool {
        self.lines.iter().any(|l| l.subscription_id == id)
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
mod tests;
