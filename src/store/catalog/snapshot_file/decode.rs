//! Reading a snapshot file back: every count and position checked against the file before it
//! is trusted, the bytes hashed as they are read.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use xxhash_rust::xxh3::Xxh3;

use super::{BUFFER, FORMAT_VERSION, MAGIC, SnapshotFileError, invalid};
use crate::domain::catalog::{
    Availability, BillingCycle, BillingType, CatalogData, Product, ProductType, Segment, Sku, Term,
    TermPrice,
};
use crate::domain::ids::{AvailabilityId, CountryCode, ProductId, SkuId};
use crate::domain::money::{Currency, Money};

pub(super) struct Decoder {
    pub(super) inner: BufReader<File>,
    pub(super) hash: Xxh3,
    /// The file's size: no table may claim more entries than it has bytes.
    size: u64,
    scratch: Vec<u8>,
}

impl Decoder {
    pub(super) fn open(path: &Path) -> Result<Self, SnapshotFileError> {
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

    pub(super) fn header(&mut self) -> Result<(String, String), SnapshotFileError> {
        if &self.array::<8>()? != MAGIC {
            return Err(invalid("no magic number"));
        }
        let version = self.u32()?;
        if version != FORMAT_VERSION {
            return Err(invalid(format!("format {version}")));
        }
        Ok((self.string()?, self.string()?))
    }

    pub(super) fn body(&mut self) -> Result<CatalogData, SnapshotFileError> {
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
