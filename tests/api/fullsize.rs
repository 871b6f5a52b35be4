//! The full-size month generator (`benches/commerce/fullsize.rs`) at a small size: what it
//! writes is a valid month for the real importer, in the counts it reports, the same bytes
//! for the same seed.

use csp_commerce::domain::catalog::Month;
use csp_commerce::import::{ImportLimits, Source, import_month};

// The bench uses every part; this test only some.
#[allow(dead_code)]
#[path = "../../benches/commerce/fullsize.rs"]
pub(crate) mod generator;

use generator::{MonthShape, generate};

const SMALL: MonthShape = MonthShape {
    markets: 12,
    rows_per_market: 400,
    seed: 7,
    month: "2026-12",
};

fn open(path: &std::path::Path) -> Source<std::fs::File> {
    Source {
        name: path.display().to_string(),
        reader: std::fs::File::open(path).unwrap(),
    }
}

#[test]
fn a_small_generated_month_imports_whole_in_the_counts_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let month = generate(dir.path(), &SMALL).unwrap();
    assert_eq!(month.price_lists.len(), 12);
    assert_eq!(month.markets.len(), 12);
    let per_market = month.rows / 12;
    assert!(
        (300..=500).contains(&per_market),
        "about 400 rows a market, got {per_market}"
    );
    let data = import_month(
        Month::parse("m", "2026-12").unwrap(),
        open(&month.offer_matrix),
        month.price_lists.iter().map(|p| open(p)).collect(),
        &ImportLimits::default(),
    )
    .unwrap_or_else(|report| panic!("the generated month is refused: {report:?}"));
    assert_eq!(data.products.len(), month.products);
    assert_eq!(data.skus.len(), month.skus);
    assert_eq!(data.availabilities.len() as u64, month.availabilities);
    let terms: usize = data.availabilities.iter().map(|a| a.terms.len()).sum();
    assert_eq!(
        terms as u64, month.rows,
        "every row is one term of an availability"
    );
    let segments: std::collections::HashSet<_> =
        data.availabilities.iter().map(|a| a.segment).collect();
    assert_eq!(
        segments.len(),
        4,
        "commercial, nonprofit, education and government rows"
    );
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let first = generate(a.path(), &SMALL).unwrap();
    let again = generate(b.path(), &SMALL).unwrap();
    let other = generate(c.path(), &MonthShape { seed: 8, ..SMALL }).unwrap();
    for (x, y) in first.price_lists.iter().zip(&again.price_lists) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
    }
    assert_eq!(
        std::fs::read(&first.offer_matrix).unwrap(),
        std::fs::read(&again.offer_matrix).unwrap()
    );
    assert_ne!(
        std::fs::read(&first.price_lists[0]).unwrap(),
        std::fs::read(&other.price_lists[0]).unwrap()
    );
}
