//! Loading months: import a month's files, and reload the snapshot a publish (here or on
//! another replica) made current. Its changes and its publish: `month_changes.rs`.
//!
//! The import holds no month in memory: it writes each price list's availabilities as soon as
//! the file is read (one transaction for the month).

use std::sync::Arc;

use super::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{Catalog, Month};
use crate::domain::error::Precondition;
use crate::import::{self, Source};
use crate::store::SnapshotFileError;

/// What an import read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub products: usize,
    pub skus: usize,
    pub availabilities: usize,
    pub prices: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Files(import::ImportReport),
    #[error(transparent)]
    Store(DomainError),
}

/// Price lists whose availabilities may wait between the reader and the writer.
const PARTS_IN_FLIGHT: usize = 2;

impl CatalogService {
    /// Loads the current published month from the store and swaps it in for every reader, if
    /// it is not the one already loaded.
    pub async fn reload(&self) -> Result<Option<Month>, DomainError> {
        let Some(month) = self.store.catalog_state().await?.current_month else {
            return Ok(None);
        };
        if self.snapshot().month() != Some(month) {
            let catalog = self.build_current(month).await?;
            self.snapshot.store(catalog);
        }
        Ok(Some(month))
    }

    /// The current month's snapshot: from the snapshot file when it holds the month as the
    /// store has it now (its stamp), else from the store, and then written to the file for the
    /// next start (off the path to ready: the snapshot is swapped in meanwhile).
    async fn build_current(&self, month: Month) -> Result<Arc<Catalog>, DomainError> {
        let Some(file) = self.snapshot_file.clone() else {
            return self.build_month(month).await.map(Arc::new);
        };
        let Some(stamp) = self.store.month_stamp(month).await? else {
            return self.build_month(month).await.map(Arc::new);
        };
        let started = std::time::Instant::now();
        let read = {
            let (file, stamp) = (file.clone(), stamp.clone());
            tokio::task::spawn_blocking(move || {
                file.read(month, &stamp)
                    .map(|data| Catalog::build(Some(month), data))
            })
            .await
            .map_err(|e| DomainError::Internal(format!("reading the snapshot file: {e}")))?
        };
        let path = file.path().display().to_string();
        match read {
            Ok(catalog) => {
                let read_ms = started.elapsed().as_millis() as u64;
                tracing::info!(%month, %path, read_ms, "catalog snapshot read from its file");
                return Ok(Arc::new(catalog));
            }
            Err(SnapshotFileError::Missing) => {
                tracing::info!(%month, %path, "no catalog snapshot file yet: reading the store");
            }
            Err(error) => {
                tracing::warn!(%month, %path, %error, "catalog snapshot file ignored");
            }
        }
        let catalog = Arc::new(self.build_month(month).await?);
        let (kept, writes, current) = (
            catalog.clone(),
            self.snapshot_writes.clone(),
            self.snapshot.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let _turn = writes
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // A later month taken up meanwhile keeps its own file.
            if current.load().month().is_some_and(|m| m > month) {
                return;
            }
            let started = std::time::Instant::now();
            match file.write(month, &stamp, &kept) {
                Ok(()) => tracing::info!(
                    %month,
                    %path,
                    write_ms = started.elapsed().as_millis() as u64,
                    "catalog snapshot file written"
                ),
                Err(error) => {
                    tracing::warn!(%month, %path, %error, "catalog snapshot file not written")
                }
            }
        });
        Ok(catalog)
    }

    /// Loads a stored month from the store and builds its snapshot (the current month's on a
    /// publish or a reload; a past month's for a read as of it).
    pub(super) async fn build_month(&self, month: Month) -> Result<Catalog, DomainError> {
        let data = self.store.load_month(month).await?;
        let started = std::time::Instant::now();
        // Sorting and indexing a million availabilities: off the async workers.
        let catalog = tokio::task::spawn_blocking(move || Catalog::build(Some(month), data))
            .await
            .map_err(|e| DomainError::Internal(format!("building the snapshot: {e}")))?;
        let build_ms = started.elapsed().as_millis() as u64;
        tracing::info!(%month, build_ms, "catalog snapshot loaded");
        Ok(catalog)
    }

    /// Reads a month's files and stores the month as imported (not yet published): each price
    /// list's availabilities are written as soon as it is read, all in one transaction that
    /// commits only if every file is good.
    pub async fn import_month<M, P>(
        &self,
        month: Month,
        offer_matrix: Source<M>,
        price_lists: Vec<Source<P>>,
    ) -> Result<ImportSummary, ImportError>
    where
        M: std::io::Read + Send + 'static,
        P: std::io::Read + Send + 'static,
    {
        if let Some(current) = self
            .store
            .catalog_state()
            .await
            .map_err(ImportError::Store)?
            .current_month
            && month <= current
        {
            return Err(ImportError::Store(DomainError::FailedPrecondition {
                message: format!("month {month} is not after the current month {current}"),
                violations: vec![Precondition {
                    code: "MONTH_NOT_AFTER_CURRENT".into(),
                    subject: format!("months/{month}"),
                    description: format!("only a month after {current} can be imported"),
                }],
            }));
        }
        let mut writer = self
            .store
            .begin_month(month)
            .await
            .map_err(ImportError::Store)?;
        // Parsing is CPU work and blocking reads: off the async workers, while this task
        // writes what was read.
        let started = std::time::Instant::now();
        let (parts, mut received) = tokio::sync::mpsc::channel(PARTS_IN_FLIGHT);
        let limits = self.import_limits;
        let reading = tokio::task::spawn_blocking(move || {
            import::stream_month(month, offer_matrix, price_lists, &limits, |part| {
                parts.blocking_send(part).is_ok()
            })
        });
        let mut written = Ok(());
        let mut writing = std::time::Duration::ZERO;
        while let Some(part) = received.recv().await {
            let began = std::time::Instant::now();
            written = writer.availabilities(part).await;
            writing += began.elapsed();
            if written.is_err() {
                // The reader stops at its next part.
                break;
            }
        }
        drop(received);
        let read = reading
            .await
            .map_err(|e| ImportError::Store(DomainError::Internal(format!("import task: {e}"))))?;
        written.map_err(ImportError::Store)?;
        let read = read.map_err(ImportError::Files)?;
        let files_ms = started.elapsed().as_millis() as u64;
        writer
            .products(&read.products)
            .await
            .map_err(ImportError::Store)?;
        writer.skus(&read.skus).await.map_err(ImportError::Store)?;
        let committing = std::time::Instant::now();
        writer.commit().await.map_err(ImportError::Store)?;
        // Where the time went: reading and writing overlap (the files' part is the longer of
        // the two); the commit writes the month to the disk.
        tracing::info!(
            %month,
            availabilities = read.availabilities,
            prices = read.prices,
            files_ms,
            writing_ms = writing.as_millis() as u64,
            commit_ms = committing.elapsed().as_millis() as u64,
            "month imported"
        );
        Ok(ImportSummary {
            products: read.products.len(),
            skus: read.skus.len(),
            availabilities: read.availabilities,
            prices: read.prices,
        })
    }

    /// Imports and publishes at once (the demo catalog, `import --publish`).
    pub async fn import_and_publish<M, P>(
        &self,
        month: Month,
        offer_matrix: Source<M>,
        price_lists: Vec<Source<P>>,
    ) -> Result<ImportSummary, ImportError>
    where
        M: std::io::Read + Send + 'static,
        P: std::io::Read + Send + 'static,
    {
        let summary = self.import_month(month, offer_matrix, price_lists).await?;
        self.publish(month).await.map_err(ImportError::Store)?;
        Ok(summary)
    }
}
