//! The offer matrix: one row per SKU, all markets in one file.

use std::collections::HashMap;
use std::io::Read;

use super::limits::{Capped, ImportLimits, clip};
use super::{Problems, Source};
use crate::domain::ids::{CountryCode, ProductId, SkuId};

pub const HEADER: &[&str] = &[
    "ProductTitle",
    "ProductId",
    "SkuId",
    "SkuTitle",
    "ProvisioningId",
    "ProvisioningString",
    "MinLicenses",
    "MaxLicenses",
    "AssetOwnershipLimit",
    "AssetOwnershipLimitType",
    "ProductSkuPreRequisites",
    "ProductSkuConversion",
    "Description",
    "AllowedCountries",
];

#[derive(Debug, Clone)]
pub struct Offer {
    pub sku_title: String,
    pub provisioning_id: String,
    pub min: i32,
    pub max: i32,
    pub seat_limit: Option<i32>,
    pub seat_limit_type: String,
    pub prerequisites: Vec<(ProductId, SkuId)>,
    /// `ProductSkuConversion`: the SKUs a trial converts to.
    pub conversions: Vec<(ProductId, SkuId)>,
    /// `AssetOwnershipLimit` of type `Concurrent`: subscriptions held at once.
    pub concurrent_limit: Option<i32>,
    /// `AssetOwnershipLimit` of type `Lifetime`: subscriptions ever held.
    pub lifetime_limit: Option<i32>,
    pub description: String,
    pub countries: Vec<CountryCode>,
}

#[derive(Debug, Default)]
pub struct Offers(HashMap<(ProductId, SkuId), Offer>);

impl Offers {
    pub fn get(&self, product: &ProductId, sku: &SkuId) -> Option<&Offer> {
        self.0.get(&(product.clone(), sku.clone()))
    }
}

pub fn read<R: Read>(source: Source<R>, limits: &ImportLimits, problems: &mut Problems) -> Offers {
    let file = source.name.as_str();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(Capped::new(source.reader, limits));
    let mut offers = Offers::default();
    match reader.headers() {
        Ok(header) if header.iter().eq(HEADER.iter().copied()) => {}
        Ok(header) => {
            problems.add(
                file,
                1,
                "",
                format!(
                    "the header is not the offer matrix's: {}",
                    super::header_mismatch(header.iter(), HEADER)
                ),
            );
            return offers;
        }
        Err(e) => {
            problems.csv_error(file, 1, &e);
            return offers;
        }
    }
    let mut pending_prerequisites = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index as u64 + 2;
        let record = match record {
            Ok(r) if r.len() == HEADER.len() => r,
            Ok(r) => {
                problems.add(
                    file,
                    row,
                    "",
                    format!("{} fields, expected {}", r.len(), HEADER.len()),
                );
                continue;
            }
            Err(e) => {
                if problems.csv_error(file, row, &e) {
                    continue;
                }
                break;
            }
        };
        let cell = |column: usize| record.get(column).unwrap_or("").trim();
        let mut ok = true;
        let mut id = |column: usize| -> Option<String> {
            let v = cell(column);
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                problems.add(
                    file,
                    row,
                    HEADER[column],
                    format!("{} is not an id", clip(v)),
                );
                ok = false;
                None
            } else {
                Some(v.to_owned())
            }
        };
        let (product, sku) = (id(1), id(2));
        let mut int = |column: usize, required: bool| -> Option<i32> {
            let v = cell(column);
            if v.is_empty() && !required {
                return None;
            }
            match v.parse::<i32>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    problems.add(
                        file,
                        row,
                        HEADER[column],
                        format!("{} is not a non-negative whole number", clip(v)),
                    );
                    ok = false;
                    None
                }
            }
        };
        let min = int(6, true).unwrap_or(0);
        let max = int(7, true).unwrap_or(0);
        // Only a `Seats` limit (or an untyped one) caps seats; `Lifetime` and `Concurrent` limits
        // count subscriptions.
        let limit = int(8, false).filter(|n| *n > 0);
        let limit_type = cell(9);
        let seat_limit = limit.filter(|_| matches!(limit_type, "" | "Seats"));
        let concurrent_limit = limit.filter(|_| limit_type == "Concurrent");
        let lifetime_limit = limit.filter(|_| limit_type == "Lifetime");
        if !matches!(
            limit_type,
            "" | "None" | "Seats" | "Concurrent" | "Lifetime"
        ) {
            problems.add(
                file,
                row,
                "AssetOwnershipLimitType",
                format!(
                    "{} is not Seats, Concurrent, Lifetime or None",
                    clip(limit_type)
                ),
            );
            ok = false;
        }
        if ok && min > max {
            problems.add(
                file,
                row,
                "MaxLicenses",
                format!("MaxLicenses {max} is below MinLicenses {min}"),
            );
            ok = false;
        }
        let mut countries = Vec::new();
        for code in cell(13).split(';').map(str::trim).filter(|c| !c.is_empty()) {
            match CountryCode::parse("AllowedCountries", code) {
                Ok(c) => countries.push(c),
                Err(_) => {
                    problems.add(
                        file,
                        row,
                        "AllowedCountries",
                        format!("{} is not a country code", clip(code)),
                    );
                    ok = false;
                }
            }
        }
        let mut sku_list = |column: usize| -> Vec<(ProductId, SkuId)> {
            let mut list = Vec::new();
            for pair in cell(column)
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let parsed = pair.split_once('/').and_then(|(p, s)| {
                    Some((ProductId::parse("p", p).ok()?, SkuId::parse("s", s).ok()?))
                });
                match parsed {
                    Some(key) => list.push(key),
                    None => {
                        problems.add(
                            file,
                            row,
                            HEADER[column],
                            format!("{} is not productId/skuId", clip(pair)),
                        );
                        ok = false;
                    }
                }
            }
            list
        };
        let prerequisites = sku_list(10);
        let conversions = sku_list(11);
        let (Some(product), Some(sku)) = (product, sku) else {
            continue;
        };
        let (Ok(product), Ok(sku)) = (
            ProductId::parse("ProductId", &product),
            SkuId::parse("SkuId", &sku),
        ) else {
            problems.add(file, row, "ProductId", "id too long");
            continue;
        };
        if !ok {
            continue;
        }
        if offers.0.contains_key(&(product.clone(), sku.clone())) {
            problems.add(file, row, "SkuId", format!("{product}/{sku} appears twice"));
            continue;
        }
        for key in &prerequisites {
            pending_prerequisites.push((row, "ProductSkuPreRequisites", key.clone()));
        }
        for key in &conversions {
            pending_prerequisites.push((row, "ProductSkuConversion", key.clone()));
        }
        offers.0.insert(
            (product, sku),
            Offer {
                sku_title: cell(3).to_owned(),
                provisioning_id: cell(4).to_owned(),
                min,
                max,
                seat_limit,
                seat_limit_type: cell(9).to_owned(),
                prerequisites,
                conversions,
                concurrent_limit,
                lifetime_limit,
                description: cell(12).to_owned(),
                countries,
            },
        );
    }
    // Prerequisites and conversion targets name SKUs of the same matrix.
    for (row, column, (product, sku)) in pending_prerequisites {
        if !offers.0.contains_key(&(product.clone(), sku.clone())) {
            let what = if column == "ProductSkuConversion" {
                "conversion target"
            } else {
                "prerequisite"
            };
            problems.add(
                file,
                row,
                column,
                format!("{what} {product}/{sku} is not in the offer matrix"),
            );
        }
    }
    offers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_matrix(month: &str) -> Offers {
        let path = format!(
            "{}/data/demo/{month}/offer-matrix.csv",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::fs::File::open(&path).unwrap();
        let mut problems = Problems::default();
        let offers = read(
            Source {
                name: path,
                reader: file,
            },
            &ImportLimits::default(),
            &mut problems,
        );
        assert!(problems.is_empty(), "{:?}", problems.report);
        offers
    }

    fn key(product: &str, sku: &str) -> (ProductId, SkuId) {
        (
            ProductId::parse("p", product).unwrap(),
            SkuId::parse("s", sku).unwrap(),
        )
    }

    #[test]
    fn conversion_targets_and_ownership_limits_are_read() {
        let offers = demo_matrix("2026-12");
        let get = |p: &str, s: &str| offers.get(&key(p, s).0, &key(p, s).1).unwrap();
        let trial = get("CFQ7TTC02ROY", "0004");
        assert_eq!(trial.conversions, [key("CFQ7TTC02ROY", "0001")]);
        assert_eq!(
            (
                trial.lifetime_limit,
                trial.concurrent_limit,
                trial.seat_limit
            ),
            (Some(1), None, None)
        );
        let business_central = get("CFQ7TTC0CS5N", "0004");
        assert_eq!(business_central.lifetime_limit, Some(2));
        let windows = get("CFQ7TTC040GW", "0001");
        assert_eq!(
            (windows.concurrent_limit, windows.lifetime_limit),
            (Some(2), None)
        );
        assert!(windows.conversions.is_empty());
        let e3 = get("CFQ7TTC02ROY", "0001");
        assert_eq!(
            (e3.seat_limit, e3.concurrent_limit, e3.lifetime_limit),
            (Some(300), None, None)
        );
    }

    /// The matrix against the real Partner Center offers it was made from (`data/partner-center`,
    /// copied from the shared fixtures): every trial's conversion target and every Lifetime or
    /// Concurrent limit of an offer the catalog sells is kept.
    #[test]
    fn the_real_offers_conversions_and_limits_survive_the_import() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/partner-center/GetPartnerOffer.response.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("the Partner Center fixture at {path}: {e}"));
        let real: serde_json::Value = serde_json::from_str(&text).unwrap();
        let offers = demo_matrix("2026-11");
        let by_offer_id: HashMap<String, &Offer> = offers
            .0
            .values()
            .map(|o| (o.provisioning_id.to_ascii_uppercase(), o))
            .collect();
        let (mut conversions, mut limits) = (0, 0);
        for offer in real["items"].as_array().unwrap() {
            let id = offer["id"].as_str().unwrap().to_ascii_uppercase();
            let Some(kept) = by_offer_id.get(&id) else {
                continue;
            };
            let limit = offer["limit"].as_i64().unwrap();
            match offer["limitUnitOfMeasure"].as_str().unwrap() {
                "Lifetime" if limit > 0 => {
                    assert_eq!(kept.lifetime_limit.map(i64::from), Some(limit), "{id}");
                    limits += 1;
                }
                "Concurrent" if limit > 0 => {
                    assert_eq!(kept.concurrent_limit.map(i64::from), Some(limit), "{id}");
                    limits += 1;
                }
                _ => assert_eq!((kept.lifetime_limit, kept.concurrent_limit), (None, None)),
            }
            let targets: Vec<String> = offer["conversionTargetOffers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_ascii_uppercase())
                .filter(|t| by_offer_id.contains_key(t))
                .collect();
            let kept_targets: Vec<String> = kept
                .conversions
                .iter()
                .map(|(p, s)| {
                    offers
                        .get(p, s)
                        .unwrap()
                        .provisioning_id
                        .to_ascii_uppercase()
                })
                .collect();
            assert_eq!(kept_targets, targets, "the conversion targets of {id}");
            conversions += usize::from(!targets.is_empty());
        }
        assert!(conversions >= 15, "{conversions} trials with targets");
        assert!(limits >= 25, "{limits} limits");
    }
}
