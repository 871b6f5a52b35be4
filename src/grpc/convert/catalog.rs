//! Catalog values, purchase problems and catalog changes, to the wire.

use super::timestamp;
use super::{billing_cycle_to_pb, billing_type, money, pb, product_type, segment, term_to_pb};
use crate::domain::catalog::{
    Availability, Catalog, Product, SkuView, TermPrice, billing_period_charge, billing_periods,
};
use crate::domain::eligibility::Problem;
use crate::domain::ids::{CatalogItemId, ProductId, SkuId};

pub fn product(p: &Product, sku_count: usize) -> pb::Product {
    pb::Product {
        id: p.id.to_string(),
        title: p.title.clone(),
        description: p.description.clone(),
        product_type: product_type(p.product_type).into(),
        publisher: p.publisher.clone(),
        is_microsoft: p.is_microsoft(),
        billing_type: billing_type(p.billing_type).into(),
        category: p.category.clone(),
        sku_count: i32::try_from(sku_count).unwrap_or(i32::MAX),
    }
}

pub fn sku(v: &SkuView<'_>) -> pb::Sku {
    let s = v.sku;
    pb::Sku {
        product_id: s.product_id.to_string(),
        id: s.id.to_string(),
        title: s.title.clone(),
        description: s.description.clone(),
        product_title: v.product.title.clone(),
        min_quantity: s.min_quantity,
        max_quantity: s.max_quantity,
        is_trial: s.is_trial,
        is_addon: s.is_addon(),
        prerequisites: s.prerequisites.iter().map(sku_ref).collect(),
        seat_limit: s.seat_limit,
        seat_limit_type: s.seat_limit_type.clone(),
        unit_of_measure: s.unit_of_measure.clone(),
        provisioning_variables: s
            .provisioning_variables()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        countries: v.countries.iter().map(ToString::to_string).collect(),
        billing_cycles: v
            .billing_cycles
            .iter()
            .map(|c| billing_cycle_to_pb(*c).into())
            .collect(),
        product_type: product_type(v.product.product_type).into(),
        publisher: v.product.publisher.clone(),
        conversion_targets: s.conversions.iter().map(sku_ref).collect(),
        concurrent_limit: s.concurrent_limit,
        lifetime_limit: s.effective_lifetime_limit(),
    }
}

pub fn sku_ref((product, sku): &(ProductId, SkuId)) -> pb::SkuRef {
    pb::SkuRef {
        product_id: product.to_string(),
        sku_id: sku.to_string(),
    }
}

pub fn item_ref(item: &CatalogItemId) -> pb::CatalogItemRef {
    pb::CatalogItemRef {
        product_id: item.product.to_string(),
        sku_id: item.sku.to_string(),
        availability_id: item.availability.to_string(),
        catalog_item_id: item.to_string(),
    }
}

/// How many charges a term has, on the wire (at most 36).
pub fn periods(periods: u32) -> i32 {
    i32::try_from(periods).unwrap_or(i32::MAX)
}

fn term_price(t: &TermPrice) -> pb::TermPrice {
    let count = billing_periods(t.term, t.billing_cycle);
    pb::TermPrice {
        term: term_to_pb(t.term).into(),
        billing_cycle: billing_cycle_to_pb(t.billing_cycle).into(),
        term_price: Some(money(t.unit_price)),
        erp_price: Some(money(t.erp_price)),
        effective_start: Some(timestamp(t.effective_start)),
        effective_end: t.effective_end.map(timestamp),
        billing_period_charge: Some(money(billing_period_charge(t.unit_price, count))),
        billing_periods: periods(count),
    }
}

/// The offer of `a` (an availability of `v`) at its term `t`.
pub fn offer(v: &SkuView<'_>, a: &Availability, t: &TermPrice) -> pb::Offer {
    let s = v.sku;
    let count = billing_periods(t.term, t.billing_cycle);
    pb::Offer {
        catalog_item_id: a.catalog_item_id().to_string(),
        product_id: s.product_id.to_string(),
        sku_id: s.id.to_string(),
        product_title: v.product.title.clone(),
        sku_title: s.title.clone(),
        product_type: product_type(v.product.product_type).into(),
        country: a.country.to_string(),
        segment: segment(a.segment).into(),
        term: term_to_pb(t.term).into(),
        billing_cycle: billing_cycle_to_pb(t.billing_cycle).into(),
        term_price: Some(money(t.unit_price)),
        erp_price: Some(money(t.erp_price)),
        billing_period_charge: Some(money(billing_period_charge(t.unit_price, count))),
        billing_periods: periods(count),
        min_quantity: s.min_quantity,
        max_quantity: s.max_quantity,
        is_trial: s.is_trial,
        is_addon: s.is_addon(),
        provisioning_variables: s
            .provisioning_variables()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

pub fn availability(a: &Availability, catalog: &Catalog) -> pb::Availability {
    pb::Availability {
        id: a.id.to_string(),
        product_id: a.product_id.to_string(),
        sku_id: a.sku_id.to_string(),
        catalog_item_id: a.catalog_item_id().to_string(),
        country: a.country.to_string(),
        segment: segment(a.segment).into(),
        currency_code: a.currency.code().to_owned(),
        terms: a.terms.iter().map(term_price).collect(),
        price_list_month: catalog.month().map(|m| m.to_string()).unwrap_or_default(),
        end_of_sale: a.end_of_sale.map(timestamp),
    }
}

/// The wire's value of a domain problem code (`UNSPECIFIED` for none: a test proves every
/// code has one).
pub fn problem_code(code: &str) -> pb::ProblemCode {
    pb::ProblemCode::from_str_name(&format!("PROBLEM_CODE_{code}"))
        .unwrap_or(pb::ProblemCode::Unspecified)
}

/// The domain's string of a wire problem code (what ErrorInfo.reason carries).
pub fn problem_code_str(code: pb::ProblemCode) -> Option<&'static str> {
    code.as_str_name()
        .strip_prefix("PROBLEM_CODE_")
        .filter(|_| code != pb::ProblemCode::Unspecified)
}

pub fn problem(p: &Problem) -> pb::PurchaseProblem {
    pb::PurchaseProblem {
        code: problem_code(p.code).into(),
        message: p.message.clone(),
        field: p.field.to_owned(),
        figures: p
            .figures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        prerequisites: p.prerequisites.iter().map(sku_ref).collect(),
        suggested_item: p.suggested.as_ref().map(item_ref),
    }
}

pub fn change(c: &crate::domain::changes::CatalogChange) -> pb::CatalogChange {
    use crate::domain::changes::ChangeKind;
    pb::CatalogChange {
        revision: c.revision,
        month: c.month.to_string(),
        kind: match c.kind {
            ChangeKind::Added => pb::ChangeKind::Added,
            ChangeKind::Changed => pb::ChangeKind::Changed,
            ChangeKind::Ended => pb::ChangeKind::Ended,
        }
        .into(),
        product_id: c.product_id.clone(),
        sku_id: c.sku_id.clone(),
        availability_id: c.availability_id.clone(),
        country: c.country.clone(),
        segment: c.segment.map_or(pb::Segment::Unspecified, segment).into(),
        product_type: product_type(c.product_type).into(),
        changes: c
            .fields
            .iter()
            .map(|f| pb::FieldChange {
                field: f.field.clone(),
                before: f.before.clone(),
                after: f.after.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::cart_code;
    use crate::domain::eligibility::code;
    use crate::domain::order::order_code;

    #[test]
    fn every_domain_code_is_a_wire_value_and_back() {
        let domain: Vec<&str> = [code::ALL, cart_code::ALL, order_code::ALL].concat();
        for code in &domain {
            let wire = problem_code(code);
            assert_ne!(
                wire,
                pb::ProblemCode::Unspecified,
                "{code} has no ProblemCode"
            );
            assert_eq!(problem_code_str(wire), Some(*code));
        }
        // And the enum holds nothing else: each value is a domain code (values may leave
        // gaps: numbers are handed out per feature).
        let mut values = 0;
        for value in 1..1024 {
            let Ok(wire) = pb::ProblemCode::try_from(value) else {
                continue;
            };
            let name = problem_code_str(wire).unwrap();
            assert!(
                domain.contains(&name),
                "ProblemCode {name} is no domain code"
            );
            values += 1;
        }
        assert_eq!(values, domain.len());
        assert_eq!(problem_code("NO_SUCH_CODE"), pb::ProblemCode::Unspecified);
        assert_eq!(problem_code_str(pb::ProblemCode::Unspecified), None);
    }
}
