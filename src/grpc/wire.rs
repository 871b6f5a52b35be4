//! The hot answers, assembled from pre-encoded parts.
//!
//! Each type here is wire-identical to the public message of the same name: where the public
//! message has a message field, this one has a `bytes` field with the same tag, and both are
//! encoded as a length-delimited record. Clients (ours in `pb` included) decode them as the
//! public messages; reflection describes the public ones. The server encodes each product, SKU,
//! availability and offer once per catalog snapshot (`EncodedCatalogs`) and each published change
//! and each broadcast batch once (`CHANGE_WIRE_FORMS`); every answer then copies those bytes
//! instead of encoding the same messages again on every call, for every subscriber.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;

use super::{convert, pb};
use crate::domain::catalog::{Availability, Catalog, Product, SkuView};
use crate::domain::changes::CatalogChange;
use crate::domain::ids::ProductId;
use crate::domain::subscription::SubscriptionEvent;
use crate::service::feed::{EventForms, WireForms};

/// `csp.commerce.v1.ListProductsResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListProductsResponse {
    /// Encoded `Product`s.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub products: Vec<Bytes>,
    /// Encoded `Sku`s.
    #[prost(bytes = "bytes", repeated, tag = "2")]
    pub skus: Vec<Bytes>,
    #[prost(string, tag = "3")]
    pub next_page_token: String,
    #[prost(int32, tag = "4")]
    pub total_size: i32,
}

/// `csp.commerce.v1.GetSkuResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct GetSkuResponse {
    /// An encoded `Sku` (never empty: every SKU has ids).
    #[prost(bytes = "bytes", tag = "1")]
    pub sku: Bytes,
}

/// `csp.commerce.v1.ListSkusResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListSkusResponse {
    /// Encoded `Sku`s.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub skus: Vec<Bytes>,
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

/// `csp.commerce.v1.ListAvailabilitiesResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListAvailabilitiesResponse {
    /// Encoded `Availability`s.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub availabilities: Vec<Bytes>,
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

/// `csp.commerce.v1.ListOffersResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListOffersResponse {
    /// Encoded `Offer`s.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub offers: Vec<Bytes>,
    #[prost(string, tag = "2")]
    pub next_page_token: String,
    #[prost(int32, tag = "3")]
    pub total_size: i32,
    #[prost(message, repeated, tag = "4")]
    pub customer_problems: Vec<pb::PurchaseProblem>,
}

/// `csp.commerce.v1.WatchCatalogChangesResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct WatchCatalogChangesResponse {
    #[prost(oneof = "watch_catalog_changes_response::Event", tags = "1, 2")]
    pub event: Option<watch_catalog_changes_response::Event>,
}

pub mod watch_catalog_changes_response {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Event {
        /// An encoded `CatalogChangeBatch` (`encode_batch`).
        #[prost(bytes = "bytes", tag = "1")]
        Changes(bytes::Bytes),
        #[prost(message, tag = "2")]
        Progress(super::pb::WatchProgress),
    }
}

/// `csp.commerce.v1.WatchSubscriptionEventsResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct WatchSubscriptionEventsResponse {
    #[prost(oneof = "watch_subscription_events_response::Event", tags = "1, 2")]
    pub event: Option<watch_subscription_events_response::Event>,
}

pub mod watch_subscription_events_response {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Event {
        /// An encoded `SubscriptionEventBatch` (`encode_batch`: its events are field 1 too).
        #[prost(bytes = "bytes", tag = "1")]
        Events(bytes::Bytes),
        #[prost(message, tag = "2")]
        Progress(super::pb::WatchProgress),
    }
}

/// How the subscription-event feed puts events on the wire: each encoded once, shared by
/// every stream of the partner.
pub const EVENT_WIRE_FORMS: EventForms = EventForms {
    event: encode_subscription_event,
    batch: encode_batch,
};

/// A subscription event as it goes on the wire.
pub fn encode_subscription_event(event: &SubscriptionEvent) -> Bytes {
    convert::subscription_event(event).encode_to_vec().into()
}

/// How the change feed puts changes on the wire.
pub const CHANGE_WIRE_FORMS: WireForms = WireForms {
    change: encode_change,
    batch: encode_batch,
    compress: compress_changes_message,
};

/// Batches smaller than this go uncompressed: not worth a subscriber's inflating.
const COMPRESS_FROM: usize = 1024;

/// zstd's level for broadcast batches: made once per publish, inflated by every subscriber,
/// and zstd inflates at the same speed whatever the level.
const ZSTD_LEVEL: i32 = 9;

/// `WatchCatalogChangesResponse { changes: batch }` compressed with zstd, as a gRPC message of
/// a stream whose `grpc-encoding` is `zstd` carries it.
pub fn compress_changes_message(batch: &Bytes) -> Option<Bytes> {
    if batch.len() < COMPRESS_FROM {
        return None;
    }
    let mut message = BytesMut::with_capacity(batch.len() + 11);
    prost::encoding::bytes::encode(1, batch, &mut message);
    match zstd::bulk::compress(&message, ZSTD_LEVEL) {
        Ok(compressed) if compressed.len() < message.len() => {
            tracing::debug!(
                bytes = message.len(),
                compressed = compressed.len(),
                "a broadcast batch compressed"
            );
            Some(compressed.into())
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "compressing a batch of changes failed; sending it as is");
            None
        }
    }
}

/// A published change as it goes on the wire: encoded once, shared by every subscriber.
pub fn encode_change(change: &CatalogChange) -> Bytes {
    convert::change(change).encode_to_vec().into()
}

/// `CatalogChangeBatch { changes }` from the changes' encodings: field 1, repeated.
pub fn encode_batch(changes: &[Bytes]) -> Bytes {
    let len = changes
        .iter()
        .map(|c| prost::encoding::bytes::encoded_len(1, c))
        .sum();
    let mut out = BytesMut::with_capacity(len);
    for change in changes {
        prost::encoding::bytes::encode(1, change, &mut out);
    }
    out.freeze()
}

/// `Product.sku_count`'s field number: the one field of a product that depends on the request.
const SKU_COUNT_TAG: u32 = 9;

/// The products, SKUs and availabilities of one snapshot, encoded: products and SKUs when
/// the snapshot is first used (a few thousand), each availability the first time an answer
/// holds it (a million at the full size: encoding them all would delay the first answer by
/// seconds and hold their bytes even if never asked for). Kept by position in the snapshot.
#[derive(Debug)]
pub struct EncodedCatalog {
    catalog: Arc<Catalog>,
    /// Without `sku_count`, which each answer appends.
    products: HashMap<ProductId, Bytes>,
    skus: Vec<Bytes>,
    /// The same without `countries`, for listings (`CATALOG_VIEW_SKU`).
    listed_skus: Vec<Bytes>,
    availabilities: Vec<OnceLock<Bytes>>,
    /// Each availability's `Offer`s, one per term, in term order (made with its first offer).
    offers: Vec<OnceLock<Vec<Bytes>>>,
}

impl EncodedCatalog {
    fn new(catalog: Arc<Catalog>) -> Self {
        let mut products = HashMap::new();
        let mut skus = Vec::new();
        let mut listed_skus = Vec::new();
        for view in catalog.all_skus() {
            products
                .entry(view.product.id.clone())
                .or_insert_with(|| encode(&convert::product(view.product, 0)));
            let mut sku = convert::sku(&view);
            skus.push(encode(&sku));
            sku.countries = Vec::new();
            listed_skus.push(encode(&sku));
        }
        let availabilities = (0..catalog.counts().2).map(|_| OnceLock::new()).collect();
        let offers = (0..catalog.counts().2).map(|_| OnceLock::new()).collect();
        Self {
            catalog,
            products,
            skus,
            listed_skus,
            availabilities,
            offers,
        }
    }

    /// The bytes of the encodings made so far.
    pub fn bytes(&self) -> usize {
        let held = |b: &Bytes| b.len() + std::mem::size_of::<Bytes>();
        self.products.values().map(held).sum::<usize>()
            + self.skus.iter().map(held).sum::<usize>()
            + self.listed_skus.iter().map(held).sum::<usize>()
            + self.availabilities.len() * std::mem::size_of::<OnceLock<Bytes>>()
            + self
                .availabilities
                .iter()
                .filter_map(OnceLock::get)
                .map(Bytes::len)
                .sum::<usize>()
    }

    /// `product` with `sku_count` SKUs.
    pub fn product(&self, product: &Product, sku_count: usize) -> Bytes {
        let count = i32::try_from(sku_count).unwrap_or(i32::MAX);
        let Some(encoded) = self.products.get(&product.id) else {
            // Not of this snapshot (never, as callers pass its own products): encode it whole.
            return encode(&convert::product(product, sku_count));
        };
        if count == 0 {
            return encoded.clone();
        }
        let mut out = BytesMut::with_capacity(encoded.len() + 6);
        out.put_slice(encoded);
        prost::encoding::int32::encode(SKU_COUNT_TAG, &count, &mut out);
        out.freeze()
    }

    /// `view` must be of this snapshot (its position says which SKU it is).
    pub fn sku(&self, view: &SkuView<'_>) -> Bytes {
        self.skus
            .get(view.position)
            .cloned()
            .unwrap_or_else(|| encode(&convert::sku(view)))
    }

    /// `view` without its countries (a listing's SKU view), as [`EncodedCatalog::sku`].
    pub fn listed_sku(&self, view: &SkuView<'_>) -> Bytes {
        self.listed_skus
            .get(view.position)
            .cloned()
            .unwrap_or_else(|| {
                let mut sku = convert::sku(view);
                sku.countries = Vec::new();
                encode(&sku)
            })
    }

    pub fn availability(&self, availability: &Availability) -> Bytes {
        let encode_it = || encode(&convert::availability(availability, &self.catalog));
        match self
            .catalog
            .availability_position(availability)
            .and_then(|i| self.availabilities.get(i))
        {
            Some(cell) => cell.get_or_init(encode_it).clone(),
            // Not of this snapshot (never, as callers pass its own): encoded for this answer.
            None => encode_it(),
        }
    }

    /// The offer of `availability` (of `view`) at its term at index `term`.
    pub fn offer(&self, view: &SkuView<'_>, availability: &Availability, term: usize) -> Bytes {
        let encode_all = || {
            availability
                .terms
                .iter()
                .map(|t| encode(&convert::offer(view, availability, t)))
                .collect::<Vec<_>>()
        };
        let position = self.catalog.availability_position(availability);
        match position.and_then(|i| self.offers.get(i)) {
            Some(cell) => cell.get_or_init(encode_all).get(term).cloned(),
            // Not of this snapshot (never, as callers pass its own): encoded for this answer.
            None => availability
                .terms
                .get(term)
                .map(|t| encode(&convert::offer(view, availability, t))),
        }
        .unwrap_or_default()
    }
}

fn encode(message: &impl Message) -> Bytes {
    message.encode_to_vec().into()
}

/// The encoded form of the current snapshot, made on first use after each swap: a cache
/// invalidated by the swap itself (another snapshot is encoded afresh). Past months read as
/// of (an older month than the current's) are encoded apart, so they never displace it.
#[derive(Debug, Default)]
pub struct EncodedCatalogs {
    current: Mutex<Option<Arc<EncodedCatalog>>>,
    /// Past months' encodings, each kept while the service keeps its snapshot: one whose
    /// snapshot only this list still holds (the service forgot the month) is dropped.
    past: Mutex<Vec<Arc<EncodedCatalog>>>,
}

/// Past months encoded at most (the service's byte budget usually keeps fewer).
const MAX_PAST_ENCODED: usize = 16;

impl EncodedCatalogs {
    pub fn of(&self, catalog: &Arc<Catalog>) -> Arc<EncodedCatalog> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match &*current {
            Some(encoded) if Arc::ptr_eq(&encoded.catalog, catalog) => encoded.clone(),
            Some(encoded) if catalog.month() < encoded.catalog.month() => {
                drop(current);
                self.of_past(catalog)
            }
            _ => {
                // A few milliseconds once per published month; callers of that month wait.
                let encoded = Arc::new(EncodedCatalog::new(catalog.clone()));
                *current = Some(encoded.clone());
                encoded
            }
        }
    }

    fn of_past(&self, catalog: &Arc<Catalog>) -> Arc<EncodedCatalog> {
        let mut past = self.past.lock().unwrap_or_else(PoisonError::into_inner);
        // Held only here (and by `catalog`'s caller when it is the one asked for): forgotten.
        past.retain(|e| Arc::ptr_eq(&e.catalog, catalog) || Arc::strong_count(&e.catalog) > 1);
        if let Some(encoded) = past.iter().find(|e| Arc::ptr_eq(&e.catalog, catalog)) {
            return encoded.clone();
        }
        let encoded = Arc::new(EncodedCatalog::new(catalog.clone()));
        if past.len() >= MAX_PAST_ENCODED {
            past.remove(0);
        }
        past.push(encoded.clone());
        encoded
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Byte for byte what encoding the public message gives: clients cannot tell, and neither
    /// can a load generator that compares answers.
    #[test]
    fn pre_encoded_parts_are_the_public_messages_encodings() {
        let catalog = Arc::new(crate::demo::catalog().unwrap());
        let encoded = EncodedCatalogs::default().of(&catalog);
        let mut availabilities = 0;
        for view in catalog.all_skus() {
            for count in [0, 1, 300] {
                assert_eq!(
                    encoded.product(view.product, count),
                    convert::product(view.product, count).encode_to_vec()
                );
            }
            assert_eq!(encoded.sku(&view), convert::sku(&view).encode_to_vec());
            let listed = pb::Sku {
                countries: Vec::new(),
                ..convert::sku(&view)
            };
            assert_eq!(encoded.listed_sku(&view), listed.encode_to_vec());
            for a in view.availabilities {
                assert_eq!(
                    encoded.availability(a),
                    convert::availability(a, &catalog).encode_to_vec()
                );
                for (i, t) in a.terms.iter().enumerate() {
                    assert_eq!(
                        encoded.offer(&view, a, i),
                        convert::offer(&view, a, t).encode_to_vec()
                    );
                }
                availabilities += 1;
            }
        }
        assert!(availabilities > 1000, "the demo catalog has availabilities");

        let view = catalog.all_skus().next().unwrap();
        let answer = ListProductsResponse {
            products: vec![encoded.product(view.product, 2)],
            skus: vec![encoded.sku(&view)],
            next_page_token: "next".into(),
            total_size: 7,
        };
        let public = pb::ListProductsResponse::decode(answer.encode_to_vec().as_slice()).unwrap();
        assert_eq!(public.products, vec![convert::product(view.product, 2)]);
        assert_eq!(public.skus, vec![convert::sku(&view)]);
        assert_eq!(
            (public.next_page_token.as_str(), public.total_size),
            ("next", 7)
        );

        let change = CatalogChange {
            revision: 42,
            month: catalog.month().unwrap(),
            kind: crate::domain::changes::ChangeKind::Changed,
            product_id: view.product.id.to_string(),
            sku_id: view.sku.id.to_string(),
            availability_id: String::new(),
            country: String::new(),
            segment: None,
            product_type: view.product.product_type,
            fields: vec![crate::domain::changes::FieldChange {
                field: "max_quantity".into(),
                before: "300".into(),
                after: "500".into(),
            }],
        };
        let stream = WatchCatalogChangesResponse {
            event: Some(watch_catalog_changes_response::Event::Changes(
                encode_batch(&[encode_change(&change), encode_change(&change)]),
            )),
        };
        let public =
            pb::WatchCatalogChangesResponse::decode(stream.encode_to_vec().as_slice()).unwrap();
        let Some(pb::watch_catalog_changes_response::Event::Changes(batch)) = public.event else {
            panic!("a batch of changes decodes as one");
        };
        assert_eq!(batch.changes, vec![convert::change(&change); 2]);

        let many: Vec<Bytes> = (0..50).map(|_| encode_change(&change)).collect();
        let compressed = compress_changes_message(&encode_batch(&many)).unwrap();
        let inflated = zstd::bulk::decompress(&compressed, 1 << 20).unwrap();
        let public = pb::WatchCatalogChangesResponse::decode(inflated.as_slice()).unwrap();
        let Some(pb::watch_catalog_changes_response::Event::Changes(batch)) = public.event else {
            panic!("a compressed batch of changes inflates to one");
        };
        assert_eq!(batch.changes, vec![convert::change(&change); 50]);
    }
}
