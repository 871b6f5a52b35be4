//! Cart lines from the wire, carts to it.

use super::{
    billing_cycle, billing_cycle_to_pb, money, pb, periods, problem, term, term_to_pb, timestamp,
};
use crate::domain::DomainError;
use crate::domain::catalog::{billing_periods, line_charge, totals_by_currency};

pub fn provisioning_to_pb(p: &crate::domain::cart::ProvisioningContext) -> pb::ProvisioningContext {
    pb::ProvisioningContext {
        parent_subscription_id: p
            .parent_subscription
            .map(|s| s.to_string())
            .unwrap_or_default(),
        scope: p.scope.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        azure_subscription_id: p
            .azure_subscription_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
    }
}

/// The largest quantity a request may carry; SKU maxima are far below.
pub const MAX_QUANTITY: i32 = 100_000_000;

/// Parses a cart line input; `field` prefixes the violated fields (e.g. `line` or `lines[2]`).
pub fn line_input(
    field: &str,
    line: pb::CartLineInput,
) -> Result<crate::domain::cart::LineInput, DomainError> {
    use crate::domain::cart::{LineInput, ProvisioningContext, Scope};
    use crate::domain::error::Violations;
    use crate::domain::ids::{CatalogItemId, SubscriptionId};
    let pb::CartLineInput {
        catalog_item_id,
        quantity,
        term: raw_term,
        billing_cycle: raw_cycle,
        provisioning_context,
    } = line;
    let mut v = Violations::new();
    let item = v.check(CatalogItemId::parse(
        &format!("{field}.catalog_item_id"),
        &catalog_item_id,
    ));
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        v.push(crate::domain::FieldViolation::new(
            format!("{field}.quantity"),
            "OUT_OF_RANGE",
            format!("quantity must be between 1 and {MAX_QUANTITY}, got {quantity}"),
        ));
    }
    let term = v.check(term(&format!("{field}.term"), raw_term));
    let cycle = v.check(billing_cycle(&format!("{field}.billing_cycle"), raw_cycle));
    let pb::ProvisioningContext {
        parent_subscription_id,
        scope,
        azure_subscription_id,
    } = provisioning_context.unwrap_or_default();
    let parent = if parent_subscription_id.is_empty() {
        None
    } else {
        v.check(SubscriptionId::parse(
            &format!("{field}.provisioning_context.parent_subscription_id"),
            &parent_subscription_id,
        ))
    };
    let scope = match scope.as_str() {
        "" => None,
        s => match Scope::parse(s) {
            Some(scope) => Some(scope),
            None => {
                v.push(crate::domain::FieldViolation::new(
                    format!("{field}.provisioning_context.scope"),
                    "UNKNOWN_VALUE",
                    "scope must be single or shared",
                ));
                None
            }
        },
    };
    let azure = if azure_subscription_id.is_empty() {
        None
    } else {
        match uuid::Uuid::parse_str(&azure_subscription_id) {
            Ok(id) => Some(id),
            Err(_) => {
                v.push(crate::domain::FieldViolation::new(
                    format!("{field}.provisioning_context.azure_subscription_id"),
                    "MALFORMED",
                    "azure_subscription_id must be a UUID",
                ));
                None
            }
        }
    };
    v.into_result()?;
    match (item, term, cycle) {
        (Some(item), Some(term), Some(billing_cycle)) => Ok(LineInput {
            item,
            quantity,
            term,
            billing_cycle,
            provisioning: ProvisioningContext {
                parent_subscription: parent,
                scope,
                azure_subscription_id: azure,
            },
        }),
        _ => Err(DomainError::parsed_field_missing()),
    }
}

pub fn cart(c: &crate::service::carts::ReviewedCart) -> pb::Cart {
    use crate::domain::cart::CartStatus;
    let status = match c.cart.status {
        CartStatus::Ordered => pb::CartStatus::Ordered,
        CartStatus::Active if c.expired => pb::CartStatus::Expired,
        CartStatus::Active => pb::CartStatus::Active,
    };
    // A line without a term price (or whose term price does not fit) has no charge either.
    let charges: Vec<_> = c
        .review
        .lines
        .iter()
        .map(|l| {
            let input = &l.line.input;
            l.unit_price
                .filter(|_| l.extended_price.is_some())
                .and_then(|unit| line_charge(unit, input.quantity, input.term, input.billing_cycle))
        })
        .collect();
    pb::Cart {
        id: c.cart.id.to_string(),
        customer_id: c.cart.customer_id.to_string(),
        status: status.into(),
        lines: c
            .review
            .lines
            .iter()
            .zip(&charges)
            .map(|(l, charge)| pb::CartLine {
                id: l.line.id.to_string(),
                catalog_item_id: l.line.input.item.to_string(),
                quantity: l.line.input.quantity,
                term: term_to_pb(l.line.input.term).into(),
                billing_cycle: billing_cycle_to_pb(l.line.input.billing_cycle).into(),
                provisioning_context: Some(provisioning_to_pb(&l.line.input.provisioning)),
                product_title: l.product_title.clone(),
                sku_title: l.sku_title.clone(),
                unit_term_price: l.unit_price.map(money),
                term_price: l.extended_price.map(money),
                problems: l.problems.iter().map(problem).collect(),
                billing_period_charge: charge.map(money),
                billing_periods: periods(billing_periods(
                    l.line.input.term,
                    l.line.input.billing_cycle,
                )),
            })
            .collect(),
        totals: c.review.totals.iter().copied().map(money).collect(),
        first_charge_totals: totals_by_currency(charges.iter().flatten().copied())
            .into_iter()
            .map(money)
            .collect(),
        create_time: Some(timestamp(c.cart.created_at)),
        expire_time: Some(timestamp(c.cart.expires_at)),
        etag: c.cart.etag(),
        problems: c.review.problems.iter().map(problem).collect(),
        order_id: c.cart.order_id.map(|o| o.to_string()).unwrap_or_default(),
    }
}
