//! The current month's catalog kept in a file, so that a replica starts without reading
//! millions of rows from the database (issue 21). The store stays the source of truth: the
//! file is used only when it names the month the store says is current, with the same stamp
//! (`Store::month_stamp`: when the month was imported and published, and its revisions), in
//! this format version, and its checksum holds; anything else is ignored with a warning and the
//! month is read from the store (and the file written again).
//!
//! Layout (little-endian): magic, format version, month, stamp; then tables of countries and
//! currencies, the products, the SKUs (each naming its product by position), each distinct
//! list of term prices once, the availabilities (each naming its SKU, country, currency and
//! list by position); then the xxh3 of every byte before it. Written to a temporary file in
//! the same folder, synced, then renamed over the old one: a reader sees the old file or the
//! new one, never half of one.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use xxhash_rust::xxh3::Xxh3;

use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, Catalog, CatalogData, Month, Product, ProductType,
    Segment, Sku, Term, TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

const MAGIC: &[u8; 8] = b"CSPCATSN";
/// Bumped whenever the layout changes: a file of another version is not read.
pub const FORMAT_VERSION: u32 = 2;
/// Read and written through buffers of this size (one read call per MiB).
const BUFFER: usize = 1 << 20;

/// Where a replica keeps the current month's snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    path: PathBuf,
}

/// Why a file was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotFileError {
    #[error("no snapshot file")]
    Missing,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("holds month {found} at {found_stamp:?}, the store's current is {month} at {stamp:?}")]
    Stale {
        found: String,
        found_stamp: String,
        month: Month,
        stamp: String,
    },
    #[error("not a valid snapshot file: {0}")]
    Invalid(String),
}

fn invalid(what: impl Into<String>) -> SnapshotFileError {
    SnapshotFileError::Invalid(what.into())
}

impl SnapshotFile {
    /// `catalog-snapshot` in `dir` (a folder several replicas may share: each writes its own
    /// temporary file and renames it).
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join("catalog-snapshot"),
        }
    }

    /// `<database>-catalog`, beside a SQLite file (as its `-wal` and `-lock` are).
    pub fn beside(database: &Path) -> Self {
        let mut name = database.as_os_str().to_owned();
        name.push("-catalog");
        Self {
            path: PathBuf::from(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The month and stamp the file says it holds, from its header alone.
    pub fn header(&self) -> Result<(String, String), SnapshotFileError> {
        let mut r = Decoder::open(&self.path)?;
        r.header()
    }

    /// The month's catalog, if the file holds `month` at `stamp` and is whole.
    pub fn read(&self, month: Month, stamp: &str) -> Result<CatalogData, SnapshotFileError> {
        let mut r = Decoder::open(&self.path)?;
        let (found, found_stamp) = r.header()?;
        if found != month.to_string() || found_stamp != stamp {
            return Err(SnapshotFileError::Stale {
                found,
                found_stamp,
                month,
                stamp: stamp.to_owned(),
            });
        }
        let data = r.body()?;
        let computed = r.hash.digest();
        let mut stored = [0; 8];
        r.inner
            .read_exact(&mut stored)
            .map_err(|_| invalid("cut short before its checksum"))?;
        if u64::from_le_bytes(stored) != computed {
            return Err(invalid("its checksum does not match its content"));
        }
        if r.inner.read(&mut [0])? != 0 {
            return Err(invalid("bytes after its checksum"));
        }
        Ok(data)
    }

    /// Writes `catalog` as `month` at `stamp`: to a temporary file beside the file, synced,
    /// then renamed over it (and the folder synced).
    pub fn write(&self, month: Month, stamp: &str, catalog: &Catalog) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".catalog-snapshot-")
            .tempfile_in(dir)?;
        let mut w = Encoder {
            inner: BufWriter::with_capacity(BUFFER, temp.as_file()),
            hash: Xxh3::new(),
        };
        w.catalog(month, stamp, catalog)?;
        let digest = w.hash.digest();
        w.inner.write_all(&digest.to_le_bytes())?;
        w.inner.flush()?;
        drop(w);
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        File::open(dir)?.sync_all()
    }
}

struct Encoder<W: Write> {
    inner: W,
    hash: Xxh3,
}

impl<W: Write> Encoder<W> {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hash.update(b);
        self.inner.write_all(b)
    }

    fn u8(&mut self, v: u8) -> std::io::Result<()> {
        self.bytes(&[v])
    }

    fn u16(&mut self, v: u16) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn i32(&mut self, v: i32) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn i64(&mut self, v: i64) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn len(&mut self, n: usize) -> std::io::Result<()> {
        let n = u32::try_from(n).map_err(|_| std::io::Error::other("a table over 2^32 rows"))?;
        self.u32(n)
    }

    fn str(&mut self, s: &str) -> std::io::Result<()> {
        self.len(s.len())?;
        self.bytes(s.as_bytes())
    }

    fn time(&mut self, t: &DateTime<Utc>) -> std::io::Result<()> {
        self.i64(t.timestamp())?;
        self.u32(t.timestamp_subsec_nanos())
    }

    fn opt_i32(&mut self, n: &Option<i32>) -> std::io::Result<()> {
        match n {
            Some(n) => {
                self.u8(1)?;
                self.i32(*n)
            }
            None => self.u8(0),
        }
    }

    fn sku_pairs(&mut self, pairs: &[(ProductId, SkuId)]) -> std::io::Result<()> {
        self.len(pairs.len())?;
        for (p, s) in pairs {
            self.str(p.as_str())?;
            self.str(s.as_str())?;
        }
        Ok(())
    }

    fn opt_time(&mut self, t: &Option<DateTime<Utc>>) -> std::io::Result<()> {
        match t {
            Some(t) => {
                self.u8(1)?;
                self.time(t)
            }
            None => self.u8(0),
        }
    }

    fn catalog(&mut self, month: Month, stamp: &str, catalog: &Catalog) -> std::io::Result<()> {
        self.bytes(MAGIC)?;
        self.u32(FORMAT_VERSION)?;
        self.str(&month.to_string())?;
        self.str(stamp)?;

        // Positions of the repeated values: countries, currencies, term lists (by address:
        // the snapshot holds each distinct list once).
        let mut countries = Table::default();
        let mut currencies = Table::default();
        let mut lists: Vec<&Arc<[TermPrice]>> = Vec::new();
        let mut list_at: HashMap<*const TermPrice, usize> = HashMap::new();
        let mut count = 0usize;
        for view in catalog.all_skus() {
            for a in view.availabilities {
                count += 1;
                countries.position(a.country);
                currencies.position(a.currency);
                for t in a.terms.iter() {
                    currencies.position(t.unit_price.currency);
                    currencies.position(t.erp_price.currency);
                }
                list_at.entry(a.terms.as_ptr()).or_insert_with(|| {
                    lists.push(&a.terms);
                    lists.len() - 1
                });
            }
        }
        if countries.values.len() > usize::from(u16::MAX)
            || currencies.values.len() > usize::from(u16::MAX)
        {
            return Err(std::io::Error::other("over 65,535 countries or currencies"));
        }

        self.len(countries.values.len())?;
        for c in &countries.values {
            self.bytes(c.as_str().as_bytes())?;
        }
        self.len(currencies.values.len())?;
        for c in &currencies.values {
            self.str(c.code())?;
        }

        let products = catalog.products();
        self.len(products.len())?;
        for p in products {
            let Product {
                id,
                title,
                description,
                product_type,
                publisher,
                billing_type,
                category,
            } = p;
            self.str(id.as_str())?;
            self.str(title)?;
            self.str(description)?;
            self.str(product_type.as_str())?;
            self.str(publisher)?;
            self.str(billing_type.as_str())?;
            self.str(category)?;
        }

        self.len(catalog.all_skus().count())?;
        for view in catalog.all_skus() {
            let Sku {
                product_id,
                id,
                title,
                description,
                min_quantity,
                max_quantity,
                is_trial,
                prerequisites,
                seat_limit,
                seat_limit_type,
                unit_of_measure,
                category,
                is_reservation,
                provisioning_id,
                conversions,
                concurrent_limit,
                lifetime_limit,
            } = view.sku;
            let product = products
                .binary_search_by(|p| p.id.cmp(product_id))
                .map_err(|_| std::io::Error::other("a SKU of no product"))?;
            self.len(product)?;
            self.str(id.as_str())?;
            self.str(title)?;
            self.str(description)?;
            self.i32(*min_quantity)?;
            self.i32(*max_quantity)?;
            self.u8(u8::from(*is_trial))?;
            self.sku_pairs(prerequisites)?;
            self.opt_i32(seat_limit)?;
            self.str(seat_limit_type)?;
            self.str(unit_of_measure)?;
            self.str(category)?;
            self.u8(u8::from(*is_reservation))?;
            self.str(provisioning_id)?;
            self.sku_pairs(conversions)?;
            self.opt_i32(concurrent_limit)?;
            self.opt_i32(lifetime_limit)?;
        }

        self.len(lists.len())?;
        for list in &lists {
            self.len(list.len())?;
            for t in list.iter() {
                let TermPrice {
                    term,
                    billing_cycle,
                    unit_price,
                    erp_price,
                    effective_start,
                    effective_end,
                } = t;
                self.str(term.as_str())?;
                self.str(billing_cycle.as_str())?;
                self.u16(currencies.position(unit_price.currency))?;
                self.i64(unit_price.micros)?;
                self.u16(currencies.position(erp_price.currency))?;
                self.i64(erp_price.micros)?;
                self.time(effective_start)?;
                self.opt_time(effective_end)?;
            }
        }

        self.len(count)?;
        for (sku, view) in catalog.all_skus().enumerate() {
            for a in view.availabilities {
                let Availability {
                    id,
                    product_id: _,
                    sku_id: _,
                    country,
                    segment,
                    currency,
                    terms,
                    end_of_sale,
                } = a;
                self.len(sku)?;
                self.str(id.as_str())?;
                self.u16(countries.position(*country))?;
                self.str(segment.as_str())?;
                self.u16(currencies.position(*currency))?;
                self.len(list_at.get(&terms.as_ptr()).copied().unwrap_or(0))?;
                self.opt_time(end_of_sale)?;
            }
        }
        Ok(())
    }
}

/// Distinct values in the order first met, each with its position (at most 65,535: checked
/// before the positions are written).
struct Table<T> {
    values: Vec<T>,
    at: HashMap<T, u16>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T: Copy + Eq + std::hash::Hash> Table<T> {
    fn position(&mut self, value: T) -> u16 {
        *self.at.entry(value).or_insert_with(|| {
            self.values.push(value);
            u16::try_from(self.values.len() - 1).unwrap_or(u16::MAX)
        })
    }
}

struct Decoder {
    inner: BufReader<File>,
    hash: Xxh3,
    /// The file's size: no table may claim more entries than it has bytes.
    size: u64,
    scratch: Vec<u8>,
}

impl Decoder {
    fn open(path: &Path) -> Result<Self, SnapshotFileError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SnapshotFileError::Missing);
            }
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata()?.len();
        Ok(Self {
            inner: BufReader::with_capacity(BUFFER, file),
            hash: Xxh3::new(),
            size,
            scratch: Vec::new(),
        })
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), SnapshotFileError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => invalid("cut short"),
            _ => SnapshotFileError::Io(e),
        })?;
        self.hash.update(buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotFileError> {
        let mut b = [0; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, SnapshotFileError> {
        Ok(self.array::<1>()?[0])
    }

    fn bool(&mut self) -> Result<bool, SnapshotFileError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(invalid("a flag neither 0 nor 1")),
        }
    }

    fn u16(&mut self) -> Result<u16, SnapshotFileError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, SnapshotFileError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, SnapshotFileError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotFileError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count or length, never more than the file's size (a corrupt one allocates nothing).
    fn len(&mut self) -> Result<usize, SnapshotFileError> {
        let n = self.u32()?;
        if u64::from(n) > self.size {
            return Err(invalid("a length past the end of the file"));
        }
        Ok(n as usize)
    }

    /// A string, borrowed until the next read.
    fn text(&mut self) -> Result<&str, SnapshotFileError> {
        let n = self.len()?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(n, 0);
        let filled = self.fill(&mut scratch);
        self.scratch = scratch;
        filled?;
        std::str::from_utf8(&self.scratch).map_err(|_| invalid("text that is not UTF-8"))
    }

    fn string(&mut self) -> Result<String, SnapshotFileError> {
        self.text().map(str::to_owned)
    }

    fn time(&mut self) -> Result<DateTime<Utc>, SnapshotFileError> {
        let secs = self.i64()?;
        let nanos = self.u32()?;
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| invalid("a time out of range"))
    }

    fn opt_i32(&mut self) -> Result<Option<i32>, SnapshotFileError> {
        match self.bool()? {
            true => self.i32().map(Some),
            false => Ok(None),
        }
    }

    fn sku_pairs(&mut self, what: &str) -> Result<Vec<(ProductId, SkuId)>, SnapshotFileError> {
        let bad = || invalid(format!("a bad {what}"));
        let mut pairs = Vec::new();
        for _ in 0..self.len()? {
            let p = ProductId::parse("p", self.text()?).map_err(|_| bad())?;
            let s = SkuId::parse("s", self.text()?).map_err(|_| bad())?;
            pairs.push((p, s));
        }
        Ok(pairs)
    }

    fn opt_time(&mut self) -> Result<Option<DateTime<Utc>>, SnapshotFileError> {
        match self.bool()? {
            true => self.time().map(Some),
            false => Ok(None),
        }
    }

    fn at<'a, T>(&mut self, table: &'a [T]) -> Result<&'a T, SnapshotFileError> {
        let i = self.len()?;
        table
            .get(i)
            .ok_or_else(|| invalid("a position past its table"))
    }

    fn header(&mut self) -> Result<(String, String), SnapshotFileError> {
        if &self.array::<8>()? != MAGIC {
            return Err(invalid("no magic number"));
        }
        let version = self.u32()?;
        if version != FORMAT_VERSION {
            return Err(invalid(format!("format {version}")));
        }
        Ok((self.string()?, self.string()?))
    }

    fn body(&mut self) -> Result<CatalogData, SnapshotFileError> {
        let bad = |what: &str| invalid(format!("a bad {what}"));
        let mut countries = Vec::new();
        for _ in 0..self.len()? {
            let code = self.array::<2>()?;
            let text = std::str::from_utf8(&code).map_err(|_| bad("country"))?;
            countries.push(CountryCode::parse("country", text).map_err(|_| bad("country"))?);
        }
        let mut currencies = Vec::new();
        for _ in 0..self.len()? {
            let code = self.text()?;
            currencies.push(Currency::parse("currency", code).map_err(|_| bad("currency"))?);
        }
        let n = self.len()?;
        let mut products = Vec::with_capacity(n);
        for _ in 0..n {
            let id = ProductId::parse("id", self.text()?).map_err(|_| bad("product id"))?;
            let title = self.string()?;
            let description = self.string()?;
            let product_type = ProductType::parse(self.text()?).ok_or_else(|| bad("type"))?;
            let publisher = self.string()?;
            let billing_type = BillingType::parse(self.text()?).ok_or_else(|| bad("billing"))?;
            products.push(Product {
                id,
                title,
                description,
                product_type,
                publisher,
                billing_type,
                category: self.string()?,
            });
        }
        let n = self.len()?;
        let mut skus = Vec::with_capacity(n);
        for _ in 0..n {
            let product_id = self.at(&products)?.id.clone();
            let id = SkuId::parse("id", self.text()?).map_err(|_| bad("SKU id"))?;
            let title = self.string()?;
            let description = self.string()?;
            let min_quantity = self.i32()?;
            let max_quantity = self.i32()?;
            let is_trial = self.bool()?;
            let prerequisites = self.sku_pairs("prerequisite")?;
            let seat_limit = self.opt_i32()?;
            skus.push(Sku {
                product_id,
                id,
                title,
                description,
                min_quantity,
                max_quantity,
                is_trial,
                prerequisites,
                seat_limit,
                seat_limit_type: self.string()?,
                unit_of_measure: self.string()?,
                category: self.string()?,
                is_reservation: self.bool()?,
                provisioning_id: self.string()?,
                conversions: self.sku_pairs("conversion")?,
                concurrent_limit: self.opt_i32()?,
                lifetime_limit: self.opt_i32()?,
            });
        }
        let n = self.len()?;
        let mut lists: Vec<Arc<[TermPrice]>> = Vec::with_capacity(n);
        let mut list = Vec::new();
        for _ in 0..n {
            list.clear();
            for _ in 0..self.len()? {
                let term = Term::parse(self.text()?).ok_or_else(|| bad("term"))?;
                let billing_cycle =
                    BillingCycle::parse(self.text()?).ok_or_else(|| bad("cycle"))?;
                let currency = *self.at16(&currencies)?;
                let unit_price = Money::from_micros(currency, self.i64()?);
                let currency = *self.at16(&currencies)?;
                let erp_price = Money::from_micros(currency, self.i64()?);
                list.push(TermPrice {
                    term,
                    billing_cycle,
                    unit_price,
                    erp_price,
                    effective_start: self.time()?,
                    effective_end: self.opt_time()?,
                });
            }
            lists.push(list.as_slice().into());
        }
        let n = self.len()?;
        let mut availabilities = Vec::with_capacity(n);
        for _ in 0..n {
            let sku = self.at(&skus)?;
            let (product_id, sku_id) = (sku.product_id.clone(), sku.id.clone());
            let id = AvailabilityId::parse("id", self.text()?).map_err(|_| bad("availability"))?;
            let country = *self.at16(&countries)?;
            let segment = Segment::parse(self.text()?).ok_or_else(|| bad("segment"))?;
            let currency = *self.at16(&currencies)?;
            let terms = self.at(&lists)?.clone();
            availabilities.push(Availability {
                id,
                product_id,
                sku_id,
                country,
                segment,
                currency,
                terms,
                end_of_sale: self.opt_time()?,
            });
        }
        Ok(CatalogData {
            products,
            skus,
            availabilities,
        })
    }

    fn at16<'a, T>(&mut self, table: &'a [T]) -> Result<&'a T, SnapshotFileError> {
        let i = usize::from(self.u16()?);
        table
            .get(i)
            .ok_or_else(|| invalid("a position past its table"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
}
