//! The catalog-change log (a publish writes it: `publish.rs`), the catalog state, and the
//! listener that hears other replicas' publishes and customer changes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::cache::{CUSTOMER_CHANNEL, HOLDINGS_CHANNEL, PARTNER_CHANNEL};
use super::entity::{catalog_change, catalog_state, price_list};
use super::orders::events::SUBSCRIPTION_EVENTS_CHANNEL;
use super::{Store, corrupt};
use crate::domain::DomainError;
use crate::domain::catalog::{Month, ProductType, Segment};
use crate::domain::changes::{CatalogChange, ChangeKind, FieldChange};
use crate::domain::ids::{CustomerId, PartnerId};

/// The PostgreSQL notification channel a publish notifies, with the last revision as payload.
pub const NOTIFY_CHANNEL: &str = "csp_catalog_changes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogState {
    pub current_month: Option<Month>,
    pub last_revision: u64,
}

/// The revisions a publish wrote (`first > last` when the month changed nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub first_revision: u64,
    pub last_revision: u64,
    /// False when the month was already published: nothing was written.
    pub newly: bool,
}

pub(super) fn change_from_row(row: catalog_change::Model) -> Result<CatalogChange, DomainError> {
    let fields: Vec<FieldChange> =
        serde_json::from_str(&row.changes).map_err(|_| corrupt("changes", &row.changes))?;
    Ok(CatalogChange {
        revision: u64::try_from(row.revision)
            .map_err(|_| corrupt("revision", &row.revision.to_string()))?,
        month: Month::parse("month", &row.month)?,
        kind: ChangeKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
        product_id: row.product_id,
        sku_id: row.sku_id,
        availability_id: row.availability_id,
        country: row.country,
        segment: if row.segment.is_empty() {
            None
        } else {
            Some(Segment::from_db(&row.segment)?)
        },
        product_type: ProductType::from_db(&row.product_type)?,
        fields,
    })
}

impl Store {
    pub async fn catalog_state(&self) -> Result<CatalogState, DomainError> {
        let row = catalog_state::Entity::find_by_id(1)
            .one(self.engine.pool())
            .await?
            .ok_or_else(|| DomainError::Internal("the catalog_state row is missing".into()))?;
        Ok(CatalogState {
            current_month: row
                .current_month
                .as_deref()
                .map(|m| Month::parse("month", m))
                .transpose()?,
            last_revision: u64::try_from(row.last_revision).unwrap_or(0),
        })
    }

    /// Changes after `revision`, in revision order, at most `limit`.
    pub async fn changes_after(
        &self,
        revision: u64,
        limit: u64,
    ) -> Result<Vec<CatalogChange>, DomainError> {
        catalog_change::Entity::find()
            .filter(catalog_change::Column::Revision.gt(revision as i64))
            .order_by_asc(catalog_change::Column::Revision)
            .limit(limit)
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(change_from_row)
            .collect()
    }

    /// The oldest revision still in the log, if any.
    pub async fn oldest_revision(&self) -> Result<Option<u64>, DomainError> {
        let oldest = catalog_change::Entity::find()
            .select_only()
            .column_as(Expr::col(catalog_change::Column::Revision).min(), "oldest")
            .into_tuple::<Option<i64>>()
            .one(self.engine.pool())
            .await?
            .flatten();
        Ok(oldest.map(|r| r as u64))
    }

    /// Whether `month` is stored and how.
    pub async fn month_status(&self, month: Month) -> Result<Option<String>, DomainError> {
        Ok(price_list::Entity::find_by_id(month.to_string())
            .one(self.engine.pool())
            .await?
            .map(|p| p.status))
    }

    /// When `month` was last imported (`None`: never): what tells one import of a month from
    /// the next.
    pub async fn imported_at(&self, month: Month) -> Result<Option<DateTime<Utc>>, DomainError> {
        Ok(price_list::Entity::find_by_id(month.to_string())
            .one(self.engine.pool())
            .await?
            .map(|p| p.imported_at))
    }
}

/// The listener's first wait before it tries again after a failure, and its longest.
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// Why the listener stopped listening without an error.
enum Stopped {
    /// The receiver of publishes went away (or there is nothing to listen to, on SQLite).
    ReceiverGone,
    /// The connection was lost: what was announced meanwhile was missed.
    ConnectionLost,
}

impl Store {
    /// Yields whenever another process publishes (PostgreSQL LISTEN/NOTIFY), and makes this
    /// process hear other replicas' customer and partner changes (see `cache/standings.rs`,
    /// `cache/partners.rs`). On SQLite, one process owns the file and the channel never yields.
    ///
    /// While the listener is not connected (it failed, or its connection was lost) this process
    /// caches no customer standing nor partner, since it may miss their changes; it says so at
    /// WARN, and at INFO when it listens again.
    pub fn publish_notifications(&self) -> tokio::sync::mpsc::Receiver<()> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        if self.engine.sole_writer() {
            // One process owns the file: nobody else publishes.
            return rx;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut again = false;
            // While it fails: the next try waits 100 ms, doubling up to 1 s, or until the
            // health probe sees the database answer again.
            let mut retry = RETRY_FIRST;
            let mut failing = false;
            loop {
                let database_back = store.database_back.notified();
                let outcome = store.listen(&tx, again).await;
                store.standings.disable();
                store.partners.disable();
                again = true;
                match outcome {
                    Ok(Stopped::ReceiverGone) => return,
                    // Reconnect at once: nothing is cached until then.
                    Ok(Stopped::ConnectionLost) => {
                        failing = false;
                        retry = RETRY_FIRST;
                        tracing::warn!(
                            "the listener's connection to PostgreSQL was lost: other replicas' \
                             changes may have been missed, so customer standings and partners \
                             are forgotten and none is cached until it listens again"
                        );
                    }
                    Err(e) => {
                        // Once per outage, not at every try.
                        if !failing {
                            tracing::warn!(error = %e, "listening for catalog publishes and customer changes failed; customer standings and partners are not cached until it listens again; reconnecting");
                        }
                        failing = true;
                        tokio::select! {
                            () = tokio::time::sleep(retry) => {}
                            () = database_back => {}
                        }
                        retry = (retry * 2).min(RETRY_MAX);
                    }
                }
            }
        });
        rx
    }

    /// Forwards publishes and forgets changed customers until the receiver goes away or the
    /// connection is lost (`Ok`), or fails. `again`: a listener was connected before (so
    /// publishes may have been missed, and following again is worth a line in the log).
    async fn listen(
        &self,
        tx: &tokio::sync::mpsc::Sender<()>,
        again: bool,
    ) -> Result<Stopped, sea_orm::sqlx::Error> {
        let Some(mut listener) = self.engine.listener().await? else {
            return Ok(Stopped::ReceiverGone);
        };
        listener
            .listen_all([
                NOTIFY_CHANNEL,
                CUSTOMER_CHANNEL,
                HOLDINGS_CHANNEL,
                PARTNER_CHANNEL,
                SUBSCRIPTION_EVENTS_CHANNEL,
            ])
            .await?;
        // From here on every change is heard; what was cached before may have been missed.
        self.standings.enable();
        self.partners.enable();
        if again {
            tracing::info!(
                "listening again for catalog publishes and customer changes; caching customer standings and partners again"
            );
            // A publish may have been missed: let the pump read the log.
            if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                return Ok(Stopped::ReceiverGone);
            }
        }
        loop {
            // `None`: the connection was lost (the listener does not reconnect by itself).
            let Some(notification) = listener.try_recv().await? else {
                return Ok(Stopped::ConnectionLost);
            };
            let channel = notification.channel();
            if channel == SUBSCRIPTION_EVENTS_CHANNEL {
                // A lost one only delays events: the streams' pump also polls.
                if let Ok(id) = PartnerId::parse("partner", notification.payload()) {
                    self.written_partners.mark(id);
                }
                continue;
            }
            if channel == PARTNER_CHANNEL {
                match PartnerId::parse("partner", notification.payload()) {
                    Ok(id) => self.partners.forget(id),
                    Err(_) => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "a partner change named no partner id; forgetting every partner"
                        );
                        self.partners.forget_all();
                    }
                }
                continue;
            }
            if channel == CUSTOMER_CHANNEL || channel == HOLDINGS_CHANNEL {
                // Holdings: `<customer id>[:<holdings version>]`.
                let (customer, version) = match notification.payload().split_once(':') {
                    Some((customer, version)) if channel == HOLDINGS_CHANNEL => {
                        (customer, version.parse().ok())
                    }
                    _ => (notification.payload(), None),
                };
                match CustomerId::parse("customer", customer) {
                    Ok(id) if channel == HOLDINGS_CHANNEL => {
                        self.standings.holdings_announced(id, version)
                    }
                    Ok(id) => self.standings.forget(id),
                    Err(_) => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "a customer change named no customer id; forgetting every customer"
                        );
                        self.standings.forget_all();
                    }
                }
                continue;
            }
            // A full channel already holds a wake-up: the pump reads everything at once.
            if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                return Ok(Stopped::ReceiverGone);
            }
        }
    }
}
