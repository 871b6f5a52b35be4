//! Loading months: import a month's files, diff it against the current month, publish it,
//! and reload the snapshot a publish (here or on another replica) made current.

use std::sync::{Arc, Mutex};

use super::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::{Catalog, Month};
use crate::domain::changes::{CatalogChange, diff};
use crate::domain::error::Precondition;
use crate::import::{self, Source};
use crate::service::paging::{Page, page_size};
use crate::store::Published;

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

/// The last diff computed, for ListMonthChanges and for the publish that follows. Invalidated
/// by an import and by a publish; used only when computed against the month current now.
#[derive(Debug, Default)]
pub(super) struct DiffCache(Mutex<Option<CachedDiff>>);

#[derive(Debug)]
struct CachedDiff {
    month: Month,
    /// The current month it was computed against.
    against: Option<Month>,
    changes: Arc<Vec<CatalogChange>>,
    /// `month` built.
    built: Arc<Catalog>,
}

impl DiffCache {
    fn get(
        &self,
        month: Month,
        against: Option<Month>,
    ) -> Option<(Arc<Vec<CatalogChange>>, Arc<Catalog>)> {
        let cache = self.0.lock().ok()?;
        let cached = cache.as_ref()?;
        (cached.month == month && cached.against == against)
            .then(|| (cached.changes.clone(), cached.built.clone()))
    }

    fn put(&self, diff: CachedDiff) {
        if let Ok(mut cache) = self.0.lock() {
            *cache = Some(diff);
        }
    }

    fn forget(&self) {
        if let Ok(mut cache) = self.0.lock() {
            *cache = None;
        }
    }
}

impl CatalogService {
    /// Loads the current published month from the store and swaps it in for every reader, if
    /// it is not the one already loaded.
    pub async fn reload(&self) -> Result<Option<Month>, DomainError> {
        let Some(month) = self.store.catalog_state().await?.current_month else {
            return Ok(None);
        };
        if self.snapshot().month() != Some(month) {
            let data = self.store.load_month(month).await?;
            let started = std::time::Instant::now();
            // Sorting and indexing a million availabilities: off the async workers.
            let catalog = tokio::task::spawn_blocking(move || Catalog::build(Some(month), data))
                .await
                .map_err(|e| DomainError::Internal(format!("building the snapshot: {e}")))?;
            let build_ms = started.elapsed().as_millis() as u64;
            self.snapshot.store(Arc::new(catalog));
            tracing::info!(%month, build_ms, "catalog snapshot loaded");
        }
        Ok(Some(month))
    }

    /// Reads a month's files and stores the month as imported (not yet published).
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
        // Parsing is CPU work and blocking reads: off the async workers.
        let limits = self.import_limits;
        let data = tokio::task::spawn_blocking(move || {
            import::import_month(month, offer_matrix, price_lists, &limits)
        })
        .await
        .map_err(|e| ImportError::Store(DomainError::Internal(format!("import task: {e}"))))?
        .map_err(ImportError::Files)?;
        let summary = ImportSummary {
            products: data.products.len(),
            skus: data.skus.len(),
            availabilities: data.availabilities.len(),
            prices: data.availabilities.iter().map(|a| a.terms.len()).sum(),
        };
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
        self.store
            .save_month(month, &data)
            .await
            .map_err(ImportError::Store)?;
        self.diffs.forget();
        Ok(summary)
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

    /// The current catalog as stored (which a replica's snapshot may briefly lag) and `month`
    /// built from the store.
    async fn current_and(&self, month: Month) -> Result<(Arc<Catalog>, Catalog), DomainError> {
        let state = self.store.catalog_state().await?;
        let snapshot = self.snapshot();
        let current = match state.current_month {
            None => Arc::new(Catalog::empty()),
            Some(m) if snapshot.month() == Some(m) => snapshot,
            Some(m) => Arc::new(Catalog::build(Some(m), self.store.load_month(m).await?)),
        };
        let next = Catalog::build(Some(month), self.store.load_month(month).await?);
        Ok((current, next))
    }

    /// What publishing the imported `month` would change, computed once per import.
    pub async fn month_changes(
        &self,
        month: Month,
    ) -> Result<Arc<Vec<CatalogChange>>, DomainError> {
        match self.store.month_status(month).await?.as_deref() {
            Some(crate::store::STATUS_IMPORTED) => {}
            Some(_) => {
                return Err(DomainError::FailedPrecondition {
                    message: format!(
                        "month {month} is already published: its changes are in the change stream"
                    ),
                    violations: vec![Precondition {
                        code: "MONTH_ALREADY_PUBLISHED".into(),
                        subject: format!("months/{month}"),
                        description: "watch the catalog changes from the month's first revision"
                            .into(),
                    }],
                });
            }
            None => return Err(DomainError::not_found("imported month", month.to_string())),
        }
        Ok(self.diff_of(month, self.snapshot().month()).await?.0)
    }

    /// The changes of `month` against `current`, and `month` built: from the cache if they
    /// were computed against that current month, else computed (and cached).
    async fn diff_of(
        &self,
        month: Month,
        current: Option<Month>,
    ) -> Result<(Arc<Vec<CatalogChange>>, Arc<Catalog>), DomainError> {
        if let Some(cached) = self.diffs.get(month, current) {
            return Ok(cached);
        }
        let (current, next) = self.current_and(month).await?;
        let next = Arc::new(next);
        let changes = Arc::new(diff(&current, &next, month));
        self.diffs.put(CachedDiff {
            month,
            against: current.month(),
            changes: changes.clone(),
            built: next.clone(),
        });
        Ok((changes, next))
    }

    pub async fn list_month_changes(
        &self,
        month: Month,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<CatalogChange>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let query = format!("month-changes|{month}");
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|k| {
                k.parse::<usize>().map_err(|_| {
                    DomainError::invalid(
                        "page_token",
                        "INVALID_PAGE_TOKEN",
                        "page_token is corrupt",
                    )
                })
            })
            .transpose()?;
        let changes = self.month_changes(month).await?;
        let start = after.map_or(0, |a| a + 1);
        let items: Vec<CatalogChange> = changes.iter().skip(start).take(limit).cloned().collect();
        let last = start + items.len();
        let next_page_token = if last < changes.len() && !items.is_empty() {
            self.tokens.encode(&query, &(last - 1).to_string())
        } else {
            String::new()
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Makes the imported `month` current: its change events and the new state commit in one
    /// transaction, then every reader's snapshot switches at once and the feed is woken.
    /// Publishing the current month again changes nothing.
    pub async fn publish(&self, month: Month) -> Result<Published, DomainError> {
        let status = self.store.month_status(month).await?;
        if status.as_deref() == Some(crate::store::STATUS_PUBLISHED) {
            return self
                .store
                .publish_month(month, &[], self.change_log_months, self.clock.now())
                .await;
        }
        // The diff computed for the import (or ListMonthChanges) if it was computed against
        // the month that is current in the store; the publish's transaction still refuses a
        // month that is not after the current one.
        let current = self.store.catalog_state().await?.current_month;
        let (changes, next) = self.diff_of(month, current).await?;
        let published = self
            .store
            .publish_month(month, &changes, self.change_log_months, self.clock.now())
            .await?;
        if published.newly {
            self.snapshot.store(next);
            self.diffs.forget();
            self.published.notify_one();
            tracing::info!(%month, first = published.first_revision, last = published.last_revision, "month published");
        }
        Ok(published)
    }
}
