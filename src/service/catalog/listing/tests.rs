//! The listing cache: its budget, its segments, and which listing is kept.

use super::*;

fn listing(rows: usize) -> Listing {
    Listing {
        view: View::Sku,
        rows: vec![
            ListingRow {
                sku: 0,
                sku_count: 1
            };
            rows
        ],
        title_rows: None,
    }
}

fn held(cache: &ListingCache) -> usize {
    let state = cache.lock();
    state.probation_bytes + state.protected_bytes
}

#[test]
fn a_stream_of_distinct_searches_never_pushes_out_a_listing_in_repeated_use() {
    let budget = 64 << 10;
    let cache = ListingCache::new(budget);
    let catalog = Arc::new(Catalog::empty());
    let hot = cache.get_or_make(&catalog, "hot", || listing(100));
    let again = cache.get_or_make(&catalog, "hot", || listing(100));
    assert!(Arc::ptr_eq(&hot, &again), "kept on first use");
    for i in 0..10_000 {
        cache.get_or_make(&catalog, &format!("search {i}"), || listing(10));
        assert!(held(&cache) <= budget, "within the budget");
    }
    let after = cache.get_or_make(&catalog, "hot", || panic!("made again"));
    assert!(Arc::ptr_eq(&hot, &after));
    let state = cache.lock();
    assert!(state.entries.contains_key("search 9999"));
    assert!(
        !state.entries.contains_key("search 0"),
        "the oldest one-off went"
    );
    let kept: usize = state.entries.values().map(|e| e.bytes).sum();
    assert_eq!(kept, state.probation_bytes + state.protected_bytes);
}

#[test]
fn the_first_listing_kept_wins_and_another_snapshot_starts_empty() {
    let cache = ListingCache::new(1 << 20);
    let catalog = Arc::new(Catalog::empty());
    let first = cache.keep(&catalog, "q", Arc::new(listing(3)));
    let second = cache.keep(&catalog, "q", Arc::new(listing(3)));
    assert!(Arc::ptr_eq(&first, &second));
    let next = Arc::new(Catalog::empty());
    assert!(cache.get(&next, "q").is_none());
    let made = cache.get_or_make(&next, "q", || listing(2));
    assert_eq!(made.rows.len(), 2);
    assert!(
        cache.get(&catalog, "q").is_none(),
        "the old snapshot's are gone"
    );
}

#[test]
fn a_listing_larger_than_probation_is_answered_not_kept() {
    let cache = ListingCache::new(10 << 10);
    let catalog = Arc::new(Catalog::empty());
    let big = cache.get_or_make(&catalog, "big", || listing(1_000));
    assert_eq!(big.rows.len(), 1_000);
    assert!(cache.get(&catalog, "big").is_none());
    assert_eq!(held(&cache), 0);
}
