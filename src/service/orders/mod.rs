//! Order history, cancellation (of an order, or of one subscription with its add-ons) and
//! subscriptions with the record of their changes.

use std::sync::Arc;

use chrono::DateTime;

use super::Clock;
use super::catalog::{CatalogService, Page};
use super::customers::CustomerService;
use super::paging::{PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use crate::domain::eligibility;
use crate::domain::error::Precondition;
use crate::domain::ids::{CustomerId, OrderId, RequestId, SubscriptionId};
use crate::domain::order::{Order, Subscription};
pub use crate::domain::order::{OrderFilter, SubscriptionFilter};
use crate::store::{Cancellation, Store, WriteKey};

mod changes;
mod conversion;
mod renewals;

pub use changes::StateChange;
pub use conversion::ConvertTo;
pub use renewals::{RENEWAL_BATCH, RenewalCounts};

/// How many times a cancellation judged on something that moved meanwhile is judged again.
const CANCEL_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct OrderService {
    store: Store,
    catalog: CatalogService,
    customers: CustomerService,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
}

/// A change the catalog's rules refuse: each problem a violation of `subject` with its
/// figures, the message `what` followed by them all.
pub(super) fn refused_by_rules(
    what: &str,
    subject: &str,
    problems: &[eligibility::Problem],
) -> DomainError {
    let violations: Vec<Precondition> = problems
        .iter()
        .map(|p| Precondition {
            code: p.code.into(),
            subject: subject.to_owned(),
            description: p.described(),
        })
        .collect();
    let described: Vec<&str> = violations.iter().map(|v| v.description.as_str()).collect();
    DomainError::FailedPrecondition {
        message: format!("{what}: {}", described.join("; ")),
        violations,
    }
}

pub(super) fn bad_token() -> DomainError {
    DomainError::invalid("page_token", "INVALID_PAGE_TOKEN", "page_token is corrupt")
}

impl OrderService {
    pub fn new(
        store: Store,
        catalog: CatalogService,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            catalog,
            customers,
            tokens,
            clock,
        }
    }

    pub async fn get(&self, caller: &Caller, id: OrderId) -> Result<Order, DomainError> {
        let partner = caller.partner()?;
        self.store
            .order(partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found(OrderId::RESOURCE, id.to_string()))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        customer: CustomerId,
        filter: OrderFilter,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Order>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let (partner, _) = self.customers.buyer(caller, customer).await?;
        let query = format!("orders|{}|{customer}|{filter:?}", partner.id);
        let after = match self.tokens.decode(&query, page_token)? {
            None => None,
            Some(key) => {
                let (micros, id) = key.split_once('|').ok_or_else(bad_token)?;
                let at = micros
                    .parse::<i64>()
                    .ok()
                    .and_then(DateTime::from_timestamp_micros)
                    .ok_or_else(bad_token)?;
                Some((at, id.to_owned()))
            }
        };
        let items = self
            .store
            .list_orders(partner.id, customer, &filter, after, limit as u64 + 1)
            .await?;
        Ok(self.tokens.page(&query, limit, items, |item| {
            format!("{}|{}", item.created_at.timestamp_micros(), item.id)
        }))
    }

    /// Cancels inside the window of every line still held, refunding what was billed for
    /// the current billing period pro rata; outside it says until when it was possible.
    pub async fn cancel(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: OrderId,
        etag: Option<&str>,
    ) -> Result<Order, DomainError> {
        caller.require(caller.role.may_purchase(), "cancel orders")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "CancelOrder",
            fingerprint: id.to_string(),
        };
        let mut attempt = 0;
        loop {
            if self.store.replayed(&key).await?.is_some() {
                return self.get(caller, id).await;
            }
            let order = self.get(caller, id).await?;
            let now = self.clock.now();
            let own: Vec<SubscriptionId> = order.lines.iter().map(|l| l.subscription_id).collect();
            let held = self
                .store
                .subscriptions_with_addons(partner, order.customer_id, &own)
                .await?;
            let (refund, transactions) = order.cancel(etag, now, &held)?;
            let cancellation = Cancellation {
                customer: order.customer_id,
                order: Some((&order, refund)),
                transactions: &transactions,
                resource_id: &order.id.to_string(),
            };
            match self.store.cancel(partner, &key, cancellation, now).await {
                Ok(_) => return self.get(caller, id).await,
                // Something moved since it was read (the order completed by its provisioning,
                // an add-on changed): read and judge again; a stale etag of the caller's is
                // then told as such.
                Err(stale) if stale.is_stale_etag() && attempt + 1 < CANCEL_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn subscription(
        &self,
        caller: &Caller,
        id: SubscriptionId,
    ) -> Result<Subscription, DomainError> {
        let partner = caller.partner()?;
        let mut sub = self
            .store
            .subscription(partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found("subscription", id.to_string()))?;
        self.titled(&mut sub);
        Ok(sub)
    }

    fn titled(&self, sub: &mut Subscription) {
        if let Some(view) = self
            .catalog
            .snapshot()
            .sku(&sub.item.product, &sub.item.sku)
        {
            sub.title = view.sku.title.clone();
        }
    }

    pub async fn subscriptions(
        &self,
        caller: &Caller,
        customer: CustomerId,
        filter: SubscriptionFilter,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<Subscription>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let (partner, _) = self.customers.buyer(caller, customer).await?;
        let query = format!("subscriptions|{}|{customer}|{filter:?}", partner.id);
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|k| SubscriptionId::parse("page_token", &k))
            .transpose()?;
        let items = self
            .store
            .list_subscriptions(partner.id, customer, &filter, after, limit as u64 + 1)
            .await?;
        let Page {
            items,
            next_page_token,
        } = self
            .tokens
            .page(&query, limit, items, |item| item.id.to_string());
        let mut items = items;
        for sub in &mut items {
            self.titled(sub);
        }
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Provisioning: pending orders become completed once their subscriptions exist (they are
    /// written with the order, so one pass completes them).
    pub async fn provision_pending(&self) -> Result<u64, DomainError> {
        self.store.complete_pending_orders(500).await
    }

    /// Forgets the subscription events that occurred more than `months` months ago (each
    /// partner's oldest, up to its last one that old); how many.
    pub async fn purge_subscription_events(&self, months: u32) -> Result<u64, DomainError> {
        let before = self
            .clock
            .now()
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        self.store.purge_subscription_events(before).await
    }

    /// Forgets request ids older than two days (the promise is at least 24 hours).
    pub async fn purge_request_ids(&self) -> Result<u64, DomainError> {
        self.store
            .purge_request_ids(self.clock.now() - chrono::Duration::days(2))
            .await
    }
}
