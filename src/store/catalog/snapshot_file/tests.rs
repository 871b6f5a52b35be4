//! The snapshot file: written and read back, and every way a file is refused.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, Product, ProductType, Segment, Sku, Term, TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

fn month() -> Month {
    Month::parse("m", "2026-12").unwrap()
}

/// One product, one add-on SKU, three availabilities: two priced alike (one list), one
/// unpriced; one with an end of sale.
fn data() -> CatalogData {
    let product = ProductId::parse("p", "CFQ7TTC0LH18").unwrap();
    let sku = SkuId::parse("s", "0001").unwrap();
    let eur = Currency::parse("c", "EUR").unwrap();
    let start = DateTime::<Utc>::from_timestamp(1_796_083_200, 123_000).unwrap();
    let terms: Arc<[TermPrice]> = Arc::new([TermPrice {
        term: Term::P1Y,
        billing_cycle: BillingCycle::Monthly,
        unit_price: Money::from_micros(eur, 12_340_000),
        erp_price: Money::from_micros(eur, 15_000_000),
        effective_start: start,
        effective_end: None,
    }]);
    let availability = |id: &str, country: &str, terms: Arc<[TermPrice]>| Availability {
        id: AvailabilityId::parse("id", id).unwrap(),
        product_id: product.clone(),
        sku_id: sku.clone(),
        country: CountryCode::parse("c", country).unwrap(),
        segment: Segment::Commercial,
        currency: eur,
        terms,
        end_of_sale: None,
    };
    let mut ended = availability("A2", "FR", terms.clone());
    ended.end_of_sale = Some(start);
    CatalogData {
        products: vec![Product {
            id: product.clone(),
            title: "Microsoft 365 E3".into(),
            description: "Productivity, é".into(),
            product_type: ProductType::OnlineServices,
            publisher: "Microsoft Corporation".into(),
            billing_type: BillingType::License,
            category: "Productivity".into(),
        }],
        skus: vec![Sku {
            product_id: product.clone(),
            id: sku.clone(),
            title: "E3".into(),
            description: String::new(),
            min_quantity: 1,
            max_quantity: 300,
            is_trial: false,
            prerequisites: vec![(product.clone(), SkuId::parse("s", "0002").unwrap())],
            seat_limit: Some(300),
            seat_limit_type: "per tenant".into(),
            unit_of_measure: "1 license".into(),
            category: "license".into(),
            is_reservation: false,
            provisioning_id: "prov".into(),
            conversions: vec![(product.clone(), SkuId::parse("s", "0003").unwrap())],
            concurrent_limit: Some(2),
            lifetime_limit: None,
        }],
        availabilities: vec![
            availability("A1", "DE", terms),
            ended,
            availability("A3", "IT", Arc::new([])),
        ],
    }
}

fn written(dir: &Path) -> SnapshotFile {
    let file = SnapshotFile::in_dir(dir);
    let catalog = Catalog::build(Some(month()), data());
    file.write(month(), "stamp 1", &catalog).unwrap();
    file
}

#[test]
fn a_month_reads_back_as_it_was_written_sharing_its_price_lists() {
    let dir = tempfile::tempdir().unwrap();
    let file = written(dir.path());
    assert_eq!(
        file.header().unwrap(),
        ("2026-12".to_owned(), "stamp 1".to_owned())
    );
    let read = file.read(month(), "stamp 1").unwrap();
    assert_eq!(read, data());
    assert!(Arc::ptr_eq(
        &read.availabilities[0].terms,
        &read.availabilities[1].terms
    ));
}

#[test]
fn another_month_or_stamp_a_changed_byte_or_a_cut_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = written(dir.path());
    let other = Month::parse("m", "2027-01").unwrap();
    assert!(matches!(
        file.read(other, "stamp 1"),
        Err(SnapshotFileError::Stale { .. })
    ));
    assert!(matches!(
        file.read(month(), "stamp 2"),
        Err(SnapshotFileError::Stale { .. })
    ));
    let bytes = std::fs::read(file.path()).unwrap();
    // Every single changed byte past the header is caught (by its checksum if not before).
    let header = 8 + 4 + 4 + 7 + 4 + 7;
    for at in header..bytes.len() {
        let mut changed = bytes.clone();
        changed[at] ^= 0x10;
        std::fs::write(file.path(), &changed).unwrap();
        assert!(
            matches!(
                file.read(month(), "stamp 1"),
                Err(SnapshotFileError::Invalid(_))
            ),
            "byte {at}"
        );
    }
    for len in [0, 10, header, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(file.path(), &bytes[..len]).unwrap();
        assert!(file.read(month(), "stamp 1").is_err(), "cut at {len}");
    }
    std::fs::remove_file(file.path()).unwrap();
    assert!(matches!(
        file.read(month(), "stamp 1"),
        Err(SnapshotFileError::Missing)
    ));
}
