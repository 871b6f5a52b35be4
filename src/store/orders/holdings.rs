//! What a customer holds, as the purchase rules read it.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, QueryResult};

use super::super::entity::{customer, subscription};
use super::super::{corrupt, parse_sku_pairs};
use crate::domain::DomainError;
use crate::domain::cart::{ParentSubscription, Parents};
use crate::domain::eligibility::{Holding, HoldingStatus, Holdings};
use crate::domain::ids::{CustomerId, PartnerId, ProductId, SkuId, SubscriptionId};
use crate::domain::order::{Subscription, SubscriptionStatus};

/// What a customer holds: its subscriptions counted per SKU for the rules, and the ones an
/// add-on may hang on. Cloning it copies the counts (one entry per SKU held), not the
/// subscriptions.
#[derive(Debug, Clone, Default)]
pub struct CustomerHoldings {
    pub holdings: Holdings,
    pub parents: Parents,
    /// The customer's `holdings_version` these were read at, when read with it.
    pub version: Option<i64>,
}

/// The columns of a subscription the rules read: what it is, its seats and state.
const HOLDING_COLUMNS: [subscription::Column; 7] = [
    subscription::Column::Id,
    subscription::Column::ProductId,
    subscription::Column::SkuId,
    subscription::Column::Quantity,
    subscription::Column::Status,
    subscription::Column::IsTrial,
    subscription::Column::ConvertedFrom,
];

/// What a customer holds, with the `holdings_version` it was read at (none if there is no such
/// customer).
pub(in crate::store) async fn read_holdings<C: ConnectionTrait>(
    db: &C,
    customer: CustomerId,
) -> Result<CustomerHoldings, DomainError> {
    Ok(holdings_at(db, None, customer).await?.unwrap_or_default())
}

/// What a customer (of `partner`, when given) holds, with the `holdings_version` it was read
/// at, in one statement (one snapshot); `None` if there is no such customer.
pub(super) async fn holdings_at<C: ConnectionTrait>(
    db: &C,
    partner: Option<PartnerId>,
    customer: CustomerId,
) -> Result<Option<CustomerHoldings>, DomainError> {
    let mut query = Query::select()
        .column((customer::Entity, customer::Column::HoldingsVersion))
        .columns(HOLDING_COLUMNS.map(|c| (subscription::Entity, c)))
        .from(customer::Entity)
        .left_join(
            subscription::Entity,
            Expr::col((subscription::Entity, subscription::Column::CustomerId))
                .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(Expr::col((customer::Entity, customer::Column::Id)).eq(customer.to_string()))
        .to_owned();
    if let Some(partner) = partner {
        query.and_where(
            Expr::col((customer::Entity, customer::Column::PartnerId)).eq(partner.to_string()),
        );
    }
    let rows = db.query_all(&query).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let version: i64 = first.try_get("", "holdings_version")?;
    let mut holdings = holdings_from_rows(&rows)?;
    holdings.version = Some(version);
    Ok(Some(holdings))
}

/// A subscription's status as the rules count it.
fn holding_status(status: SubscriptionStatus) -> HoldingStatus {
    match status {
        SubscriptionStatus::Active => HoldingStatus::Active,
        SubscriptionStatus::Suspended => HoldingStatus::Suspended,
        SubscriptionStatus::Cancelled => HoldingStatus::Cancelled,
        SubscriptionStatus::Expired => HoldingStatus::Expired,
    }
}

impl CustomerHoldings {
    /// Counts subscription `id`, held as `h`, in.
    fn hold(&mut self, id: SubscriptionId, h: Holding) {
        self.parents.push_back(ParentSubscription {
            id,
            product_id: h.product_id.clone(),
            sku_id: h.sku_id.clone(),
            active: h.status == HoldingStatus::Active,
        });
        self.holdings.add(h);
    }

    /// What is held once `subscriptions` are written on top of it, at `version`.
    pub(in crate::store) fn with(
        &self,
        subscriptions: &[Subscription],
        version: i64,
    ) -> CustomerHoldings {
        let mut next = self.clone();
        for s in subscriptions {
            next.hold(
                s.id,
                Holding {
                    product_id: s.item.product.clone(),
                    sku_id: s.item.sku.clone(),
                    quantity: i64::from(s.quantity),
                    status: holding_status(s.status),
                    is_trial: s.is_trial,
                    converted_from: None,
                },
            );
        }
        next.version = Some(version);
        next
    }
}

/// Rows of `HOLDING_COLUMNS` (a row without a subscription, from an outer join, is skipped).
fn holdings_from_rows(rows: &[QueryResult]) -> Result<CustomerHoldings, DomainError> {
    let mut out = CustomerHoldings::default();
    for row in rows {
        let Some(id) = row.try_get::<Option<String>>("", "id")? else {
            continue;
        };
        let product: String = row.try_get("", "product_id")?;
        let sku: String = row.try_get("", "sku_id")?;
        let quantity: i32 = row.try_get("", "quantity")?;
        let status: String = row.try_get("", "status")?;
        let is_trial: bool = row.try_get("", "is_trial")?;
        let converted_from: Option<String> = row.try_get("", "converted_from")?;
        let converted_from = match converted_from.as_deref() {
            Some(pair) => parse_sku_pairs(pair)?.pop(),
            None => None,
        };
        let id = SubscriptionId::parse("id", &id).map_err(|_| corrupt("subscription", &id))?;
        let product_id =
            ProductId::parse("p", &product).map_err(|_| corrupt("product", &product))?;
        let sku_id = SkuId::parse("s", &sku).map_err(|_| corrupt("sku", &sku))?;
        let status =
            SubscriptionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        out.hold(
            id,
            Holding {
                product_id,
                sku_id,
                quantity: i64::from(quantity),
                status: holding_status(status),
                is_trial,
                converted_from,
            },
        );
    }
    Ok(out)
}
