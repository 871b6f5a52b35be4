//! Writing a snapshot file: a catalog in the layout of `mod.rs`, hashed as it goes.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use xxhash_rust::xxh3::Xxh3;

use super::{FORMAT_VERSION, MAGIC};
use crate::domain::catalog::{Availability, Catalog, Month, Product, Sku, TermPrice};
use crate::domain::ids::{ProductId, SkuId};

pub(super) struct Encoder<W: Write> {
    pub(super) inner: W,
    pub(super) hash: Xxh3,
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

    pub(super) fn catalog(
        &mut self,
        month: Month,
        stamp: &str,
        catalog: &Catalog,
    ) -> std::io::Result<()> {
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
