//! The NCE license-based price list: one market per file.

use std::cell::RefCell;
use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::dates::{self, Cell};
use super::limits::{Capped, ECHO_CHARS, ImportLimits, clip};
use super::matrix::Offers;
use super::{Problems, Source, Tags};
use crate::domain::catalog::{BillingCycle, BillingType, ProductType, Segment, Term};
use crate::domain::ids::{CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

/// Every column up to `ERP Price`; then `Segment` (absent in older files) and `EndofSaleDate`
/// (previews only).
pub const HEADER: &[&str] = &[
    "ProductTitle",
    "ProductId",
    "SkuId",
    "SkuTitle",
    "Publisher",
    "SkuDescription",
    "UnitOfMeasure",
    "TermDuration",
    "BillingPlan",
    "Market",
    "Currency",
    "UnitPrice",
    "PricingTierRangeMin",
    "PricingTierRangeMax",
    "EffectiveStartDate",
    "EffectiveEndDate",
    "Tags",
    "ERP Price",
];

const SEGMENT: &str = "Segment";
const END_OF_SALE: &str = "EndofSaleDate";

#[derive(Debug, Clone)]
pub struct PriceRow {
    pub product_id: ProductId,
    pub sku_id: SkuId,
    pub product_title: Arc<str>,
    pub publisher: Arc<str>,
    pub unit_of_measure: Arc<str>,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub market: CountryCode,
    pub segment: Segment,
    pub price: Money,
    pub erp_price: Money,
    pub start: DateTime<Utc>,
    /// `None`: open end.
    pub end: Option<DateTime<Utc>>,
    pub end_of_sale: Option<DateTime<Utc>>,
    pub tags: Tags,
}

fn column(name: &str) -> usize {
    HEADER.iter().position(|h| *h == name).unwrap_or(usize::MAX)
}

/// The cells of the row before, parsed: a market's rows come SKU by SKU, each SKU's terms
/// and segments one after the other, so most rows repeat the ids, texts and tags of the row
/// before, and share them instead of parsing and copying them again.
#[derive(Default)]
struct Before {
    product: Option<ProductId>,
    sku: Option<SkuId>,
    product_title: Arc<str>,
    publisher: Arc<str>,
    unit_of_measure: Arc<str>,
    tags: Option<(String, Tags)>,
}

impl Before {
    fn text(kept: &mut Arc<str>, text: &str) -> Arc<str> {
        if &**kept != text {
            *kept = text.into();
        }
        kept.clone()
    }
}

pub fn read<R: Read>(
    source: Source<R>,
    limits: &ImportLimits,
    offers: &Offers,
    out: &mut Vec<PriceRow>,
    problems: &mut Problems,
) {
    let file = source.name.as_str();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(Capped::new(source.reader, limits));
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            problems.csv_error(file, 1, &e);
            return;
        }
    };
    let base_ok = header.len() >= HEADER.len() && header.iter().zip(HEADER).all(|(a, b)| a == b);
    let extra: Vec<&str> = header
        .iter()
        .skip(HEADER.len())
        .map(String::as_str)
        .collect();
    let (segment_at, end_of_sale_at) = match extra.as_slice() {
        [] => (None, None),
        [SEGMENT] => (Some(HEADER.len()), None),
        [SEGMENT, END_OF_SALE] => (Some(HEADER.len()), Some(HEADER.len() + 1)),
        [END_OF_SALE] => (None, Some(HEADER.len())),
        _ => (None, Some(usize::MAX)),
    };
    if !base_ok || end_of_sale_at == Some(usize::MAX) {
        problems.add(
            file,
            1,
            "",
            format!(
                "the header is not an NCE license-based price list's (then optionally Segment and EndofSaleDate): {}",
                super::header_mismatch(header.iter(), &expected_header(&header))
            ),
        );
        return;
    }
    let mut market: Option<(CountryCode, Currency)> = None;
    let mut before = Before::default();
    // One record, read into again and again.
    let mut record = csv::StringRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(true) if record.len() == header.len() => {}
            Ok(true) => {
                problems.add(
                    file,
                    row,
                    "",
                    format!("{} fields, expected {}", record.len(), header.len()),
                );
                continue;
            }
            Ok(false) => break,
            Err(e) => {
                if problems.csv_error(file, row, &e) {
                    continue;
                }
                break;
            }
        }
        let cell = |name: &str| record.get(column(name)).unwrap_or("").trim();
        let errors = RefCell::new(Vec::new());
        let bad = |col: &str, message: String| errors.borrow_mut().push((col.to_owned(), message));

        let product = match &before.product {
            Some(p) if p.as_str() == cell("ProductId") => Some(p.clone()),
            _ => ProductId::parse("ProductId", cell("ProductId"))
                .map_err(|_| {
                    bad(
                        "ProductId",
                        format!("{} is not a product id", clip(cell("ProductId"))),
                    )
                })
                .ok(),
        };
        let sku = match &before.sku {
            Some(s) if s.as_str() == cell("SkuId") => Some(s.clone()),
            _ => SkuId::parse("SkuId", cell("SkuId"))
                .map_err(|_| bad("SkuId", format!("{} is not a SKU id", clip(cell("SkuId")))))
                .ok(),
        };
        let term = match cell("TermDuration") {
            "P1M" => Some(Term::P1M),
            "P1Y" => Some(Term::P1Y),
            "P3Y" => Some(Term::P3Y),
            "" => Some(Term::None),
            other => {
                bad(
                    "TermDuration",
                    format!("{} is not P1M, P1Y, P3Y or empty (perpetual)", clip(other)),
                );
                None
            }
        };
        let billing_cycle = match cell("BillingPlan") {
            "Monthly" => Some(BillingCycle::Monthly),
            "Annual" => Some(BillingCycle::Annual),
            "Triennial" => Some(BillingCycle::Triennial),
            "OneTime" => Some(BillingCycle::OneTime),
            "None" => Some(BillingCycle::None),
            other => {
                bad(
                    "BillingPlan",
                    format!(
                        "{} is not Monthly, Annual, Triennial, OneTime or None",
                        clip(other)
                    ),
                );
                None
            }
        };
        if term == Some(Term::None) && billing_cycle != Some(BillingCycle::OneTime) {
            bad(
                "BillingPlan",
                "a row without TermDuration (perpetual) must be billed OneTime".into(),
            );
        }
        let country = CountryCode::parse("Market", cell("Market"))
            .map_err(|_| {
                bad(
                    "Market",
                    format!("{} is not a country code", clip(cell("Market"))),
                )
            })
            .ok();
        let currency = Currency::parse("Currency", cell("Currency"))
            .map_err(|_| {
                bad(
                    "Currency",
                    format!("{} is not an ISO 4217 currency", clip(cell("Currency"))),
                )
            })
            .ok();
        if let (Some(country), Some(currency)) = (country, currency) {
            match market {
                None => market = Some((country, currency)),
                Some((m, _)) if m != country => bad(
                    "Market",
                    format!("one market per file: this file is for {m}, this row for {country}"),
                ),
                Some((m, c)) if c != currency => bad(
                    "Currency",
                    format!("market {m} is priced in {c} in this file; this row says {currency}"),
                ),
                Some(_) => {}
            }
        }
        let money = |name: &str| -> Option<Money> {
            let currency = currency?;
            let text = cell(name);
            // parse_amount echoes the text whole: a long one is refused here, cut short.
            if text.chars().count() > ECHO_CHARS {
                bad(name, format!("{} is not a decimal number", clip(text)));
                return None;
            }
            Money::parse_amount(currency, text)
                .map_err(|e| bad(name, e))
                .ok()
        };
        let price = money("UnitPrice");
        let erp_price = if cell("ERP Price").is_empty() {
            price
        } else {
            money("ERP Price")
        };
        let date = |name: &str| -> Option<Cell> {
            dates::parse(cell(name)).map_err(|e| bad(name, e)).ok()
        };
        let start = match date("EffectiveStartDate") {
            Some(Cell::At(at)) => Some(at),
            Some(Cell::Open) => {
                bad(
                    "EffectiveStartDate",
                    "a start date cannot be year 9999".into(),
                );
                None
            }
            None => None,
        };
        let end = date("EffectiveEndDate").map(|c| match c {
            Cell::At(at) => Some(at),
            Cell::Open => None,
        });
        if let (Some(start), Some(Some(end))) = (start, end)
            && end <= start
        {
            bad("EffectiveEndDate", "the end is not after the start".into());
        }
        let end_of_sale = end_of_sale_at
            .map(|i| record.get(i).unwrap_or("").trim())
            .filter(|v| !v.is_empty())
            .and_then(|v| match dates::parse(v) {
                Ok(Cell::At(at)) => Some(at),
                Ok(Cell::Open) => None,
                Err(e) => {
                    bad(END_OF_SALE, e);
                    None
                }
            });
        let segment = match segment_at.map(|i| record.get(i).unwrap_or("").trim()) {
            None => Some(Segment::Commercial),
            Some("Commercial") => Some(Segment::Commercial),
            Some("Education") => Some(Segment::Education),
            Some("Government") => Some(Segment::Government),
            Some("Charity") => Some(Segment::Nonprofit),
            Some(other) => {
                bad(
                    SEGMENT,
                    format!(
                        "{} is not Commercial, Education, Government or Charity",
                        clip(other)
                    ),
                );
                None
            }
        };
        let tags = match &before.tags {
            Some((text, tags)) if text == cell("Tags") => Some(tags.clone()),
            _ => parse_tags(cell("Tags"))
                .map_err(|e| bad("Tags", e))
                .ok()
                .inspect(|tags| before.tags = Some((cell("Tags").to_owned(), tags.clone()))),
        };
        if let (Some(p), Some(s), Some(c)) = (&product, &sku, country) {
            match offers.get(p, s) {
                None => bad(
                    "SkuId",
                    format!("{p}/{s} is not in the offer matrix, so it cannot be sold"),
                ),
                Some(offer) if !offer.countries.is_empty() && !offer.countries.contains(&c) => bad(
                    "Market",
                    format!("{p}/{s} is not allowed in {c} by the offer matrix's AllowedCountries"),
                ),
                Some(_) => {}
            }
        }
        let errors = errors.into_inner();
        if !errors.is_empty() {
            for (col, message) in errors {
                problems.add(file, row, &col, message);
            }
            continue;
        }
        let (
            Some(product_id),
            Some(sku_id),
            Some(term),
            Some(billing_cycle),
            Some(market),
            Some(segment),
            Some(price),
            Some(erp_price),
            Some(start),
            Some(end),
            Some(tags),
        ) = (
            product,
            sku,
            term,
            billing_cycle,
            country,
            segment,
            price,
            erp_price,
            start,
            end,
            tags,
        )
        else {
            continue;
        };
        before.product = Some(product_id.clone());
        before.sku = Some(sku_id.clone());
        out.push(PriceRow {
            product_id,
            sku_id,
            product_title: Before::text(&mut before.product_title, cell("ProductTitle")),
            publisher: Before::text(&mut before.publisher, cell("Publisher")),
            unit_of_measure: Before::text(&mut before.unit_of_measure, cell("UnitOfMeasure")),
            term,
            billing_cycle,
            market,
            segment,
            price,
            erp_price,
            start,
            end,
            end_of_sale,
            tags,
        });
    }
}

/// The header a price list with `found`'s optional columns should have.
fn expected_header(found: &[String]) -> Vec<&'static str> {
    let mut expected = HEADER.to_vec();
    for extra in found.iter().skip(HEADER.len()).take(2) {
        match extra.as_str() {
            SEGMENT => expected.push(SEGMENT),
            _ => expected.push(END_OF_SALE),
        }
    }
    expected
}

/// `ProductType=OnlineServices;BillingType=license;Category=Enterprise;Trial;Reservation`.
fn parse_tags(text: &str) -> Result<Tags, String> {
    let mut tags = Tags {
        product_type: ProductType::OnlineServices,
        billing_type: BillingType::License,
        category: "".into(),
        trial: false,
        reservation: false,
    };
    for token in text.split(';').map(str::trim).filter(|t| !t.is_empty()) {
        match token.split_once('=') {
            Some(("ProductType", v)) => {
                tags.product_type = match v {
                    "OnlineServices" => ProductType::OnlineServices,
                    "Azure" => ProductType::Azure,
                    "Software" => ProductType::Software,
                    "Marketplace" => ProductType::Marketplace,
                    other => return Err(format!("unknown ProductType {}", clip(other))),
                }
            }
            Some(("BillingType", v)) => {
                tags.billing_type = match v.to_ascii_lowercase().as_str() {
                    "license" => BillingType::License,
                    "usage" => BillingType::Usage,
                    other => return Err(format!("unknown BillingType {}", clip(other))),
                }
            }
            Some(("Category", v)) => tags.category = v.into(),
            Some(_) => {}
            None if token == "Trial" => tags.trial = true,
            None if token == "Reservation" => tags.reservation = true,
            None => {}
        }
    }
    if tags.category.is_empty() {
        tags.category = if tags.trial { "Trial" } else { "Enterprise" }.into();
    }
    Ok(tags)
}
