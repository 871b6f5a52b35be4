//! A month's changes: listed (ListMonthChanges' pages, the `changes` command, which keeps
//! them for the publish: `store/staged.rs`) and published. The diff walks both months SKU by
//! SKU (`domain::changes::diff_sku`), handing its changes to the publish's transaction, or to a
//! page, as they come: a page reads its few SKUs from the store (`Store::sku_pairs`); a whole
//! diff (the `changes` command, a publish) reads each month once, compactly, and walks them in
//! memory (`Store::month_pairs`).
//!
//! A first month (no month was published before it) changes nothing: it is how the catalog
//! begins, and its publish writes no change events (the revisions stay where they are). A
//! subscriber learns the catalog by reading it and follows its changes from the revision it
//! read at (`WatchCatalogChanges`); replaying from revision 0 gives the changes of every later
//! month, without gap.

use super::CatalogService;
use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::changes::{CatalogChange, diff_sku};
use crate::domain::error::Precondition;
use crate::service::paging::{Page, page_size};
use crate::store::{PublishStart, Published, SkuPairs, concurrent_publish};

/// Kept changes read back a batch at a time.
const STAGED_BATCH: u64 = 5000;

/// A change's place in a month's changes: (product id, SKU id, availability id).
type ChangeKey = (String, String, String);

fn key_of(c: &CatalogChange) -> (&str, &str, &str) {
    (&c.product_id, &c.sku_id, &c.availability_id)
}

/// A month's changes against the month before it, a few SKUs at a time, in (product, SKU,
/// availability) order.
struct MonthChanges {
    month: Month,
    /// The month diffed against: the one current when the changes were asked for.
    against: Option<Month>,
    /// `None`: a first month, which changes nothing.
    pairs: Option<SkuPairs>,
    /// Only changes after this one (a page token's).
    after: Option<ChangeKey>,
}

impl MonthChanges {
    async fn next(&mut self) -> Result<Option<Vec<CatalogChange>>, DomainError> {
        let Some(pairs) = &mut self.pairs else {
            return Ok(None);
        };
        while let Some(step) = pairs.next().await? {
            let mut changes: Vec<CatalogChange> = step
                .iter()
                .flat_map(|p| diff_sku(p.old.as_ref(), p.new.as_ref(), self.month))
                .collect();
            if let Some((p, s, a)) = &self.after {
                let after = (p.as_str(), s.as_str(), a.as_str());
                changes.retain(|c| key_of(c) > after);
            }
            if !changes.is_empty() {
                return Ok(Some(changes));
            }
        }
        Ok(None)
    }
}

fn already_published(month: Month) -> DomainError {
    DomainError::FailedPrecondition {
        message: format!(
            "month {month} is already published: its changes are in the change stream"
        ),
        violations: vec![Precondition {
            code: "MONTH_ALREADY_PUBLISHED".into(),
            subject: format!("months/{month}"),
            description: "watch the catalog changes from the month's first revision".into(),
        }],
    }
}

impl CatalogService {
    /// The changes of the imported `month` against the current month, after `after`.
    /// `whole`: every change is wanted (the months are read whole, not SKU by SKU).
    async fn month_changes(
        &self,
        month: Month,
        after: Option<ChangeKey>,
        whole: bool,
    ) -> Result<MonthChanges, DomainError> {
        match self.store.month_status(month).await?.as_deref() {
            Some(crate::store::STATUS_IMPORTED) => {}
            Some(_) => return Err(already_published(month)),
            None => return Err(DomainError::not_found("imported month", month.to_string())),
        }
        let against = self.store.catalog_state().await?.current_month;
        let pairs = match against {
            Some(current) if whole && after.is_none() => {
                Some(self.store.month_pairs(current, month).await?)
            }
            Some(current) => Some(
                self.store
                    .sku_pairs(
                        current,
                        month,
                        after.as_ref().map(|(p, s, _)| (p.clone(), s.clone())),
                    )
                    .await?,
            ),
            None => None,
        };
        Ok(MonthChanges {
            month,
            against,
            pairs,
            after,
        })
    }

    /// Hands every change publishing the imported `month` would make to `each`, in order
    /// (`changes` on the command line); answers how many there are. What it lists is kept
    /// for the month's publish (`store/staged.rs`); listed again, the kept changes are read
    /// back, if they are still the month's diff.
    pub async fn each_month_change(
        &self,
        month: Month,
        mut each: impl FnMut(&CatalogChange),
    ) -> Result<usize, DomainError> {
        // Read before the months: a later import or publish leaves what is kept stale.
        let imported = self.store.imported_at(month).await?;
        let current = self.store.catalog_state().await?.current_month;
        let kept = self.store.staged_diff(month).await?;
        if let Some(kept) = kept.filter(|k| k.is_for(current, imported))
            && self.store.month_status(month).await?.as_deref()
                == Some(crate::store::STATUS_IMPORTED)
        {
            let mut after = 0;
            loop {
                let batch = self
                    .store
                    .staged_changes(month, after, STAGED_BATCH)
                    .await?;
                let Some(last) = batch.last() else { break };
                after = last.revision;
                batch.iter().for_each(&mut each);
            }
            tracing::info!(%month, changes = kept.changes, "month changes read back from those kept");
            return Ok(kept.changes as usize);
        }
        let mut changes = self.month_changes(month, None, true).await?;
        let mut staging = match (changes.against, imported) {
            (Some(against), Some(imported)) if Some(against) == current => {
                Some(self.store.begin_staging(month, against, imported).await?)
            }
            _ => None,
        };
        let mut count = 0;
        while let Some(batch) = changes.next().await? {
            count += batch.len();
            batch.iter().for_each(&mut each);
            if let Some(staging) = &mut staging {
                staging.write(batch).await?;
            }
        }
        if let Some(staging) = staging {
            staging.commit().await?;
        }
        Ok(count)
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
                let mut parts = k.split('\t').map(str::to_owned);
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(p), Some(s), Some(a), None) => Ok((p, s, a)),
                    _ => Err(DomainError::invalid(
                        "page_token",
                        "INVALID_PAGE_TOKEN",
                        "page_token is corrupt",
                    )),
                }
            })
            .transpose()?;
        let mut changes = self.month_changes(month, after, false).await?;
        let mut items: Vec<CatalogChange> = Vec::new();
        while items.len() <= limit
            && let Some(batch) = changes.next().await?
        {
            items.extend(batch);
        }
        let next_page_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map_or_else(String::new, |c| {
                self.tokens.encode(
                    &query,
                    &format!("{}\t{}\t{}", c.product_id, c.sku_id, c.availability_id),
                )
            })
        } else {
            String::new()
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Makes the imported `month` current and swaps it in for every reader of this process
    /// (see `publish_stored`); the feed is woken.
    pub async fn publish(&self, month: Month) -> Result<Published, DomainError> {
        let published = self.publish_stored(month).await?;
        if published.newly {
            self.reload().await?;
            self.published.notify_one();
        }
        Ok(published)
    }

    /// Makes the imported `month` current in the store, without loading it here (the command
    /// line's `publish`): its change events (the diff against the month current until now,
    /// written in batches as it is made) and the new state commit in one transaction.
    /// Publishing the current month again changes nothing.
    ///
    /// Both months are read before the transaction begins: it holds the store's write turn
    /// (on SQLite every other write waits for it) only while it writes. It then checks that it
    /// publishes what was read, the same current month and the same import of `month`, else
    /// ABORTED CONCURRENT_PUBLISH with nothing written.
    pub async fn publish_stored(&self, month: Month) -> Result<Published, DomainError> {
        let imported = self.store.imported_at(month).await?;
        let current = self.store.catalog_state().await?.current_month;
        // The diff kept by the `changes` command, when it is this one: not read again.
        let kept = self
            .store
            .staged_diff(month)
            .await?
            .is_some_and(|k| k.is_for(current, imported));
        let read = match current {
            Some(current) if current < month && imported.is_some() && !kept => {
                Some((current, self.store.month_pairs(current, month).await?))
            }
            _ => None,
        };
        let mut publishing = match self.store.begin_publish(month, self.clock.now()).await? {
            PublishStart::Done(published) => return Ok(published),
            PublishStart::Open(publishing) => publishing,
        };
        // The kept diff is checked again inside the transaction: the one it publishes.
        if kept && publishing.write_staged().await? {
            let published = publishing.commit(self.change_log_months).await?;
            tracing::info!(%month, first = published.first_revision, last = published.last_revision, "month published from its kept changes");
            return Ok(published);
        }
        if let Some(previous) = publishing.previous() {
            let pairs = match read {
                Some((current, pairs))
                    if current == previous && imported == Some(publishing.imported_at()) =>
                {
                    pairs
                }
                // Dropped, the transaction is rolled back.
                _ => return Err(concurrent_publish(month)),
            };
            let mut changes = MonthChanges {
                month,
                against: Some(previous),
                pairs: Some(pairs),
                after: None,
            };
            while let Some(batch) = changes.next().await? {
                publishing.write(&batch).await?;
            }
        }
        let published = publishing.commit(self.change_log_months).await?;
        tracing::info!(%month, first = published.first_revision, last = published.last_revision, "month published");
        Ok(published)
    }
}
