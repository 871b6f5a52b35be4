#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// The snapshot answers for the demo month exactly what the month's data says: every item
/// resolvable to its own availability, every SKU's view its SKU, product, availabilities (by
/// country, segment), countries and billing cycles; positions that lead back to the same.
#[test]
fn the_snapshot_answers_what_the_months_data_holds() {
    let (month, data) = crate::demo::catalog_data().unwrap();
    let catalog = Catalog::build(Some(month), data.clone());
    assert_eq!(
        catalog.counts(),
        (
            data.products.len(),
            data.skus.len(),
            data.availabilities.len()
        )
    );

    let mut positions = std::collections::HashSet::new();
    for a in &data.availabilities {
        let item = catalog.item(&a.catalog_item_id()).unwrap();
        assert_eq!(item.availability, a);
        assert_eq!(item.product.id, a.product_id);
        assert_eq!(
            (&item.sku.sku.product_id, &item.sku.sku.id),
            (&a.product_id, &a.sku_id)
        );
        assert_eq!(catalog.availability(&a.id), Some(a));
        let position = catalog.availability_position(item.availability).unwrap();
        assert!(positions.insert(position), "one position per availability");
        assert_eq!(
            catalog.availability_for(&a.product_id, &a.sku_id, a.country, a.segment),
            Some(a)
        );
    }
    assert_eq!(catalog.availability_position(&data.availabilities[0]), None);

    for sku in &data.skus {
        let view = catalog.sku(&sku.product_id, &sku.id).unwrap();
        assert_eq!(view.sku, sku);
        assert_eq!(Some(view.product), catalog.product(&sku.product_id));
        assert_eq!(catalog.sku_at(view.position).unwrap().sku, sku);
        let mut own: Vec<&Availability> = data
            .availabilities
            .iter()
            .filter(|a| a.product_id == sku.product_id && a.sku_id == sku.id)
            .collect();
        own.sort_by_key(|a| (a.country, a.segment));
        assert_eq!(view.availabilities.iter().collect::<Vec<_>>(), own);
        let mut countries: Vec<CountryCode> = own.iter().map(|a| a.country).collect();
        countries.dedup();
        assert_eq!(view.countries, countries.as_slice());
        let mut cycles: Vec<BillingCycle> = own
            .iter()
            .flat_map(|a| a.terms.iter().map(|t| t.billing_cycle))
            .collect();
        cycles.sort();
        cycles.dedup();
        assert_eq!(view.billing_cycles, cycles.as_slice());
    }
    for product in &data.products {
        assert_eq!(catalog.product(&product.id), Some(product));
        assert!(catalog.skus_of(&product.id).all(|v| v.product == product));
    }
    let unknown = AvailabilityId::parse("id", "NOSUCHID0000").unwrap();
    assert_eq!(catalog.availability(&unknown), None);
}

/// The accounting of a snapshot's bytes: printed (`cargo test footprint -- --nocapture`),
/// and each part what the snapshot holds.
#[test]
fn a_snapshots_footprint_counts_each_part() {
    let catalog = crate::demo::catalog().unwrap();
    let footprint = catalog.footprint();
    let (_, _, availabilities) = catalog.counts();
    eprintln!(
        "demo month, {availabilities} availabilities: {footprint}; {} B an availability",
        footprint.total() / availabilities
    );
    assert_eq!(
        footprint.availabilities,
        availabilities * std::mem::size_of::<Availability>()
    );
    assert!(footprint.terms >= std::mem::size_of::<super::super::TermPrice>());
    assert_eq!(footprint.availability_ids, availabilities * 12);
    assert!(footprint.products_and_skus > 0 && footprint.listing_index > 0);
    assert!(footprint.lookups >= availabilities * 4);
}
