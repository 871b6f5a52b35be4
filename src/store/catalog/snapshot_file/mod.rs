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
//!
//! `encode.rs` writes the layout, `decode.rs` reads it back.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::domain::catalog::{Catalog, CatalogData, Month};

mod decode;
mod encode;
#[cfg(test)]
mod tests;

use decode::Decoder;
use encode::Encoder;

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
