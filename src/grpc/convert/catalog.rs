//! Catalog values, purchase problems and catalog changes, to the wire.

use super::timestamp;
use super::{billing_cycle_to_pb, billing_type, money, pb, product_type, segment, term_to_pb};
use crate::domain::catalog::{Availability, Catalog, Product, SkuView, TermPrice};
use crate::domain::eligibility::Problem;

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
        prerequisites: s
            .prerequisites
            .iter()
            .map(|(p, k)| pb::SkuRef {
                product_id: p.to_string(),
                sku_id: k.to_string(),
            })
            .collect(),
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
    }
}

fn term_price(t: &TermPrice) -> pb::TermPrice {
    pb::TermPrice {
        term: term_to_pb(t.term).into(),
        billing_cycle: billing_cycle_to_pb(t.billing_cycle).into(),
        unit_price: Some(money(t.unit_price)),
        erp_price: Some(money(t.erp_price)),
        effective_start: Some(timestamp(t.effective_start)),
        effective_end: t.effective_end.map(timestamp),
    }
}

/// The offer of `a` (an availability of `v`) at its term `t`.
pub fn offer(v: &SkuView<'_>, a: &Availability, t: &TermPrice) -> pb::Offer {
    let s = v.sku;
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
        unit_price: Some(money(t.unit_price)),
        erp_price: Some(money(t.erp_price)),
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

pub fn problem(p: &Problem) -> pb::PurchaseProblem {
    pb::PurchaseProblem {
        code: p.code.to_owned(),
        message: p.message.clone(),
        field: p.field.to_owned(),
        figures: p
            .figures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
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
