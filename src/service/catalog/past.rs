//! Catalog reads as of a month: the current month is the swapped snapshot, untouched; a past
//! published month is loaded from the store on demand (the same loader and build as the
//! current month's) and kept in memory within a byte budget, the least recently read going
//! first. Concurrent first reads of a month wait for one load.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::CatalogService;
use super::listing::ListingCache;
use crate::domain::DomainError;
use crate::domain::catalog::{Catalog, Month};

/// The default budget of past months kept in memory, in bytes.
pub const DEFAULT_PAST_MONTHS_BYTES: usize = 256 << 20;

/// One past month in memory: its snapshot and the listings made from it.
#[derive(Debug)]
pub(super) struct PastMonth {
    pub(super) catalog: Arc<Catalog>,
    pub(super) listings: ListingCache,
}

/// The snapshot a read answers from.
#[derive(Debug)]
pub(super) enum AsOf {
    Current(Arc<Catalog>),
    Past(Arc<PastMonth>),
}

impl AsOf {
    pub(super) fn catalog(&self) -> &Arc<Catalog> {
        match self {
            Self::Current(catalog) => catalog,
            Self::Past(past) => &past.catalog,
        }
    }
}

/// Past months kept within `budget` bytes: a month's snapshot (`Catalog::footprint`) plus the
/// budget of its listings. A month larger than the budget is answered from, not kept.
#[derive(Debug)]
pub(super) struct PastMonths {
    budget: usize,
    /// Each past month's own listing cache (so reading it never empties the current's).
    listing_budget: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    kept: HashMap<Month, Kept>,
    /// First loads under way: every reader of the month awaits the same one.
    loading: HashMap<Month, Arc<OnceCell<Arc<PastMonth>>>>,
    bytes: usize,
    tick: u64,
    /// The published months up to the current one, read when the current month was the key.
    published: Option<(Option<Month>, Arc<[Month]>)>,
}

#[derive(Debug)]
struct Kept {
    month: Arc<PastMonth>,
    bytes: usize,
    tick: u64,
}

impl Default for PastMonths {
    fn default() -> Self {
        Self::new(
            DEFAULT_PAST_MONTHS_BYTES,
            super::listing::DEFAULT_LISTING_CACHE_BYTES / 8,
        )
    }
}

impl PastMonths {
    pub(super) fn new(budget: usize, listing_budget: usize) -> Self {
        Self {
            budget,
            listing_budget,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bytes of the months kept now.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().bytes
    }

    /// `month` from memory, or loaded by `load` (once, however many readers wait for it).
    async fn get_or_load<F, Fut>(
        &self,
        month: Month,
        load: F,
    ) -> Result<Arc<PastMonth>, DomainError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Catalog, DomainError>>,
    {
        let cell = {
            let mut state = self.lock();
            state.tick += 1;
            let tick = state.tick;
            if let Some(kept) = state.kept.get_mut(&month) {
                kept.tick = tick;
                return Ok(kept.month.clone());
            }
            state.loading.entry(month).or_default().clone()
        };
        let listing_budget = self.listing_budget;
        let loaded = cell
            .get_or_try_init(|| async {
                Ok::<_, DomainError>(Arc::new(PastMonth {
                    catalog: Arc::new(load().await?),
                    listings: ListingCache::new(listing_budget),
                }))
            })
            .await?
            .clone();
        let mut state = self.lock();
        if state
            .loading
            .get(&month)
            .is_some_and(|c| Arc::ptr_eq(c, &cell))
        {
            state.loading.remove(&month);
        }
        self.keep(&mut state, month, &loaded);
        Ok(loaded)
    }

    /// Keeps `loaded` (unless it is kept already or larger than the budget), then forgets the
    /// least recently read others until the kept months fit the budget.
    fn keep(&self, state: &mut State, month: Month, loaded: &Arc<PastMonth>) {
        if state.kept.contains_key(&month) {
            return;
        }
        let bytes = loaded.catalog.footprint().total() + self.listing_budget;
        if bytes > self.budget {
            return;
        }
        state.tick += 1;
        let tick = state.tick;
        state.kept.insert(
            month,
            Kept {
                month: loaded.clone(),
                bytes,
                tick,
            },
        );
        state.bytes += bytes;
        while state.bytes > self.budget {
            let Some(oldest) = state
                .kept
                .iter()
                .filter(|(m, _)| **m != month)
                .min_by_key(|(_, k)| k.tick)
                .map(|(m, _)| *m)
            else {
                break;
            };
            if let Some(gone) = state.kept.remove(&oldest) {
                state.bytes -= gone.bytes;
            }
        }
    }

    fn published(&self, current: Option<Month>) -> Option<Arc<[Month]>> {
        match &self.lock().published {
            Some((at, months)) if *at == current => Some(months.clone()),
            _ => None,
        }
    }

    fn remember_published(&self, current: Option<Month>, months: Arc<[Month]>) {
        self.lock().published = Some((current, months));
    }
}

impl CatalogService {
    /// The snapshot to read `month` from: the current one when `month` is none or the current
    /// month (no lock, no lookup: the current month's reads are what they were), else a past
    /// published month, from memory or loaded now. Any other month is MONTH_NOT_KEPT.
    pub(super) async fn as_of(&self, month: Option<Month>) -> Result<AsOf, DomainError> {
        let current = self.snapshot();
        let Some(month) = month.filter(|m| Some(*m) != current.month()) else {
            return Ok(AsOf::Current(current));
        };
        let kept = self.kept_months(current.month()).await?;
        if kept.binary_search(&month).is_err() {
            return Err(DomainError::month_not_kept(month, &kept));
        }
        let past = self
            .past
            .get_or_load(month, || self.build_month(month))
            .await?;
        Ok(AsOf::Past(past))
    }

    /// The published months up to the current one, oldest first; read from the store once
    /// per current month (months are published only forward, each swapping the snapshot).
    async fn kept_months(&self, current: Option<Month>) -> Result<Arc<[Month]>, DomainError> {
        if let Some(months) = self.past.published(current) {
            return Ok(months);
        }
        let months: Arc<[Month]> = self
            .store
            .published_months()
            .await?
            .into_iter()
            .filter(|m| current.is_some_and(|c| *m <= c))
            .collect();
        self.past.remember_published(current, months.clone());
        Ok(months)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn month(text: &str) -> Month {
        Month::parse("month", text).unwrap()
    }

    fn demo() -> Catalog {
        crate::demo::catalog().unwrap()
    }

    #[tokio::test]
    async fn concurrent_first_reads_of_a_month_load_it_once() {
        let past = Arc::new(PastMonths::new(1 << 30, 1 << 10));
        let loads = Arc::new(AtomicUsize::new(0));
        let readers = (0..16).map(|_| {
            let (past, loads) = (past.clone(), loads.clone());
            tokio::spawn(async move {
                past.get_or_load(month("2026-01"), || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok(demo())
                })
                .await
                .unwrap()
            })
        });
        let got = futures::future::join_all(readers).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for 16 readers");
        let first = got[0].as_ref().unwrap();
        assert!(got.iter().all(|g| Arc::ptr_eq(g.as_ref().unwrap(), first)));
        past.get_or_load(month("2026-01"), || async { panic!("loaded again") })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn months_are_kept_within_the_budget_the_least_recently_read_going_first() {
        let one = demo().footprint().total() + 1024;
        let past = PastMonths::new(one * 2, 1024);
        let loads = AtomicUsize::new(0);
        let read = |m: &'static str| {
            past.get_or_load(month(m), || async {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(demo())
            })
        };
        read("2026-01").await.unwrap();
        read("2026-02").await.unwrap();
        read("2026-01").await.unwrap(); // 2026-02 is now the least recent
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        read("2026-03").await.unwrap();
        assert_eq!(past.held(), one * 2, "two months fit");
        read("2026-01").await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 3, "2026-01 stayed");
        read("2026-02").await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 4, "2026-02 went first");
        assert!(past.held() <= one * 2);
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept_and_a_month_over_the_budget_is_answered_not_kept() {
        let past = PastMonths::new(1024, 1024);
        let failed = past
            .get_or_load(month("2026-01"), || async {
                Err(DomainError::Internal("no database".into()))
            })
            .await;
        assert!(failed.is_err());
        let big = past
            .get_or_load(month("2026-01"), || async { Ok(demo()) })
            .await
            .unwrap();
        assert!(big.catalog.counts().0 > 0);
        assert_eq!(past.held(), 0, "larger than the budget: not kept");
    }
}
