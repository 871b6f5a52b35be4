//! The snapshot's listing indexes, built once per snapshot: SKUs by (country, segment), by
//! segment and by product type, and the words of their ids, titles and descriptions. A
//! listing intersects the lists its filter names instead of scanning every SKU.
//!
//! Every list holds SKU positions (into the snapshot's sorted SKUs), sorted and without
//! repeats, so a union is a merge and an intersection a walk.

use std::collections::HashMap;

use super::{ProductType, Segment};
use crate::domain::ids::CountryCode;

#[derive(Debug, Default)]
pub(super) struct ListingIndex {
    by_place: HashMap<(CountryCode, Segment), Vec<u32>>,
    by_segment: HashMap<Segment, Vec<u32>>,
    by_type: HashMap<ProductType, Vec<u32>>,
    /// Each distinct whitespace-separated token of the SKUs' search texts, sorted, with the
    /// SKUs whose text holds it. A query word (it holds no whitespace) is found in a text
    /// exactly when it is inside one of the text's tokens, so scanning the distinct tokens
    /// answers `text.contains(word)` for every SKU at once.
    words: Vec<(Box<str>, Vec<u32>)>,
}

/// What one SKU contributes to the index.
pub(super) struct IndexedSku<'a> {
    pub product_type: ProductType,
    /// Every (country, segment) it is sold to.
    pub places: Vec<(CountryCode, Segment)>,
    pub search_text: &'a str,
}

impl ListingIndex {
    /// `skus` in position order.
    pub(super) fn build<'a>(skus: impl Iterator<Item = IndexedSku<'a>>) -> Self {
        let mut index = Self::default();
        let mut words: HashMap<&'a str, Vec<u32>> = HashMap::new();
        for (i, sku) in skus.enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            for listed in sku.product_type.listed_under() {
                index.by_type.entry(*listed).or_default().push(i);
            }
            for place in sku.places {
                push_once(index.by_place.entry(place).or_default(), i);
                push_once(index.by_segment.entry(place.1).or_default(), i);
            }
            for token in sku.search_text.split_whitespace() {
                push_once(words.entry(token).or_default(), i);
            }
        }
        let mut words: Vec<(Box<str>, Vec<u32>)> =
            words.into_iter().map(|(w, l)| (w.into(), l)).collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        index.words = words;
        index
    }

    /// SKUs sold to `country` (any when `None`) in `segment` (`None`: any but nonprofit).
    pub(super) fn placed(
        &self,
        country: Option<CountryCode>,
        segment: Option<Segment>,
    ) -> Vec<u32> {
        let segments: Vec<Segment> = match segment {
            Some(s) => vec![s],
            None => Segment::ALL
                .iter()
                .copied()
                .filter(|s| *s != Segment::Nonprofit)
                .collect(),
        };
        let lists: Vec<&[u32]> = segments
            .iter()
            .filter_map(|s| match country {
                Some(c) => self.by_place.get(&(c, *s)),
                None => self.by_segment.get(s),
            })
            .map(Vec::as_slice)
            .collect();
        union(&lists)
    }

    /// SKUs found under `product_type` (marketplace SaaS under online services too).
    pub(super) fn of_type(&self, product_type: ProductType) -> &[u32] {
        self.by_type.get(&product_type).map_or(&[], Vec::as_slice)
    }

    /// What its lists and words hold, in bytes (for the snapshot's footprint).
    pub(super) fn heap_bytes(&self) -> usize {
        let list = |l: &Vec<u32>| l.capacity() * 4;
        let entry = std::mem::size_of::<(CountryCode, Segment, Vec<u32>)>() + 1;
        self.by_place.values().map(list).sum::<usize>()
            + self.by_segment.values().map(list).sum::<usize>()
            + self.by_type.values().map(list).sum::<usize>()
            + (self.by_place.capacity() + self.by_segment.capacity() + self.by_type.capacity())
                * entry
            + self
                .words
                .iter()
                .map(|(w, l)| w.len() + list(l))
                .sum::<usize>()
            + self.words.capacity() * std::mem::size_of::<(Box<str>, Vec<u32>)>()
    }

    /// SKUs whose search text contains `word` (lower case, no whitespace).
    pub(super) fn containing(&self, word: &str) -> Vec<u32> {
        let lists: Vec<&[u32]> = self
            .words
            .iter()
            .filter(|(token, _)| token.contains(word))
            .map(|(_, list)| list.as_slice())
            .collect();
        union(&lists)
    }
}

fn push_once(list: &mut Vec<u32>, i: u32) {
    if list.last() != Some(&i) {
        list.push(i);
    }
}

/// The sorted union of sorted lists.
fn union(lists: &[&[u32]]) -> Vec<u32> {
    match lists {
        [] => Vec::new(),
        [one] => one.to_vec(),
        _ => {
            let mut all: Vec<u32> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    }
}

/// Keeps the members of `list` that are in `other` (both sorted).
pub(super) fn intersect(list: &mut Vec<u32>, other: &[u32]) {
    let mut j = 0;
    list.retain(|&x| {
        while j < other.len() && other[j] < x {
            j += 1;
        }
        j < other.len() && other[j] == x
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_and_intersections_of_sorted_lists() {
        assert_eq!(union(&[&[1, 4, 9], &[2, 4, 10]]), vec![1, 2, 4, 9, 10]);
        let mut list = vec![1, 2, 4, 9, 10];
        intersect(&mut list, &[0, 2, 3, 9, 11]);
        assert_eq!(list, vec![2, 9]);
    }

    #[test]
    fn a_word_finds_every_text_that_contains_it_even_inside_a_token() {
        let texts = ["office 365 e3", "windows e5 upgrade from e3", "e35 office"];
        let index = ListingIndex::build(texts.iter().map(|t| IndexedSku {
            product_type: ProductType::OnlineServices,
            places: Vec::new(),
            search_text: t,
        }));
        for word in ["e3", "offic", "5", "365", "from", "x", "e35"] {
            let scanned: Vec<u32> = (0..3)
                .filter(|&i| texts[i as usize].contains(word))
                .collect();
            assert_eq!(index.containing(word), scanned, "{word}");
        }
    }
}
