//! Who may buy what (DOMAIN.md section 3): every rule, evaluated in one place, each failure a
//! named reason. Used by the catalog's purchasability check, its offers and by cart review.

use chrono::{DateTime, Utc};

use super::catalog::{BillingCycle, Catalog, Item, Segment, Term};
use super::customer::{Customer, Partner, Role, VettingStatus};
use super::ids::{CatalogItemId, ProductId, SkuId};

mod holdings;
mod quantity;

pub use holdings::{Holding, HoldingStatus, Holdings};
pub use quantity::{
    addon_seats_problem, quantity_change_problems, quantity_range_problems, seat_limit_problem,
};

/// Stable reason codes. Clients switch on these; never rename one.
pub mod code {
    pub const COUNTRY_NOT_SOLD_TO_PARTNER: &str = "COUNTRY_NOT_SOLD_TO_PARTNER";
    pub const COUNTRY_NOT_SOLD_TO_CUSTOMER: &str = "COUNTRY_NOT_SOLD_TO_CUSTOMER";
    pub const AVAILABILITY_COUNTRY_MISMATCH: &str = "AVAILABILITY_COUNTRY_MISMATCH";
    pub const SEGMENT_NOT_ALLOWED: &str = "SEGMENT_NOT_ALLOWED";
    pub const GCC_PARTNER_REQUIRED: &str = "GCC_PARTNER_REQUIRED";
    pub const ADDON_BASE_MISSING: &str = "ADDON_BASE_MISSING";
    pub const ADDON_QUANTITY_EXCEEDS_BASE: &str = "ADDON_QUANTITY_EXCEEDS_BASE";
    pub const NOT_IN_CURRENT_PRICE_LIST: &str = "NOT_IN_CURRENT_PRICE_LIST";
    pub const END_OF_SALE: &str = "END_OF_SALE";
    pub const AGREEMENT_NOT_ACCEPTED: &str = "AGREEMENT_NOT_ACCEPTED";
    pub const QUANTITY_BELOW_MINIMUM: &str = "QUANTITY_BELOW_MINIMUM";
    pub const QUANTITY_ABOVE_MAXIMUM: &str = "QUANTITY_ABOVE_MAXIMUM";
    pub const SEAT_LIMIT_EXCEEDED: &str = "SEAT_LIMIT_EXCEEDED";
    pub const TRIAL_LIMIT_REACHED: &str = "TRIAL_LIMIT_REACHED";
    pub const SUBSCRIPTION_LIMIT_REACHED: &str = "SUBSCRIPTION_LIMIT_REACHED";
    pub const ROLE_CANNOT_PURCHASE: &str = "ROLE_CANNOT_PURCHASE";
    pub const TERM_NOT_OFFERED: &str = "TERM_NOT_OFFERED";
    pub const BILLING_CYCLE_NOT_OFFERED: &str = "BILLING_CYCLE_NOT_OFFERED";

    /// Every code above (the wire's ProblemCode has each).
    pub const ALL: &[&str] = &[
        COUNTRY_NOT_SOLD_TO_PARTNER,
        COUNTRY_NOT_SOLD_TO_CUSTOMER,
        AVAILABILITY_COUNTRY_MISMATCH,
        SEGMENT_NOT_ALLOWED,
        GCC_PARTNER_REQUIRED,
        ADDON_BASE_MISSING,
        ADDON_QUANTITY_EXCEEDS_BASE,
        NOT_IN_CURRENT_PRICE_LIST,
        END_OF_SALE,
        AGREEMENT_NOT_ACCEPTED,
        QUANTITY_BELOW_MINIMUM,
        QUANTITY_ABOVE_MAXIMUM,
        SEAT_LIMIT_EXCEEDED,
        TRIAL_LIMIT_REACHED,
        SUBSCRIPTION_LIMIT_REACHED,
        ROLE_CANNOT_PURCHASE,
        TERM_NOT_OFFERED,
        BILLING_CYCLE_NOT_OFFERED,
    ];
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    /// The request field the problem is about, or empty.
    pub field: &'static str,
    pub figures: Vec<(&'static str, String)>,
    /// ADDON_BASE_MISSING: the SKUs one of which would be a base.
    pub prerequisites: Vec<(ProductId, SkuId)>,
    /// AVAILABILITY_COUNTRY_MISMATCH: the item to buy instead, when there is one.
    pub suggested: Option<CatalogItemId>,
}

impl Problem {
    /// Its message followed by its figures as the review shows them, e.g. `only 2 seats
    /// remain (seat_limit=300, seats_owned=298, seats_available=2)`: a refused checkout or
    /// change tells what the review told.
    pub fn described(&self) -> String {
        if self.figures.is_empty() {
            return self.message.clone();
        }
        let figures = self
            .figures
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{} ({figures})", self.message)
    }

    fn new(code: &'static str, field: &'static str, message: String) -> Self {
        Self {
            code,
            message,
            field,
            ..Self::default()
        }
    }

    fn figure(mut self, name: &'static str, value: impl ToString) -> Self {
        self.figures.push((name, value.to_string()));
        self
    }

    fn with_prerequisites(mut self, skus: &[(ProductId, SkuId)]) -> Self {
        self.prerequisites = skus.to_vec();
        self
    }
}

/// Everything the rules look at besides the item itself.
#[derive(Debug, Clone, Copy)]
pub struct Buyer<'a> {
    pub catalog: &'a Catalog,
    pub partner: &'a Partner,
    pub customer: &'a Customer,
    pub role: Role,
    pub holdings: &'a Holdings,
    pub now: DateTime<Utc>,
}

/// One line to buy.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    pub item: Item<'a>,
    pub quantity: i32,
    pub term: Term,
    pub billing_cycle: BillingCycle,
}

/// Every failed rule for `intent`, in rule order; empty when it may be bought.
pub fn check(buyer: &Buyer<'_>, intent: &Intent<'_>) -> Vec<Problem> {
    let mut problems = offer_problems(buyer, &intent.item);
    let sku = intent.item.sku.sku;
    let availability = intent.item.availability;
    let quantity = i64::from(intent.quantity);

    // 3. add-on quantity against the base's seats
    problems.extend(addon_seats_problem(buyer.holdings, sku, quantity));

    // 5. agreement
    problems.extend(agreement_problem(buyer));

    // 6. quantity, seat limit, trials
    problems.extend(quantity_range_problems(sku, intent.quantity));
    problems.extend(seat_limit_problem(buyer.holdings, sku, quantity));
    problems.extend(ownership_limit_problems(buyer.holdings, sku));

    // 7. role
    problems.extend(role_problem(buyer));

    // 8. term and billing cycle
    if availability
        .price_for(intent.term, intent.billing_cycle)
        .is_none()
    {
        let offered = |f: &dyn Fn(&super::catalog::TermPrice) -> bool| -> String {
            let mut pairs: Vec<String> = availability
                .terms
                .iter()
                .filter(|t| f(t))
                .map(|t| format!("{}/{}", t.term, t.billing_cycle))
                .collect();
            pairs.dedup();
            pairs.join(", ")
        };
        if availability.terms.iter().any(|t| t.term == intent.term) {
            problems.push(
                Problem::new(
                    code::BILLING_CYCLE_NOT_OFFERED,
                    "billing_cycle",
                    format!(
                        "term {} is not billed {}; offered: {}",
                        intent.term,
                        intent.billing_cycle,
                        offered(&|t| t.term == intent.term)
                    ),
                )
                .figure("offered", offered(&|t| t.term == intent.term)),
            );
        } else {
            problems.push(
                Problem::new(
                    code::TERM_NOT_OFFERED,
                    "term",
                    format!(
                        "term {} is not offered; offered: {}",
                        intent.term,
                        offered(&|_| true)
                    ),
                )
                .figure("offered", offered(&|_| true)),
            );
        }
    }
    problems
}

/// Rule 6's subscription counts (the matrix's asset-ownership limits): one more subscription
/// of `sku` within its concurrent limit (held now: active or suspended) and its lifetime limit
/// (ever held: cancelled, expired and converted ones too; a trial without a limit: one). A
/// trial's is TRIAL_LIMIT_REACHED, a paid SKU's SUBSCRIPTION_LIMIT_REACHED.
pub fn ownership_limit_problems(holdings: &Holdings, sku: &super::catalog::Sku) -> Vec<Problem> {
    let (code, what, figure) = if sku.is_trial {
        (code::TRIAL_LIMIT_REACHED, "trial", "trial_limit")
    } else {
        (
            code::SUBSCRIPTION_LIMIT_REACHED,
            "subscription",
            "subscription_limit",
        )
    };
    let mut problems = Vec::new();
    let (product, id) = (&sku.product_id, &sku.id);
    let limits = [
        (
            "concurrent",
            sku.concurrent_limit,
            holdings.held_now(product, id),
            "held_now",
        ),
        (
            "lifetime",
            sku.effective_lifetime_limit(),
            holdings.held_ever(product, id),
            "held_ever",
        ),
    ];
    for (kind, limit, held, held_figure) in limits {
        let Some(limit) = limit.filter(|limit| held >= i64::from(*limit)) else {
            continue;
        };
        let plural = if limit == 1 { "" } else { "s" };
        let message = if kind == "concurrent" {
            format!(
                "the customer may hold {limit} {what}{plural} of this SKU at once and holds {held}"
            )
        } else {
            format!(
                "the customer may hold {limit} {what}{plural} of this SKU in its lifetime and has held {held} (cancelled, expired and converted ones count)"
            )
        };
        problems.push(
            Problem::new(code, "catalog_item_id", message)
                .figure(figure, limit)
                .figure("limit_type", kind)
                .figure(held_figure, held),
        );
    }
    problems
}

fn agreement_problem(buyer: &Buyer<'_>) -> Option<Problem> {
    buyer.customer.agreement.is_none().then(|| {
        Problem::new(
            code::AGREEMENT_NOT_ACCEPTED,
            "customer_id",
            "the customer has not accepted the Microsoft Customer Agreement; record its acceptance first".into(),
        )
    })
}

fn role_problem(buyer: &Buyer<'_>) -> Option<Problem> {
    (!buyer.role.may_purchase()).then(|| {
        Problem::new(
            code::ROLE_CANNOT_PURCHASE,
            "",
            format!(
                "the {} role may not buy; global_admin, admin_agent or sales_agent can",
                buyer.role.as_str()
            ),
        )
    })
}

/// The rules that depend on the customer and the caller alone, whatever the offer (the
/// agreement, the role): while one fails, no offer may be bought.
pub fn customer_problems(buyer: &Buyer<'_>) -> Vec<Problem> {
    agreement_problem(buyer)
        .into_iter()
        .chain(role_problem(buyer))
        .collect()
}

/// Whether `item` is offered to `buyer`: every rule of [`check`] passes at the SKU's smallest
/// quantity, at a term and billing cycle the availability offers, save the customer's own
/// ([`customer_problems`]). What ListOffers lists: what checkout accepts once those are met.
pub fn offered(buyer: &Buyer<'_>, item: &Item<'_>) -> bool {
    let Some(first) = item.availability.terms.first() else {
        return false;
    };
    let intent = Intent {
        item: *item,
        quantity: item.sku.sku.min_quantity.max(1),
        term: first.term,
        billing_cycle: first.billing_cycle,
    };
    check(buyer, &intent)
        .iter()
        .all(|p| p.code == code::AGREEMENT_NOT_ACCEPTED || p.code == code::ROLE_CANNOT_PURCHASE)
}

/// The rules about the offer itself, whatever the quantity, term or caller: country, segment,
/// add-on base and the current price list. The catalog's "purchasable by" filter uses these.
pub fn offer_problems(buyer: &Buyer<'_>, item: &Item<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let sku = item.sku.sku;
    let availability = item.availability;
    let (partner, customer) = (buyer.partner, buyer.customer);

    // 1. country, on both sides
    if !item.sku.countries.contains(&partner.country) {
        problems.push(
            Problem::new(
                code::COUNTRY_NOT_SOLD_TO_PARTNER,
                "catalog_item_id",
                format!(
                    "this SKU is not sold in {}, the partner's country, so the partner cannot resell it",
                    partner.country
                ),
            )
            .figure("partner_country", partner.country),
        );
    }
    if !item.sku.countries.contains(&customer.country) {
        problems.push(
            Problem::new(
                code::COUNTRY_NOT_SOLD_TO_CUSTOMER,
                "catalog_item_id",
                format!(
                    "this SKU is not sold in {}, the customer's country",
                    customer.country
                ),
            )
            .figure("customer_country", customer.country),
        );
    } else if availability.country != customer.country {
        let mut problem = Problem::new(
            code::AVAILABILITY_COUNTRY_MISMATCH,
            "catalog_item_id",
            format!(
                "this availability is for {}, but the customer is in {}; buy the {} availability",
                availability.country, customer.country, customer.country
            ),
        )
        .figure("availability_country", availability.country)
        .figure("customer_country", customer.country);
        if let Some(right) = buyer.catalog.availability_for(
            &sku.product_id,
            &sku.id,
            customer.country,
            availability.segment,
        ) {
            problem = problem.figure("suggested_catalog_item_id", right.catalog_item_id());
            problem.suggested = Some(right.catalog_item_id());
        }
        problems.push(problem);
    }

    // 2. segment against approved qualifications; government needs a GCC partner too
    let allowed = customer.allowed_segments();
    if !allowed.contains(&availability.segment) {
        let why = match customer.pending_qualification_for(availability.segment) {
            Some(q) => format!(
                "; its {} qualification is {}{}, and only approved vetting counts",
                q.kind.as_str(),
                q.vetting.as_str(),
                match (&q.review_reason, q.vetting) {
                    (Some(reason), VettingStatus::Denied) => format!(" ({reason})"),
                    _ => String::new(),
                }
            ),
            None if availability.segment == Segment::Commercial => {
                "; a GCC-qualified customer buys government offers only".to_owned()
            }
            None => format!(
                "; it needs an approved {} qualification",
                availability.segment
            ),
        };
        problems.push(
            Problem::new(
                code::SEGMENT_NOT_ALLOWED,
                "catalog_item_id",
                format!(
                    "the customer may not buy {} offers{why}",
                    availability.segment
                ),
            )
            .figure("segment", availability.segment)
            .figure(
                "allowed_segments",
                allowed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        );
    }
    if availability.segment == Segment::Government && !partner.gcc {
        problems.push(Problem::new(
            code::GCC_PARTNER_REQUIRED,
            "catalog_item_id",
            "government (GCC) offers can only be sold by a GCC-qualified partner".into(),
        ));
    }

    // 3. an add-on needs a base the customer owns (or a base line in the same cart)
    if sku.is_addon()
        && !sku
            .prerequisites
            .iter()
            .any(|(p, s)| buyer.holdings.active(p, s) > 0)
    {
        let bases = sku
            .prerequisites
            .iter()
            .map(|(p, s)| format!("{p}/{s}"))
            .collect::<Vec<_>>()
            .join(",");
        problems.push(
            Problem::new(
                code::ADDON_BASE_MISSING,
                "catalog_item_id",
                "this add-on needs an active subscription of one of its base SKUs (or a base line in the same cart)"
                    .into(),
            )
            .figure("prerequisites", bases)
            .with_prerequisites(&sku.prerequisites),
        );
    }

    // 4. in this month's list and not past end of sale
    if let Some(end) = availability.end_of_sale.filter(|end| *end <= buyer.now) {
        problems.push(
            Problem::new(
                code::END_OF_SALE,
                "catalog_item_id",
                format!("sale of this offer ended on {}", end.to_rfc3339()),
            )
            .figure("end_of_sale", end.to_rfc3339()),
        );
    } else if !availability
        .terms
        .iter()
        .any(|t| t.effective_start <= buyer.now)
    {
        let from = availability.terms.iter().map(|t| t.effective_start).min();
        let mut problem = Problem::new(
            code::NOT_IN_CURRENT_PRICE_LIST,
            "catalog_item_id",
            "this offer has no price in effect now".into(),
        );
        if let Some(from) = from {
            problem = problem.figure("effective_start", from.to_rfc3339());
        }
        problems.push(problem);
    }
    problems
}
