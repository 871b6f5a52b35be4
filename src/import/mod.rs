//! Reads the real Partner Center formats (DOMAIN.md section 7) into one month's catalog:
//! the NCE license-based price list CSVs (one market each) and the offer matrix CSV.
//!
//! Either every file is good and the whole month comes out, or the report lists each problem
//! with its file, row and column and nothing comes out.

mod dates;
pub mod files;
pub mod limits;
mod matrix;
mod pricelist;

pub use limits::{ImportLimits, clip};

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use crate::domain::catalog::{
    Availability, BillingType, CatalogData, Month, Product, ProductType, Segment, Sku, TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};

/// At most this many problems are reported; the rest are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 100;

/// One file to import.
pub struct Source<R> {
    pub name: String,
    pub reader: R,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    /// 1-based line of the CSV row (the header is row 1); 0 for the file as a whole.
    pub row: u64,
    pub column: String,
    pub message: String,
    /// A stable rule code: `BAD_FILE`, or the cap the file crossed (`RECORD_TOO_LONG`, ...).
    pub reason: &'static str,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.row)?;
        if !self.column.is_empty() {
            write!(f, " [{}]", self.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why an import failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ImportReport {
    pub problems: Vec<FileProblem>,
    /// Problems found beyond `MAX_REPORTED_PROBLEMS`.
    pub more: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the import failed with {} problem(s):",
            self.problems.len() + self.more
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        if self.more > 0 {
            writeln!(f, "  ... and {} more", self.more)?;
        }
        Ok(())
    }
}

/// Collects problems up to the limit.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    report: ImportReport,
}

impl Problems {
    pub(crate) fn add(&mut self, file: &str, row: u64, column: &str, message: impl Into<String>) {
        self.add_with(file, row, column, message.into(), "BAD_FILE");
    }

    fn add_with(
        &mut self,
        file: &str,
        row: u64,
        column: &str,
        message: String,
        reason: &'static str,
    ) {
        if self.report.problems.len() < MAX_REPORTED_PROBLEMS {
            self.report.problems.push(FileProblem {
                file: file.to_owned(),
                row,
                column: column.to_owned(),
                message,
                reason,
            });
        } else {
            self.report.more += 1;
        }
    }

    /// A CSV error. Reading stops after an I/O error (a cap crossed, a read failing): the
    /// reader would fail again at once. Returns whether reading may go on.
    pub(crate) fn csv_error(&mut self, file: &str, row: u64, error: &csv::Error) -> bool {
        let cap = match error.kind() {
            csv::ErrorKind::Io(e) => Some(
                e.get_ref()
                    .and_then(|inner| inner.downcast_ref::<limits::CapError>())
                    .map_or(("the file cannot be read".to_owned(), "UNREADABLE"), |c| {
                        (c.0.clone(), c.1.reason())
                    }),
            ),
            _ => None,
        };
        match cap {
            Some((message, reason)) => {
                self.add_with(file, row, "", message, reason);
                false
            }
            // The csv crate's messages name positions and counts, never content.
            None => {
                self.add(file, row, "", format!("unreadable CSV: {error}"));
                true
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.report.problems.is_empty()
    }
}

/// The first difference between a file's header and the expected one: the column's position
/// and the found name, cut short (a header is file content: it is never echoed whole).
fn header_mismatch<S: AsRef<str>>(found: impl IntoIterator<Item = S>, expected: &[&str]) -> String {
    let mut count = 0;
    for (i, name) in found.into_iter().enumerate() {
        count = i + 1;
        let name = name.as_ref();
        match expected.get(i) {
            Some(want) if *want == name => {}
            Some(want) => return format!("column {} is {}, expected {want:?}", i + 1, clip(name)),
            None => return format!("column {} ({}) is not expected", i + 1, clip(name)),
        }
    }
    format!("{count} columns, expected {}", expected.len())
}

/// Product-level facts read from the `Tags` column (`key=value` tokens joined by `;`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tags {
    pub product_type: ProductType,
    pub billing_type: BillingType,
    /// Shared by the rows that repeat it.
    pub category: std::sync::Arc<str>,
    pub trial: bool,
    pub reservation: bool,
}

/// A month read, but for its availabilities (which went to the sink file by file).
#[derive(Debug, Default)]
pub struct MonthRead {
    pub products: Vec<Product>,
    pub skus: Vec<Sku>,
    pub availabilities: usize,
    pub prices: usize,
}

/// Imports one month into memory (the demo catalog, tests). `as_of` prices are those in effect
/// at the month's first moment. Every file is read under `limits`' file and record caps (the
/// month cap is the caller's: it knows the sizes before reading).
pub fn import_month<M: Read, P: Read>(
    month: Month,
    offer_matrix: Source<M>,
    price_lists: Vec<Source<P>>,
    limits: &ImportLimits,
) -> Result<CatalogData, ImportReport> {
    let mut availabilities = Vec::new();
    let read = stream_month(month, offer_matrix, price_lists, limits, |mut part| {
        availabilities.append(&mut part);
        true
    })?;
    Ok(CatalogData {
        products: read.products,
        skus: read.skus,
        availabilities,
    })
}

/// Reads one month file by file, in memory bounded by one price list (a market's file, under
/// the file cap): each file's availabilities go to `sink` as soon as the file is read, as long
/// as no file so far had a problem (the rest is still read, to report every problem). `sink`
/// answers false to stop reading (its writes failed). Products and SKUs, a few thousand, come
/// back at the end. An error means the month is refused: what the sink was given is to be
/// thrown away.
pub fn stream_month<M: Read, P: Read>(
    month: Month,
    offer_matrix: Source<M>,
    price_lists: Vec<Source<P>>,
    limits: &ImportLimits,
    mut sink: impl FnMut(Vec<Availability>) -> bool,
) -> Result<MonthRead, ImportReport> {
    let mut problems = Problems::default();
    let offers = matrix::read(offer_matrix, limits, &mut problems);
    let mut assembly = Assembly::default();
    let mut markets: HashMap<CountryCode, String> = HashMap::new();
    let (mut availabilities, mut prices) = (0, 0);
    let mut rows = Vec::new();
    for source in price_lists {
        let file = source.name.clone();
        rows.clear();
        pricelist::read(source, limits, &offers, &mut rows, &mut problems);
        if let Some(market) = rows.first().map(|r| r.market) {
            match markets.get(&market) {
                Some(other) => problems.add(
                    &file,
                    0,
                    "Market",
                    format!(
                        "market {market} is already priced by {}: one file per market",
                        clip(other)
                    ),
                ),
                None => {
                    markets.insert(market, file);
                }
            }
        }
        if !problems.is_empty() {
            continue;
        }
        let part = assembly.availabilities(month, &offers, std::mem::take(&mut rows));
        availabilities += part.len();
        prices += part.iter().map(|a| a.terms.len()).sum::<usize>();
        if !sink(part) {
            break;
        }
    }
    if !problems.is_empty() {
        return Err(problems.report);
    }
    let (products, skus) = assembly.finish(&offers);
    Ok(MonthRead {
        products,
        skus,
        availabilities,
        prices,
    })
}

/// The products and SKUs met so far.
#[derive(Default)]
struct Assembly {
    products: BTreeMap<ProductId, Product>,
    sku_meta: BTreeMap<(ProductId, SkuId), (Tags, String)>,
}

impl Assembly {
    /// Resolves one market's price rows into its availabilities (each market is in one file,
    /// so no availability spans two calls).
    fn availabilities(
        &mut self,
        month: Month,
        offers: &matrix::Offers,
        rows: Vec<pricelist::PriceRow>,
    ) -> Vec<Availability> {
        let start = month.start();
        let end = month.next().start();
        // (product, sku, country, segment) -> (term, cycle) -> candidate rows
        let mut grouped: BTreeMap<
            (ProductId, SkuId, CountryCode, Segment),
            BTreeMap<_, Vec<pricelist::PriceRow>>,
        > = BTreeMap::new();
        for row in rows {
            if !self.products.contains_key(&row.product_id) {
                self.products.insert(
                    row.product_id.clone(),
                    Product {
                        id: row.product_id.clone(),
                        title: row.product_title.to_string(),
                        description: String::new(),
                        product_type: row.tags.product_type,
                        publisher: row.publisher.to_string(),
                        billing_type: row.tags.billing_type,
                        category: row.tags.category.to_string(),
                    },
                );
            }
            self.sku_meta
                .entry((row.product_id.clone(), row.sku_id.clone()))
                .or_insert_with(|| (row.tags.clone(), row.unit_of_measure.to_string()));
            grouped
                .entry((
                    row.product_id.clone(),
                    row.sku_id.clone(),
                    row.market,
                    row.segment,
                ))
                .or_default()
                .entry((row.term, row.billing_cycle))
                .or_default()
                .push(row);
        }

        let mut availabilities = Vec::new();
        for ((product, sku, country, segment), by_term) in grouped {
            // Availabilities are sold only when their SKU is.
            if offers.get(&product, &sku).is_none() {
                continue;
            }
            let mut terms = Vec::new();
            let mut currency = None;
            for ((term, billing_cycle), candidates) in by_term {
                // The row whose range holds the month's first moment wins, latest start
                // first; failing that, the earliest row starting inside the month.
                let holding = candidates
                    .iter()
                    .filter(|r| r.start <= start && r.end.is_none_or(|e| e > start))
                    .max_by_key(|r| r.start);
                let later = || {
                    candidates
                        .iter()
                        .filter(|r| r.start > start && r.start < end)
                        .min_by_key(|r| r.start)
                };
                let Some(row) = holding.or_else(later) else {
                    continue;
                };
                currency = Some(row.price.currency);
                terms.push(TermPrice {
                    term,
                    billing_cycle,
                    unit_price: row.price,
                    erp_price: row.erp_price,
                    effective_start: row.start,
                    effective_end: row.end_of_sale.or(row.end).filter(|e| *e < end).or(row.end),
                });
            }
            let Some(currency) = currency else { continue };
            let end_of_sale = terms
                .iter()
                .filter_map(|t| t.effective_end)
                .filter(|e| *e < end)
                .min();
            availabilities.push(Availability {
                id: AvailabilityId::derive(&product, &sku, &country, segment.as_str()),
                product_id: product,
                sku_id: sku,
                country,
                segment,
                currency,
                terms: terms.into(),
                end_of_sale,
            });
        }
        availabilities
    }

    /// The month's products and the SKUs the offer matrix sells.
    fn finish(self, offers: &matrix::Offers) -> (Vec<Product>, Vec<Sku>) {
        let mut products = self.products;
        let mut skus: Vec<Sku> = Vec::new();
        for ((product_id, sku_id), (tags, unit_of_measure)) in self.sku_meta {
            let Some(offer) = offers.get(&product_id, &sku_id) else {
                continue;
            };
            if let Some(product) = products.get_mut(&product_id)
                && product.description.is_empty()
            {
                product.description.clone_from(&offer.description);
            }
            skus.push(Sku {
                product_id,
                id: sku_id,
                title: offer.sku_title.clone(),
                description: offer.description.clone(),
                min_quantity: offer.min,
                max_quantity: offer.max,
                is_trial: tags.trial,
                prerequisites: offer.prerequisites.clone(),
                seat_limit: offer.seat_limit,
                seat_limit_type: offer.seat_limit_type.clone(),
                unit_of_measure,
                category: tags.category.to_string(),
                is_reservation: tags.reservation,
                provisioning_id: offer.provisioning_id.clone(),
                conversions: offer.conversions.clone(),
                concurrent_limit: offer.concurrent_limit,
                lifetime_limit: offer.lifetime_limit,
            });
        }
        (products.into_values().collect(), skus)
    }
}
