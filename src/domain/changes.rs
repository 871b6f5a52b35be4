//! What changed between two months of the catalog (DOMAIN.md section 7): availabilities added,
//! changed (prices, terms, billing cycles) or ended, and SKUs whose limits, prerequisites or
//! countries changed. These are the events subscribers are pushed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::catalog::{Availability, Month, ProductType, Segment, Sku};
use super::ids::{AvailabilityId, CountryCode};

text_enum!(ChangeKind {
    Added = "added",
    Changed = "changed",
    Ended = "ended",
});

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One change event. SKU-level changes have no availability, country or segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogChange {
    /// 0 until published.
    pub revision: u64,
    pub month: Month,
    pub kind: ChangeKind,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub country: String,
    pub segment: Option<Segment>,
    pub product_type: ProductType,
    pub fields: Vec<FieldChange>,
}

fn field(
    name: impl Into<String>,
    before: impl fmt::Display,
    after: impl fmt::Display,
) -> FieldChange {
    FieldChange {
        field: name.into(),
        before: before.to_string(),
        after: after.to_string(),
    }
}

/// `price P1Y/annual` -> `327.60 USD` for each term of an availability.
fn prices(a: &Availability) -> BTreeMap<String, String> {
    a.terms
        .iter()
        .map(|t| {
            (
                format!("price {}/{}", t.term, t.billing_cycle),
                t.unit_price.to_string(),
            )
        })
        .collect()
}

fn availability_change(
    month: Month,
    kind: ChangeKind,
    a: &Availability,
    product_type: ProductType,
    fields: Vec<FieldChange>,
) -> CatalogChange {
    CatalogChange {
        revision: 0,
        month,
        kind,
        product_id: a.product_id.to_string(),
        sku_id: a.sku_id.to_string(),
        availability_id: a.id.to_string(),
        country: a.country.to_string(),
        segment: Some(a.segment),
        product_type,
        fields,
    }
}

/// One SKU of one month as the diff sees it: the SKU, its product's type and every
/// availability (with its terms) the month holds for it.
#[derive(Debug, Clone)]
pub struct MonthSku {
    pub sku: Sku,
    pub product_type: ProductType,
    pub availabilities: Vec<Availability>,
}

impl MonthSku {
    /// The SKU's countries, sorted, each once.
    fn countries(&self) -> String {
        let mut countries: Vec<CountryCode> =
            self.availabilities.iter().map(|a| a.country).collect();
        countries.sort();
        countries.dedup();
        countries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn prerequisites(&self) -> String {
        let mut p: Vec<String> = self
            .sku
            .prerequisites
            .iter()
            .map(|(p, s)| format!("{p}/{s}"))
            .collect();
        p.sort();
        p.join(",")
    }
}

fn sku_fields(old: &MonthSku, new: &MonthSku) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let (o, n) = (&old.sku, &new.sku);
    if o.title != n.title {
        fields.push(field("title", &o.title, &n.title));
    }
    if o.min_quantity != n.min_quantity {
        fields.push(field("min_quantity", o.min_quantity, n.min_quantity));
    }
    if o.max_quantity != n.max_quantity {
        fields.push(field("max_quantity", o.max_quantity, n.max_quantity));
    }
    if o.seat_limit != n.seat_limit {
        let show = |l: Option<i32>| l.map_or_else(String::new, |l| l.to_string());
        fields.push(field("seat_limit", show(o.seat_limit), show(n.seat_limit)));
    }
    for (name, before, after) in [
        ("concurrent_limit", o.concurrent_limit, n.concurrent_limit),
        ("lifetime_limit", o.lifetime_limit, n.lifetime_limit),
    ] {
        if before != after {
            let show = |l: Option<i32>| l.map_or_else(String::new, |l| l.to_string());
            fields.push(field(name, show(before), show(after)));
        }
    }
    let (before, after) = (old.prerequisites(), new.prerequisites());
    if before != after {
        fields.push(field("prerequisites", before, after));
    }
    let pairs = |s: &super::catalog::Sku| {
        s.conversions
            .iter()
            .map(|(p, s)| format!("{p}/{s}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (before, after) = (pairs(o), pairs(n));
    if before != after {
        fields.push(field("conversions", before, after));
    }
    let (before, after) = (old.countries(), new.countries());
    if before != after {
        fields.push(field("countries", before, after));
    }
    fields
}

/// Every change of one SKU from the month before (`old`, `None`: it was not sold) to `month`
/// (`new`, `None`: it left the catalog): its SKU-level change first, then each availability's
/// in availability id order. A first month (no month before it) is diffed by nobody: it
/// changes nothing (see `service/catalog/month_changes.rs`).
///
/// Called SKU by SKU in (product id, SKU id) order, it gives a month's changes in (product,
/// SKU, availability) order while holding one SKU of each month at a time.
pub fn diff_sku(
    old: Option<&MonthSku>,
    new: Option<&MonthSku>,
    month: Month,
) -> Vec<CatalogChange> {
    let month_end = month.next().start();
    let mut changes = Vec::new();
    let Some(new_sku) = new else {
        // A SKU that left the catalog altogether.
        if let Some(old_sku) = old {
            for o in &old_sku.availabilities {
                changes.push(availability_change(
                    month,
                    ChangeKind::Ended,
                    o,
                    old_sku.product_type,
                    Vec::new(),
                ));
            }
        }
        changes.sort_by(|a, b| a.availability_id.cmp(&b.availability_id));
        return changes;
    };
    let product_type = new_sku.product_type;
    if let Some(old_sku) = old {
        let fields = sku_fields(old_sku, new_sku);
        if !fields.is_empty() {
            changes.push(CatalogChange {
                revision: 0,
                month,
                kind: ChangeKind::Changed,
                product_id: new_sku.sku.product_id.to_string(),
                sku_id: new_sku.sku.id.to_string(),
                availability_id: String::new(),
                country: String::new(),
                segment: None,
                product_type,
                fields,
            });
        }
    }
    let old_availabilities = old.map_or(&[][..], |v| &v.availabilities[..]);
    let old_by_id: HashMap<&AvailabilityId, &Availability> =
        old_availabilities.iter().map(|o| (&o.id, o)).collect();
    for a in &new_sku.availabilities {
        let ends = a.end_of_sale.filter(|e| *e < month_end);
        match old_by_id.get(&a.id) {
            None if ends.is_none() => {
                let fields = prices(a)
                    .into_iter()
                    .map(|(f, p)| field(f, "", p))
                    .collect();
                changes.push(availability_change(
                    month,
                    ChangeKind::Added,
                    a,
                    product_type,
                    fields,
                ));
            }
            None => {}
            Some(o) => {
                let (before, after) = (prices(o), prices(a));
                let mut fields: Vec<FieldChange> = before
                    .keys()
                    .chain(after.keys().filter(|k| !before.contains_key(*k)))
                    .filter(|k| before.get(*k) != after.get(*k))
                    .map(|k| {
                        field(
                            k.clone(),
                            before.get(k).cloned().unwrap_or_default(),
                            after.get(k).cloned().unwrap_or_default(),
                        )
                    })
                    .collect();
                fields.sort_by(|x, y| x.field.cmp(&y.field));
                if let Some(end) = ends {
                    fields.push(field("end_of_sale", "", end.to_rfc3339()));
                    changes.push(availability_change(
                        month,
                        ChangeKind::Ended,
                        a,
                        product_type,
                        fields,
                    ));
                } else if !fields.is_empty() {
                    changes.push(availability_change(
                        month,
                        ChangeKind::Changed,
                        a,
                        product_type,
                        fields,
                    ));
                }
            }
        }
    }
    let new_ids: HashSet<&AvailabilityId> = new_sku.availabilities.iter().map(|a| &a.id).collect();
    for o in old_availabilities {
        if !new_ids.contains(&o.id) {
            changes.push(availability_change(
                month,
                ChangeKind::Ended,
                o,
                product_type,
                Vec::new(),
            ));
        }
    }
    // The SKU-level change has no availability id: it sorts first.
    changes.sort_by(|a, b| a.availability_id.cmp(&b.availability_id));
    changes
}
