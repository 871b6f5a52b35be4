//! Carts: whether one may be written (`Cart::writable`), and their review: prices, every rule
//! per line, cart-level rules, totals.

use chrono::{DateTime, Duration, Utc};

use super::DomainError;
use super::catalog::{BillingCycle, Catalog, Term};
use super::eligibility::{self, Buyer, Intent, Problem, code};
use super::error::{FieldViolation, Precondition, Violations};
use super::ids::{CartId, CatalogItemId, CustomerId, OrderId, ProductId, SkuId, SubscriptionId};
use super::money::{Currency, Money};

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
                    code: "CART_ORDERED".into(),
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
                    code: "CART_EXPIRED".into(),
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

/// The customer's subscriptions an add-on line may name as its parent: a persistent vector,
/// so what a customer holds is brought forward after an order without copying it.
pub type Parents = imbl::Vector<ParentSubscription>;

/// An active subscription of the customer that an add-on line names as its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentSubscription {
    pub id: SubscriptionId,
    pub product_id: ProductId,
    pub sku_id: SkuId,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedLine {
    pub line: CartLine,
    pub product_title: String,
    pub sku_title: String,
    pub unit_price: Option<Money>,
    pub extended_price: Option<Money>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub lines: Vec<ReviewedLine>,
    /// Problems of the cart as a whole (agreement, role, emptiness).
    pub problems: Vec<Problem>,
    /// One total per currency, in first-seen order.
    pub totals: Vec<Money>,
}

impl Review {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.lines.iter().all(|l| l.problems.is_empty())
    }

    /// The cart-level and line-level problems as PreconditionFailure violations, the
    /// cart-level ones about `customer`.
    pub fn violations(&self, customer: CustomerId) -> Vec<Precondition> {
        let mut out: Vec<Precondition> = self
            .problems
            .iter()
            .map(|p| Precondition {
                code: p.code.to_owned(),
                subject: format!("customers/{customer}"),
                description: p.message.clone(),
            })
            .collect();
        for line in &self.lines {
            for p in &line.problems {
                out.push(Precondition {
                    code: p.code.to_owned(),
                    subject: format!("lines/{}", line.line.id),
                    description: p.message.clone(),
                });
            }
        }
        out
    }

    /// A cart of `customer` with this review may be checked out only if it is clean.
    pub fn check_clean(&self, customer: CustomerId) -> Result<(), DomainError> {
        if self.is_clean() {
            return Ok(());
        }
        let violations = self.violations(customer);
        Err(DomainError::FailedPrecondition {
            message: format!(
                "the cart cannot be checked out: {}",
                violations
                    .iter()
                    .map(|v| v.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            violations,
        })
    }
}

/// Problems that concern the whole cart rather than one line.
const CART_LEVEL: &[&str] = &[code::AGREEMENT_NOT_ACCEPTED, code::ROLE_CANNOT_PURCHASE];

/// Evaluates every rule for every line of a cart, the way checkout will.
/// `buyer.holdings` are the customer's subscriptions; the other lines of the cart are added
/// per line.
pub fn review(buyer: &Buyer<'_>, parents: &Parents, lines: &[CartLine]) -> Review {
    let Buyer {
        catalog,
        partner,
        customer,
        role,
        holdings,
        now,
    } = *buyer;
    let mut cart_problems: Vec<Problem> = Vec::new();
    if lines.is_empty() {
        cart_problems.push(Problem {
            code: cart_code::CART_EMPTY,
            message: "the cart has no lines".into(),
            field: "lines",
            figures: Vec::new(),
        });
    }
    let mut reviewed = Vec::with_capacity(lines.len());
    let mut totals: Vec<Money> = Vec::new();
    // Currencies whose total cannot be stated: they get no total and a cart problem.
    let mut overflowed: Vec<Currency> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let input = &line.input;
        let Some(item) = catalog.item(&input.item) else {
            reviewed.push(ReviewedLine {
                line: line.clone(),
                product_title: String::new(),
                sku_title: String::new(),
                unit_price: None,
                extended_price: None,
                problems: vec![Problem {
                    code: code::NOT_IN_CURRENT_PRICE_LIST,
                    message: format!("{} is not in the current price list", input.item),
                    field: "catalog_item_id",
                    figures: vec![(
                        "month",
                        catalog.month().map(|m| m.to_string()).unwrap_or_default(),
                    )],
                }],
            });
            continue;
        };
        // The other lines of this cart count as held: a base line opens its add-ons, and
        // seats of the same SKU on several lines pool against the seat limit.
        let mut with_cart = holdings.clone();
        for (other_index, other) in lines.iter().enumerate() {
            if other_index != index && catalog.item(&other.input.item).is_some() {
                with_cart = with_cart.with_pending(
                    &other.input.item.product,
                    &other.input.item.sku,
                    i64::from(other.input.quantity),
                );
            }
        }
        let buyer = Buyer {
            catalog,
            partner,
            customer,
            role,
            holdings: &with_cart,
            now,
        };
        let mut problems = eligibility::check(
            &buyer,
            &Intent {
                item,
                quantity: input.quantity,
                term: input.term,
                billing_cycle: input.billing_cycle,
            },
        );
        problems.retain(|p| {
            if CART_LEVEL.contains(&p.code) {
                if !cart_problems.iter().any(|c| c.code == p.code) {
                    cart_problems.push(p.clone());
                }
                false
            } else {
                true
            }
        });
        if lines[..index].iter().any(|l| {
            l.input.item.product == input.item.product && l.input.item.sku == input.item.sku
        }) {
            problems.push(Problem {
                code: cart_code::DUPLICATE_SKU_IN_CART,
                message: "this SKU is already on another line of the cart: change that line's quantity instead".into(),
                field: "catalog_item_id",
                figures: Vec::new(),
            });
        }
        let sku = item.sku.sku;
        if sku.is_reservation
            && (input.provisioning.scope.is_none()
                || input.provisioning.azure_subscription_id.is_none())
        {
            problems.push(Problem {
                code: cart_code::PROVISIONING_CONTEXT_MISSING,
                message: "an Azure reservation needs a scope (single or shared) and an Azure subscription id".into(),
                field: "provisioning_context",
                figures: vec![("required", "scope,azure_subscription_id".into())],
            });
        }
        if let Some(parent_id) = input.provisioning.parent_subscription {
            if !sku.is_addon() {
                problems.push(Problem {
                    code: cart_code::PARENT_ON_NON_ADDON,
                    message: "only an add-on names a parent subscription".into(),
                    field: "provisioning_context.parent_subscription_id",
                    figures: Vec::new(),
                });
            } else {
                let valid = parents.iter().any(|p| {
                    p.id == parent_id
                        && p.active
                        && sku
                            .prerequisites
                            .iter()
                            .any(|(pp, ps)| *pp == p.product_id && *ps == p.sku_id)
                });
                if !valid {
                    problems.push(Problem {
                        code: cart_code::ADDON_PARENT_INVALID,
                        message: format!(
                            "subscription {parent_id} is not an active subscription of this customer to one of the add-on's base SKUs"
                        ),
                        field: "provisioning_context.parent_subscription_id",
                        figures: Vec::new(),
                    });
                }
            }
        }
        let unit_price = item
            .availability
            .price_for(input.term, input.billing_cycle)
            .map(|t| t.unit_price);
        let extended_price = unit_price.and_then(|p| p.checked_mul(i64::from(input.quantity)));
        match (unit_price, extended_price) {
            (Some(unit), None) => {
                problems.push(out_of_range(unit.currency, "quantity", "this line's price"));
                overflowed.push(unit.currency);
            }
            (_, Some(price)) => match totals.iter_mut().find(|t| t.currency == price.currency) {
                Some(total) => match total.checked_add(price) {
                    Some(sum) => *total = sum,
                    None => overflowed.push(price.currency),
                },
                None => totals.push(price),
            },
            (None, None) => {}
        }
        reviewed.push(ReviewedLine {
            line: line.clone(),
            product_title: item.product.title.clone(),
            sku_title: sku.title.clone(),
            unit_price,
            extended_price,
            problems,
        });
    }
    for currency in overflowed {
        let reported = cart_problems.iter().any(|p| {
            p.code == cart_code::TOTAL_OUT_OF_RANGE
                && p.figures.iter().any(|(_, c)| c == currency.code())
        });
        if !reported {
            totals.retain(|t| t.currency != currency);
            cart_problems.push(out_of_range(currency, "totals", "the cart's total"));
        }
    }
    Review {
        lines: reviewed,
        problems: cart_problems,
        totals,
    }
}

fn out_of_range(currency: Currency, field: &'static str, what: &str) -> Problem {
    Problem {
        code: cart_code::TOTAL_OUT_OF_RANGE,
        message: format!(
            "{what} in {currency} is too large to state exactly: lower the quantities or split the cart"
        ),
        field,
        figures: vec![("currency", currency.code().to_owned())],
    }
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::customer::{Agreement, Customer, Partner, Role};
    use crate::domain::eligibility::Holdings;
    use crate::domain::ids::{CountryCode, PartnerId};

    /// When the cart tests run.
    pub(in crate::domain) fn test_now() -> DateTime<Utc> {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 10, 12, 0, 0)
            .unwrap()
    }

    /// The demo month with every price set to `micros` a unit.
    pub(in crate::domain) fn catalog_priced_at(micros: i64) -> Catalog {
        let (month, mut data) = crate::demo::catalog_data().unwrap();
        for availability in &mut data.availabilities {
            for term in &mut availability.terms {
                term.unit_price.micros = micros;
            }
        }
        Catalog::build(Some(month), data)
    }

    /// Reviews `quantities` of Office 365 E3 (US, commercial, one year paid yearly), one
    /// line each, for a US customer who accepted the agreement.
    pub(in crate::domain) fn review_e3(catalog: &Catalog, quantities: &[i32]) -> Review {
        let us = CountryCode::parse("c", "US").unwrap();
        let partner = Partner {
            id: PartnerId::new(),
            name: "Contoso".into(),
            country: us,
            currency: Currency::parse("c", "USD").unwrap(),
            gcc: false,
        };
        let now = test_now();
        let customer = Customer {
            id: CustomerId::new(),
            partner_id: partner.id,
            company_name: "Fabrikam".into(),
            country: us,
            email: "it@fabrikam.example.com".into(),
            domain: "fabrikam.example.com".into(),
            qualifications: Vec::new(),
            agreement: Some(Agreement {
                contact_name: "Ana".into(),
                contact_email: "ana@fabrikam.example.com".into(),
                accepted_at: now,
            }),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let item = CatalogItemId::parse("item", "CFQ7TTC02ROY:0001:X").unwrap();
        let availability = catalog
            .availability_for(
                &item.product,
                &item.sku,
                us,
                crate::domain::catalog::Segment::Commercial,
            )
            .unwrap()
            .id
            .clone();
        let lines: Vec<CartLine> = quantities
            .iter()
            .map(|&quantity| CartLine {
                id: uuid::Uuid::now_v7(),
                input: LineInput {
                    item: CatalogItemId {
                        availability: availability.clone(),
                        ..item.clone()
                    },
                    quantity,
                    term: Term::P1Y,
                    billing_cycle: BillingCycle::Annual,
                    provisioning: ProvisioningContext::default(),
                },
            })
            .collect();
        let holdings = Holdings::default();
        let buyer = Buyer {
            catalog,
            partner: &partner,
            customer: &customer,
            role: Role::SalesAgent,
            holdings: &holdings,
            now,
        };
        review(&buyer, &Parents::new(), &lines)
    }

    fn codes(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn a_line_whose_price_overflows_is_a_problem_and_has_no_total() {
        let review = review_e3(&catalog_priced_at(i64::MAX / 4), &[5]);
        assert!(codes(&review.lines[0].problems).contains(&cart_code::TOTAL_OUT_OF_RANGE));
        assert_eq!(review.lines[0].extended_price, None);
        assert!(codes(&review.problems).contains(&cart_code::TOTAL_OUT_OF_RANGE));
        assert!(review.totals.is_empty(), "{:?}", review.totals);
        assert!(!review.is_clean());
    }

    #[test]
    fn a_total_that_overflows_is_a_cart_problem_not_a_dropped_line() {
        let review = review_e3(&catalog_priced_at(i64::MAX / 3), &[2, 2]);
        assert!(review.lines[0].extended_price.is_some());
        let problem = review
            .problems
            .iter()
            .find(|p| p.code == cart_code::TOTAL_OUT_OF_RANGE)
            .unwrap();
        assert_eq!(problem.figures, vec![("currency", "USD".to_owned())]);
        assert!(review.totals.is_empty(), "{:?}", review.totals);
        // Within range, the total is the exact sum.
        let review = review_e3(&catalog_priced_at(1_000_000), &[2, 3]);
        assert_eq!(review.totals.len(), 1);
        assert_eq!(review.totals[0].micros, 5_000_000);
        assert!(!codes(&review.problems).contains(&cart_code::TOTAL_OUT_OF_RANGE));
    }

    /// An active cart of the lines of `review`, at version 1, created at `test_now()`.
    pub(in crate::domain) fn cart_of(review: &Review) -> Cart {
        let now = test_now();
        Cart {
            id: CartId::new(),
            customer_id: CustomerId::new(),
            status: CartStatus::Active,
            lines: review.lines.iter().map(|l| l.line.clone()).collect(),
            created_at: now,
            expires_at: now + CART_LIFETIME,
            version: 1,
            order_id: None,
        }
    }

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
