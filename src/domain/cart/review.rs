//! A cart's review: every rule for every line, the way checkout will judge it, with prices
//! and one total per currency.

use super::{CartLine, cart_code};
use crate::domain::DomainError;
use crate::domain::eligibility::{self, Buyer, Intent, Problem, code};
use crate::domain::error::Precondition;
use crate::domain::ids::{CustomerId, ProductId, SkuId, SubscriptionId};
use crate::domain::money::{Currency, Money};

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
                description: p.described(),
            })
            .collect();
        for line in &self.lines {
            for p in &line.problems {
                out.push(Precondition {
                    code: p.code.to_owned(),
                    subject: format!("lines/{}", line.line.id),
                    description: p.described(),
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
            ..Problem::default()
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
                    ..Problem::default()
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
                ..Problem::default()
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
                ..Problem::default()
            });
        }
        if let Some(parent_id) = input.provisioning.parent_subscription {
            if !sku.is_addon() {
                problems.push(Problem {
                    code: cart_code::PARENT_ON_NON_ADDON,
                    message: "only an add-on names a parent subscription".into(),
                    field: "provisioning_context.parent_subscription_id",
                    ..Problem::default()
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
                        ..Problem::default()
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
        ..Problem::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{catalog_priced_at, review_e3};
    use super::*;

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
}
