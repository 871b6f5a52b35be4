//! Carts: whether one may be written (`Cart::writable`, `check_change`, `deletable`), and
//! their review (`review.rs`): prices, every rule per line, cart-level rules, totals.

use chrono::{DateTime, Duration, Utc};

use super::DomainError;
use super::catalog::{BillingCycle, Catalog, Term};
use super::error::{FieldViolation, Precondition, Violations};
use super::ids::{CartId, CatalogItemId, CustomerId, OrderId, SubscriptionId};

#[cfg(test)]
pub(super) mod fixtures;
mod review;

pub use review::{ParentSubscription, Parents, Review, ReviewedLine, review};

/// A cart may be changed and checked out for this long after its creation.
pub const CART_LIFETIME: Duration = Duration::days(7);

/// Lines per cart.
pub const MAX_LINES: usize = 50;

pub mod cart_code {
    pub const DUPLICATE_SKU_IN_CART: &str = "DUPLICATE_SKU_IN_CART";
    pub const PROVISIONING_CONTEXT_MISSING: &str = "PROVISIONING_CONTEXT_MISSING";
    pub const ADDON_PARENT_INVALID: &str = "ADDON_PARENT_INVALID";
    pub const PARENT_ON_NON_ADDON: &str = "PARENT_ON_NON_ADDON";
    pub const CART_EMPTY: &str = "CART_EMPTY";
    /// A line's price or a currency's total does not fit an amount: never a wrong total.
    pub const TOTAL_OUT_OF_RANGE: &str = "TOTAL_OUT_OF_RANGE";
    /// Refusals of a write or a checkout (PreconditionFailure), not review problems.
    pub const CART_ORDERED: &str = "CART_ORDERED";
    pub const CART_EXPIRED: &str = "CART_EXPIRED";

    /// Every code above (the wire's ProblemCode has each).
    pub const ALL: &[&str] = &[
        DUPLICATE_SKU_IN_CART,
        PROVISIONING_CONTEXT_MISSING,
        ADDON_PARENT_INVALID,
        PARENT_ON_NON_ADDON,
        CART_EMPTY,
        TOTAL_OUT_OF_RANGE,
        CART_ORDERED,
        CART_EXPIRED,
    ];
}

text_enum!(CartStatus {
    Active = "active",
    Ordered = "ordered",
});

text_enum!(
    /// Reservation scope.
    Scope {
        Single = "single",
        Shared = "shared",
    }
);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProvisioningContext {
    pub parent_subscription: Option<SubscriptionId>,
    pub scope: Option<Scope>,
    pub azure_subscription_id: Option<uuid::Uuid>,
}

/// What a caller asks a line to be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineInput {
    pub item: CatalogItemId,
    pub quantity: i32,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub provisioning: ProvisioningContext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub id: uuid::Uuid,
    pub input: LineInput,
}

/// A change to a cart's lines.
#[derive(Debug, Clone)]
pub enum LineChange {
    Add(CartLine),
    Update(CartLine),
    Remove(uuid::Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    pub id: CartId,
    pub customer_id: CustomerId,
    pub status: CartStatus,
    pub lines: Vec<CartLine>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub version: i64,
    pub order_id: Option<OrderId>,
}

impl Cart {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }

    /// The version an etag names (`None` for anything `etag()` does not make).
    pub fn version_in_etag(etag: &str) -> Option<i64> {
        etag.strip_prefix('v')?.parse().ok()
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == CartStatus::Active && now >= self.expires_at
    }

    /// Whether the cart may still be written (a line change, a checkout) at `now` by a request
    /// that read it at `etag` (`None`: no condition on the version): not ordered, not expired,
    /// not changed since. The store's claim of a cart (`carts::claim_statement`) asks the same
    /// of the stored row, so a cart that moves on after this judgement is still refused.
    pub fn writable(&self, etag: Option<&str>, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status == CartStatus::Ordered {
            return Err(DomainError::FailedPrecondition {
                message: "the cart was checked out and can no longer change".into(),
                violations: vec![Precondition {
                    code: cart_code::CART_ORDERED.into(),
                    subject: format!("carts/{}", self.id),
                    description: "an ordered cart is read-only".into(),
                }],
            });
        }
        if self.is_expired(now) {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the cart expired at {}; create a new one",
                    self.expires_at.to_rfc3339()
                ),
                violations: vec![Precondition {
                    code: cart_code::CART_EXPIRED.into(),
                    subject: format!("carts/{}", self.id),
                    description: format!(
                        "carts expire {} days after creation",
                        CART_LIFETIME.num_days()
                    ),
                }],
            });
        }
        self.at_etag(etag)
    }

    /// Whether a write planned on this cart at `planned_version`, and refused, may be planned
    /// again now that the cart is `self` (not ordered): not if it expired or moved on.
    pub fn still_at(&self, planned_version: i64, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.is_expired(now) {
            return Err(DomainError::FailedPrecondition {
                message: format!("the cart expired at {}", self.expires_at.to_rfc3339()),
                violations: Vec::new(),
            });
        }
        if self.version != planned_version || self.status != CartStatus::Active {
            return Err(DomainError::stale_etag(
                CartId::RESOURCE,
                Some(&self.etag()),
                None,
                "review it again before checking out",
            ));
        }
        Ok(())
    }

    /// Whether the cart may be deleted by a request that read it at `etag`: an expired cart
    /// may, an ordered one is kept with its order.
    pub fn deletable(&self, etag: Option<&str>) -> Result<(), DomainError> {
        if self.status == CartStatus::Ordered {
            return Err(DomainError::FailedPrecondition {
                message: "an ordered cart is kept with its order and cannot be deleted".into(),
                violations: Vec::new(),
            });
        }
        self.at_etag(etag)
    }

    /// Whether `change` may be made at `now` by a request that read the cart at `etag`: the
    /// cart is writable, a new or changed line names an item of `catalog` (one that leaves the
    /// catalog later shows up as a line problem instead), the cart has room for a new line,
    /// and a changed or removed line is on the cart.
    pub fn check_change(
        &self,
        change: &LineChange,
        etag: Option<&str>,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.writable(etag, now)?;
        if let LineChange::Add(line) | LineChange::Update(line) = change {
            check_items(catalog, "line.catalog_item_id", [&line.input])?;
        }
        match change {
            LineChange::Add(_) if self.lines.len() >= MAX_LINES => Err(too_many_lines("line")),
            LineChange::Update(line) if !self.has_line(line.id) => {
                Err(DomainError::not_found("cart line", line.id.to_string()))
            }
            LineChange::Remove(id) if !self.has_line(*id) => {
                Err(DomainError::not_found("cart line", id.to_string()))
            }
            _ => Ok(()),
        }
    }

    fn has_line(&self, id: uuid::Uuid) -> bool {
        self.lines.iter().any(|l| l.id == id)
    }

    /// A stale `etag` is refused; `None` sets no condition.
    fn at_etag(&self, etag: Option<&str>) -> Result<(), DomainError> {
        match etag {
            Some(etag) if etag != self.etag() => Err(DomainError::stale_etag(
                CartId::RESOURCE,
                Some(&self.etag()),
                Some(etag),
                "read it again",
            )),
            _ => Ok(()),
        }
    }
}

/// Whether a new cart may start with `lines`: at most `MAX_LINES`, each an item of `catalog`.
pub fn check_new_lines(catalog: &Catalog, lines: &[LineInput]) -> Result<(), DomainError> {
    if lines.len() > MAX_LINES {
        return Err(too_many_lines("lines"));
    }
    check_items(catalog, "lines[{i}].catalog_item_id", lines)
}

fn too_many_lines(field: &str) -> DomainError {
    DomainError::invalid(
        field,
        "TOO_MANY",
        format!("a cart holds at most {MAX_LINES} lines"),
    )
}

/// Every line of `lines` names an item of `catalog`; `field` names the i-th (`{i}`).
fn check_items<'a>(
    catalog: &Catalog,
    field: &str,
    lines: impl IntoIterator<Item = &'a LineInput>,
) -> Result<(), DomainError> {
    let mut violations = Violations::new();
    for (i, line) in lines.into_iter().enumerate() {
        if catalog.item(&line.item).is_none() {
            violations.push(FieldViolation::new(
                field.replace("{i}", &i.to_string()),
                "UNKNOWN_CATALOG_ITEM",
                format!("{} is not an item of the current catalog", line.item),
            ));
        }
    }
    violations.into_result()
}

#[cfg(test)]
mod tests {
    use super::fixtures::{cart_of, catalog_priced_at, review_e3, test_now};
    use super::*;

    fn precondition(error: DomainError) -> String {
        match error {
            DomainError::FailedPrecondition { violations, .. } => violations
                .first()
                .map_or("no violation".into(), |v| v.code.clone()),
            other => panic!("not a failed precondition: {other:?}"),
        }
    }

    #[test]
    fn a_cart_is_writable_while_active_unexpired_and_at_the_etag_sent() {
        let cart = cart_of(&review_e3(&catalog_priced_at(1_000_000), &[1]));
        let now = test_now();
        assert!(cart.writable(Some("v1"), now).is_ok());
        assert!(cart.writable(None, now).is_ok());
        let stale = cart.writable(Some("v0"), now).unwrap_err();
        assert!(stale.is_stale_etag(), "{stale:?}");

        let expired = cart.writable(Some("v1"), cart.expires_at).unwrap_err();
        assert_eq!(precondition(expired), "CART_EXPIRED");
        // An expired cart may still be deleted, an ordered one not.
        assert!(cart.deletable(Some("v1")).is_ok());
        assert!(cart.deletable(Some("v0")).unwrap_err().is_stale_etag());
        let ordered = Cart {
            status: CartStatus::Ordered,
            order_id: Some(OrderId::new()),
            ..cart
        };
        assert_eq!(
            precondition(ordered.writable(Some("v1"), now).unwrap_err()),
            "CART_ORDERED"
        );
        assert!(matches!(
            ordered.deletable(None),
            Err(DomainError::FailedPrecondition { .. })
        ));
    }

    #[test]
    fn a_change_needs_a_known_item_room_for_a_new_line_and_an_existing_line() {
        let catalog = catalog_priced_at(1_000_000);
        let cart = cart_of(&review_e3(&catalog, &[1]));
        let now = test_now();
        let line = cart.lines[0].clone();
        let add = LineChange::Add(CartLine {
            id: uuid::Uuid::now_v7(),
            input: line.input.clone(),
        });
        assert!(cart.check_change(&add, None, &catalog, now).is_ok());
        let full = Cart {
            lines: vec![line.clone(); MAX_LINES],
            ..cart.clone()
        };
        let Err(DomainError::InvalidArgument(violations)) =
            full.check_change(&add, None, &catalog, now)
        else {
            panic!("a full cart took a line");
        };
        assert_eq!(violations[0].reason, "TOO_MANY");

        let unknown = LineChange::Update(CartLine {
            id: line.id,
            input: LineInput {
                item: CatalogItemId::parse("item", "NOPE:0001:X").unwrap(),
                ..line.input.clone()
            },
        });
        let Err(DomainError::InvalidArgument(violations)) =
            cart.check_change(&unknown, None, &catalog, now)
        else {
            panic!("an unknown item was taken");
        };
        assert_eq!(violations[0].reason, "UNKNOWN_CATALOG_ITEM");
        let gone = LineChange::Remove(uuid::Uuid::now_v7());
        assert!(matches!(
            cart.check_change(&gone, None, &catalog, now),
            Err(DomainError::NotFound { .. })
        ));
        // A new cart is held to the same limit.
        let inputs = vec![line.input; MAX_LINES + 1];
        assert!(check_new_lines(&catalog, &inputs[..MAX_LINES]).is_ok());
        assert!(check_new_lines(&catalog, &inputs).is_err());
    }
}
