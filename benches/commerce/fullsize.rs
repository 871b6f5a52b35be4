//! Issue 21: a full-size new-commerce month, generated in the real shape of the license-based
//! price list (one file per market, each SKU's terms, billing plans and segments as separate
//! rows; product families with their nonprofit, education and government SKUs, add-ons with
//! prerequisites, trials, perpetual software, reservations) and a matching offer matrix.
//!
//! Deterministic: the same shape and seed write the same bytes. Streaming: each row is written
//! as it is made (a `BufWriter` per file), so memory does not grow with the month. Used by the
//! `fullsize` scenario and, through `#[path]`, by `tests/api/fullsize.rs` (a small month).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to generate: `markets` price lists of about `rows_per_market` rows each.
#[derive(Debug, Clone, Copy)]
pub struct MonthShape {
    pub markets: usize,
    pub rows_per_market: usize,
    pub seed: u64,
    /// `YYYY-MM`: the rows' effective start is its first day.
    pub month: &'static str,
}

impl MonthShape {
    /// The real size: about 240 markets of about 15,000 rows (3.6 M rows).
    pub const FULL: MonthShape = MonthShape {
        markets: 240,
        rows_per_market: 15_000,
        seed: 21,
        month: "2026-12",
    };
}

/// A later month of the same catalog: what changed since the month its shape makes. Its
/// products and SKUs are the shape's (the same seed) with new ones after them, every
/// `repriced_every`-th SKU 5% dearer and every `ended_every`-th SKU that no add-on needs
/// (SKU ids other than `0001`) gone.
#[derive(Debug, Clone, Copy)]
pub struct NextMonth {
    /// `YYYY-MM`, after the shape's month.
    pub month: &'static str,
    pub repriced_every: usize,
    pub ended_every: usize,
    /// New rows per market, in percent of the shape's rows: new products.
    pub new_percent: usize,
}

impl NextMonth {
    /// 2027-01 after the full-size 2026-12: about a tenth of the SKUs repriced, a fiftieth
    /// ended, 2% more rows.
    pub const FULL: NextMonth = NextMonth {
        month: "2027-01",
        repriced_every: 10,
        ended_every: 50,
        new_percent: 2,
    };
}

/// The files written and what they hold.
#[derive(Debug)]
pub struct GeneratedMonth {
    pub offer_matrix: PathBuf,
    pub price_lists: Vec<PathBuf>,
    pub markets: Vec<&'static str>,
    pub products: usize,
    pub skus: usize,
    /// Price rows over all markets.
    pub rows: u64,
    /// (SKU, market, segment) triples: what the catalog calls availabilities.
    pub availabilities: u64,
    pub bytes: u64,
}

const PRICE_HEADER: &str = "\"ProductTitle\",\"ProductId\",\"SkuId\",\"SkuTitle\",\"Publisher\",\"SkuDescription\",\"UnitOfMeasure\",\"TermDuration\",\"BillingPlan\",\"Market\",\"Currency\",\"UnitPrice\",\"PricingTierRangeMin\",\"PricingTierRangeMax\",\"EffectiveStartDate\",\"EffectiveEndDate\",\"Tags\",\"ERP Price\",\"Segment\"";
const MATRIX_HEADER: &str = "ProductTitle,ProductId,SkuId,SkuTitle,ProvisioningId,ProvisioningString,MinLicenses,MaxLicenses,AssetOwnershipLimit,AssetOwnershipLimitType,ProductSkuPreRequisites,ProductSkuConversion,Description,AllowedCountries";

const FAMILIES: &[&str] = &[
    "Microsoft 365 E3",
    "Microsoft 365 E5",
    "Office 365 E1",
    "Office 365 E3",
    "Office 365 E5",
    "Microsoft 365 Business Basic",
    "Microsoft 365 Business Standard",
    "Microsoft 365 Business Premium",
    "Microsoft 365 Apps for business",
    "Exchange Online (Plan 1)",
    "Exchange Online (Plan 2)",
    "SharePoint Online (Plan 1)",
    "Dynamics 365 Sales Enterprise",
    "Dynamics 365 Customer Service Enterprise",
    "Dynamics 365 Finance",
    "Dynamics 365 Business Central Essentials",
    "Power BI Pro",
    "Power BI Premium Per User",
    "Power Apps Premium",
    "Power Automate Premium",
    "Project Plan 3",
    "Project Plan 5",
    "Visio Plan 2",
    "Microsoft Teams Phone Standard",
    "Microsoft Teams Rooms Pro",
    "Microsoft Defender for Endpoint P2",
    "Microsoft Defender for Office 365 (Plan 2)",
    "Microsoft Entra ID P1",
    "Microsoft Entra ID P2",
    "Microsoft Intune Suite",
    "Windows 11 Enterprise E3",
    "Windows 11 Enterprise E5",
    "Microsoft Copilot Studio",
    "Microsoft Purview Suite",
    "Azure Virtual Desktop Access",
    "Microsoft Viva Suite",
];
const EDITIONS: &[&str] = &[
    "",
    " (no Teams)",
    " Extra Storage",
    " for Frontline",
    " EEA",
    " Capacity Add-on",
    " Step Up",
    " Mobile",
];
const AUDIENCES: &[&str] = &[
    "information workers",
    "frontline workers",
    "small and medium businesses",
    "enterprises",
    "developers",
    "security teams",
];
/// Markets priced in their own currency; every other market is priced in USD, as in the
/// real lists.
const CURRENCIES: &[(&str, &str, u64)] = &[
    ("DE", "EUR", 92),
    ("FR", "EUR", 92),
    ("IE", "EUR", 92),
    ("SK", "EUR", 92),
    ("IT", "EUR", 92),
    ("ES", "EUR", 92),
    ("NL", "EUR", 92),
    ("AT", "EUR", 92),
    ("GB", "GBP", 79),
    ("JP", "JPY", 15_000),
    ("CH", "CHF", 88),
    ("SE", "SEK", 1_050),
    ("NO", "NOK", 1_080),
    ("DK", "DKK", 690),
    ("CA", "CAD", 137),
    ("AU", "AUD", 153),
    ("NZ", "NZD", 166),
    ("BR", "BRL", 540),
    ("IN", "INR", 8_300),
    ("KR", "KRW", 135_000),
];
/// (TermDuration, BillingPlan) sets of a license SKU.
const PLANS: &[&[(&str, &str)]] = &[
    &[
        ("P1M", "Monthly"),
        ("P1Y", "Monthly"),
        ("P1Y", "Annual"),
        ("P3Y", "Monthly"),
        ("P3Y", "Triennial"),
    ],
    &[("P1M", "Monthly"), ("P1Y", "Monthly"), ("P1Y", "Annual")],
    &[
        ("P1M", "Monthly"),
        ("P1Y", "Monthly"),
        ("P1Y", "Annual"),
        ("P3Y", "Annual"),
        ("P3Y", "Triennial"),
    ],
    &[("P1Y", "Monthly"), ("P1Y", "Annual")],
];

/// SplitMix64: a tiny deterministic generator (no dependency, same bytes everywhere).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One SKU: its rows per market are `plans` x `segments`.
struct SkuSpec {
    product: usize,
    sku: u32,
    sku_title: String,
    unit: &'static str,
    plans: &'static [(&'static str, &'static str)],
    segments: &'static [&'static str],
    tags: String,
    /// Sold in every market, or only in every other one.
    everywhere: bool,
    /// US price of the P1M term, in cents.
    cents: u64,
    prerequisites: String,
}

struct ProductSpec {
    id: String,
    title: String,
    description: String,
}

/// Products and SKUs until a market holds about `rows_per_market` rows.
fn catalog(shape: &MonthShape, next: Option<&NextMonth>) -> (Vec<ProductSpec>, Vec<SkuSpec>) {
    let mut rng = Rng(shape.seed);
    let mut products = Vec::new();
    let mut skus: Vec<SkuSpec> = Vec::new();
    // Expected rows in one market, in halves (a SKU sold in every other market counts 1).
    let mut halves = 0usize;
    let mut last_base: Option<(String, u32)> = None;
    let target = shape.rows_per_market * (100 + next.map_or(0, |n| n.new_percent)) / 100;
    while halves < 2 * target {
        let p = products.len();
        let family = FAMILIES[p % FAMILIES.len()];
        let edition = EDITIONS[(p / FAMILIES.len()) % EDITIONS.len()];
        let round = p / (FAMILIES.len() * EDITIONS.len());
        let title = if round == 0 {
            format!("{family}{edition}")
        } else {
            format!("{family}{edition} Tier {}", round + 1)
        };
        // Product ids: CFQ7TTC0 + four base-36 digits, like the real ones.
        let mut id = String::from("CFQ7TTC0");
        let mut n = p + 36 * 36 * 36;
        let mut digits = [0u8; 4];
        for d in digits.iter_mut().rev() {
            *d = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 36];
            n /= 36;
        }
        id.push_str(std::str::from_utf8(&digits).unwrap_or("0000"));
        let kind = rng.below(20);
        let addon = kind < 4 && last_base.is_some();
        let description = format!(
            "{title} for {}, billed per license.",
            AUDIENCES[rng.below(AUDIENCES.len() as u64) as usize]
        );
        let cents = 100 + rng.below(5_000) * 10;
        let plans = PLANS[rng.below(PLANS.len() as u64) as usize];
        let everywhere = rng.below(10) != 0;
        let category = if addon { "Addon" } else { "Enterprise" };
        let unit = if addon { "Add-On Licenses" } else { "Licenses" };
        let prerequisites = match (&last_base, addon) {
            (Some((base, sku)), true) => format!("{base}/{sku:04}"),
            _ => String::new(),
        };
        let mut push = |skus: &mut Vec<SkuSpec>, sku_title: String, spec: SkuSpec| {
            halves += spec.plans.len() * spec.segments.len() * if spec.everywhere { 2 } else { 1 };
            skus.push(SkuSpec { sku_title, ..spec });
        };
        let base = |sku: u32, plans, segments, tags: String, cents| SkuSpec {
            product: p,
            sku,
            sku_title: String::new(),
            unit,
            plans,
            segments,
            tags,
            everywhere,
            cents,
            prerequisites: prerequisites.clone(),
        };
        let tags = |category: &str| {
            format!("ProductType=OnlineServices;BillingType=license;Category={category}")
        };
        if kind == 19 {
            // Perpetual software: one OneTime row.
            push(
                &mut skus,
                format!("{title} Perpetual"),
                SkuSpec {
                    unit: "Licenses",
                    tags: "ProductType=Software;BillingType=license;Category=Enterprise".into(),
                    ..base(
                        1,
                        &[("", "OneTime")],
                        &["Commercial"],
                        String::new(),
                        cents * 20,
                    )
                },
            );
        } else if kind == 18 {
            // An Azure reservation: yearly terms only.
            push(
                &mut skus,
                format!("{title} Reserved Instance"),
                SkuSpec {
                    unit: "Instances",
                    tags: "ProductType=Azure;BillingType=license;Category=Enterprise;Reservation"
                        .into(),
                    ..base(
                        1,
                        &[("P1Y", "Annual"), ("P1Y", "Monthly"), ("P3Y", "Triennial")],
                        &["Commercial"],
                        String::new(),
                        cents * 4,
                    )
                },
            );
        } else {
            let commercial: &'static [&'static str] = if rng.below(3) == 0 {
                &["Commercial", "Charity"]
            } else {
                &["Commercial"]
            };
            push(
                &mut skus,
                title.clone(),
                base(1, plans, commercial, tags(category), cents),
            );
            push(
                &mut skus,
                format!("{title} (Nonprofit Staff Pricing)"),
                base(2, plans, &["Charity"], tags("Nonprofit"), cents * 6 / 10),
            );
            if rng.below(2) == 0 {
                push(
                    &mut skus,
                    format!("{title} for Faculty"),
                    base(3, plans, &["Education"], tags("Education"), cents / 2),
                );
            }
            if rng.below(3) == 0 {
                push(
                    &mut skus,
                    format!("{title} GCC"),
                    base(
                        4,
                        plans,
                        &["Government"],
                        tags("Government"),
                        cents * 11 / 10,
                    ),
                );
            }
            if rng.below(4) == 0 {
                push(
                    &mut skus,
                    format!("{title} Trial"),
                    SkuSpec {
                        tags: format!(
                            "ProductType=OnlineServices;BillingType=license;Category={category};Trial"
                        ),
                        ..base(5, &[("P1M", "None")], &["Commercial"], String::new(), 0)
                    },
                );
            }
            if !addon {
                last_base = Some((id.clone(), 1));
            }
        }
        products.push(ProductSpec {
            id,
            title,
            description,
        });
    }
    if let Some(next) = next {
        let mut i = 0;
        skus.retain_mut(|s| {
            i += 1;
            if i % next.repriced_every == 0 {
                s.cents = s.cents * 21 / 20;
            }
            s.sku == 1 || i % next.ended_every != 0
        });
    }
    (products, skus)
}

/// The first `n` ISO 3166-1 codes (celes' order, alphabetical by name).
fn markets(n: usize) -> Vec<&'static str> {
    celes::Country::get_countries()
        .iter()
        .map(|c| c.alpha2)
        .take(n)
        .collect()
}

fn currency(market: &str) -> (&'static str, u64) {
    CURRENCIES
        .iter()
        .find(|(m, _, _)| *m == market)
        .map_or(("USD", 100), |&(_, c, rate)| (c, rate))
}

/// `cents` (US) as a price in `currency` at `rate` per 100 USD.
fn price(out: &mut String, cents: u64, currency: &str, rate: u64) {
    let minor = cents * rate / 100;
    if matches!(currency, "JPY" | "KRW") {
        let _ = write!(out, "{}", minor / 100);
    } else {
        let _ = write!(out, "{}.{:02}", minor / 100, minor % 100);
    }
}

/// Writes the month into `dir`: `offer-matrix.csv` and `pricelist-<market>.csv` per market.
pub fn generate(dir: &Path, shape: &MonthShape) -> io::Result<GeneratedMonth> {
    generate_month(dir, shape, None)
}

/// Writes `next`, the month after `shape`'s, into `dir`, as `generate` does.
pub fn generate_next(
    dir: &Path,
    shape: &MonthShape,
    next: &NextMonth,
) -> io::Result<GeneratedMonth> {
    generate_month(dir, shape, Some(next))
}

fn generate_month(
    dir: &Path,
    shape: &MonthShape,
    next: Option<&NextMonth>,
) -> io::Result<GeneratedMonth> {
    let (products, skus) = catalog(shape, next);
    let markets = markets(shape.markets);
    let start = format!("{}-01T00:00:00Z", next.map_or(shape.month, |n| n.month));
    let mut bytes = 0u64;

    let offer_matrix = dir.join("offer-matrix.csv");
    let mut out = BufWriter::new(File::create(&offer_matrix)?);
    writeln!(out, "{MATRIX_HEADER}\r")?;
    let all: String = markets.join(";");
    let half: String = markets
        .iter()
        .step_by(2)
        .copied()
        .collect::<Vec<_>>()
        .join(";");
    for (i, s) in skus.iter().enumerate() {
        let p = &products[s.product];
        writeln!(
            out,
            "\"{}\",{},{:04},\"{}\",{:08X}-0000-4000-8000-{:012X},,1,{},,,\"{}\",,\"{}\",{}\r",
            p.title,
            p.id,
            s.sku,
            s.sku_title,
            i,
            i,
            if s.unit == "Instances" {
                100
            } else {
                10_000_000
            },
            s.prerequisites,
            p.description,
            if s.everywhere { &all } else { &half },
        )?;
    }
    out.flush()?;
    bytes += out.get_ref().metadata()?.len();

    let mut rows = 0u64;
    let mut availabilities = 0u64;
    let mut price_lists = Vec::with_capacity(markets.len());
    let mut line = String::with_capacity(1024);
    for (m, market) in markets.iter().enumerate() {
        let path = dir.join(format!("pricelist-{market}.csv"));
        let mut out = BufWriter::new(File::create(&path)?);
        writeln!(out, "{PRICE_HEADER}\r")?;
        let (currency, rate) = currency(market);
        for s in skus.iter().filter(|s| s.everywhere || m % 2 == 0) {
            let p = &products[s.product];
            for segment in s.segments {
                availabilities += 1;
                for (term, plan) in s.plans {
                    let months: u64 = match *term {
                        "P1Y" => 12,
                        "P3Y" => 36,
                        _ => 1,
                    };
                    // A yearly commitment is about a sixth cheaper a month.
                    let cents = s.cents * months * if months > 1 { 10 } else { 12 } / 12;
                    line.clear();
                    let _ = write!(
                        line,
                        "\"{}\",\"{}\",\"{:04}\",\"{}\",\"Microsoft Corporation\",\"{}\",\"{}\",\"{term}\",\"{plan}\",\"{market}\",\"{currency}\",\"",
                        p.title, p.id, s.sku, s.sku_title, p.description, s.unit
                    );
                    price(&mut line, cents, currency, rate);
                    let _ = write!(
                        line,
                        "\",\"0\",\"\",\"{start}\",\"9999-12-31T23:59:59Z\",\"{}\",\"",
                        s.tags
                    );
                    price(&mut line, cents * 6 / 5, currency, rate);
                    let _ = write!(line, "\",\"{segment}\"\r\n");
                    out.write_all(line.as_bytes())?;
                    rows += 1;
                }
            }
        }
        out.flush()?;
        bytes += out.get_ref().metadata()?.len();
        price_lists.push(path);
    }
    Ok(GeneratedMonth {
        offer_matrix,
        price_lists,
        markets,
        products: products.len(),
        skus: skus.len(),
        rows,
        availabilities,
        bytes,
    })
}
