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
        if !matches!(limit_type, "" | "None" | "Seats" | "Concurrent" | "Lifetime") {
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
            for pair in cell(column).split(',').map(str::trim).filter(|p| !p.is_empty()) {
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
