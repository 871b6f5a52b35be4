//! Checkout, orders and subscriptions. Checkout is one transaction: the order, its lines, one
//! subscription per line and the cart's `ordered` status commit together or not at all.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::carts::{claim, load_cart};
use super::entity::{customer, order, order_line, subscription};
use super::idempotency::{WriteKey, record, replay};
use super::{Store, corrupt, uuid};
use crate::domain::DomainError;
use crate::domain::cart::{Cart, CartStatus, ParentSubscription};
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::eligibility::{Holding, HoldingStatus};
use crate::domain::ids::{
    AvailabilityId, CatalogItemId, CustomerId, PartnerId, ProductId, SkuId, SubscriptionId,
};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{Order, OrderLine, OrderStatus, Subscription, SubscriptionStatus};

fn item(product: &str, sku: &str, availability: &str) -> Result<CatalogItemId, DomainError> {
    Ok(CatalogItemId {
        product: ProductId::parse("p", product).map_err(|_| corrupt("product", product))?,
        sku: SkuId::parse("s", sku).map_err(|_| corrupt("sku", sku))?,
        availability: AvailabilityId::parse("a", availability)
            .map_err(|_| corrupt("availability", availability))?,
    })
}

fn subscription_from_row(s: subscription::Model) -> Result<Subscription, DomainError> {
    Ok(Subscription {
        id: SubscriptionId::parse("id", &s.id).map_err(|_| corrupt("subscription", &s.id))?,
        customer_id: CustomerId::parse("c", &s.customer_id)
            .map_err(|_| corrupt("customer", &s.customer_id))?,
        order_id: uuid("order", &s.order_id)?,
        item: item(&s.product_id, &s.sku_id, &s.availability_id)?,
        title: String::new(),
        quantity: s.quantity,
        term: Term::from_db(&s.term)?,
        billing_cycle: BillingCycle::from_db(&s.billing_cycle)?,
        status: SubscriptionStatus::parse(&s.status).ok_or_else(|| corrupt("status", &s.status))?,
        is_trial: s.is_trial,
        start_at: s.start_at,
        commitment_end_at: s.commitment_end_at,
        auto_renew: s.auto_renew,
        parent: s
            .parent_subscription_id
            .as_deref()
            .map(|p| SubscriptionId::parse("p", p).map_err(|_| corrupt("parent", p)))
            .transpose()?,
        version: s.version,
    })
}

async fn load_order<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: uuid::Uuid,
) -> Result<Option<Order>, DomainError> {
    let Some(row) = order::Entity::find_by_id(id.to_string())
        .filter(order::Column::PartnerId.eq(partner.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(id.to_string()))
        .order_by_asc(order_line::Column::LineNumber)
        .all(db)
        .await?;
    order_from_rows(row, lines).map(Some)
}

fn order_from_rows(row: order::Model, lines: Vec<order_line::Model>) -> Result<Order, DomainError> {
    let currency =
        Currency::parse("c", &row.currency).map_err(|_| corrupt("currency", &row.currency))?;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                line_number: l.line_number,
                item: item(&l.product_id, &l.sku_id, &l.availability_id)?,
                product_title: l.product_title,
                sku_title: l.sku_title,
                quantity: l.quantity,
                term: Term::from_db(&l.term)?,
                billing_cycle: BillingCycle::from_db(&l.billing_cycle)?,
                unit_price: Money::from_micros(currency, l.unit_price_micros),
                extended_price: Money::from_micros(currency, l.extended_price_micros),
                subscription_id: SubscriptionId::parse("s", &l.subscription_id)
                    .map_err(|_| corrupt("subscription", &l.subscription_id))?,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Order {
        id: uuid("order id", &row.id)?,
        order_number: row.order_number,
        customer_id: CustomerId::parse("c", &row.customer_id)
            .map_err(|_| corrupt("customer", &row.customer_id))?,
        cart_id: uuid("cart id", &row.cart_id)?,
        status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        lines,
        total: Money::from_micros(currency, row.total_micros),
        created_at: row.created_at,
        cancelled_at: row.cancelled_at,
        refund: row.refund_micros.map(|m| Money::from_micros(currency, m)),
        version: row.version,
    })
}

/// What the customer holds, read inside the checkout transaction.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub holdings: Vec<Holding>,
    pub parents: Vec<ParentSubscription>,
}

pub(super) async fn held<C: ConnectionTrait>(
    db: &C,
    customer: CustomerId,
) -> Result<Held, DomainError> {
    let rows = subscription::Entity::find()
        .filter(subscription::Column::CustomerId.eq(customer.to_string()))
        .all(db)
        .await?;
    let mut out = Held::default();
    for s in rows {
        let sub = subscription_from_row(s)?;
        let status = match sub.status {
            SubscriptionStatus::Active => HoldingStatus::Active,
            SubscriptionStatus::Suspended => HoldingStatus::Suspended,
            SubscriptionStatus::Cancelled => HoldingStatus::Cancelled,
            SubscriptionStatus::Expired => HoldingStatus::Expired,
        };
        out.parents.push(ParentSubscription {
            id: sub.id,
            product_id: sub.item.product.clone(),
            sku_id: sub.item.sku.clone(),
            active: sub.status == SubscriptionStatus::Active,
        });
        out.holdings.push(Holding {
            product_id: sub.item.product,
            sku_id: sub.item.sku,
            quantity: i64::from(sub.quantity),
            status,
            is_trial: sub.is_trial,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub status: Option<SubscriptionStatus>,
    pub product: Option<ProductId>,
    pub parent: Option<SubscriptionId>,
}

/// How a checkout ended.
#[derive(Debug)]
pub enum CheckoutOutcome {
    /// This request created the order.
    Created(Order),
    /// The cart was already ordered, or this request id already checked it out.
    Existing(Order),
}

impl Store {
    pub async fn order(
        &self,
        partner: PartnerId,
        id: uuid::Uuid,
    ) -> Result<Option<Order>, DomainError> {
        load_order(&self.db, partner, id).await
    }

    /// Checks a cart out. Inside one transaction: the customer's row is locked (checkouts of one
    /// customer are serialized, so seat limits hold across carts and replicas), the cart is
    /// claimed at its version, `plan` re-evaluates the rules on what the customer holds now and
    /// returns the order and its subscriptions, and everything is written.
    pub async fn checkout<F>(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        now: DateTime<Utc>,
        plan: F,
    ) -> Result<CheckoutOutcome, DomainError>
    where
        F: FnOnce(&Held) -> Result<(Order, Vec<Subscription>), DomainError>,
    {
        if let Some(existing) = replay(&self.db, key).await? {
            return self.existing_order(partner, &existing).await;
        }
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        // The first statement writes, so SQLite takes its write lock at once instead of failing
        // a read-to-write upgrade; on PostgreSQL this row lock serializes the customer's checkouts.
        let locked = customer::Entity::update_many()
            .col_expr(
                customer::Column::UpdatedAt,
                Expr::col(customer::Column::UpdatedAt),
            )
            .filter(customer::Column::Id.eq(cart.customer_id.to_string()))
            .filter(customer::Column::PartnerId.eq(partner.to_string()))
            .exec(&txn)
            .await?;
        if locked.rows_affected != 1 {
            return Err(DomainError::not_found(
                "customer",
                cart.customer_id.to_string(),
            ));
        }
        let order_id = uuid::Uuid::now_v7();
        if !record(&txn, key, &order_id.to_string(), now).await? {
            drop(txn);
            drop(turn);
            return Box::pin(self.checkout(partner, key, cart, now, plan)).await;
        }
        if !claim(
            &txn,
            partner,
            cart.id,
            cart.version,
            now,
            CartStatus::Ordered,
            Some(order_id),
        )
        .await?
        {
            drop(txn);
            drop(turn);
            return self.checkout_lost(partner, cart.id, now).await;
        }
        let holdings = held(&txn, cart.customer_id).await?;
        let (mut order, subscriptions) = plan(&holdings)?;
        order.id = order_id;
        order::Entity::insert(order::ActiveModel {
            id: Set(order.id.to_string()),
            partner_id: Set(partner.to_string()),
            customer_id: Set(order.customer_id.to_string()),
            cart_id: Set(order.cart_id.to_string()),
            order_number: Set(order.order_number.clone()),
            status: Set(order.status.as_str().to_owned()),
            currency: Set(order.total.currency.code().to_owned()),
            total_micros: Set(order.total.micros),
            created_at: Set(order.created_at),
            cancelled_at: Set(None),
            refund_micros: Set(None),
            version: Set(order.version),
        })
        .exec_without_returning(&txn)
        .await?;
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| order_line::ActiveModel {
                order_id: Set(order.id.to_string()),
                line_number: Set(l.line_number),
                product_id: Set(l.item.product.to_string()),
                sku_id: Set(l.item.sku.to_string()),
                availability_id: Set(l.item.availability.to_string()),
                product_title: Set(l.product_title.clone()),
                sku_title: Set(l.sku_title.clone()),
                quantity: Set(l.quantity),
                term: Set(l.term.as_str().to_owned()),
                billing_cycle: Set(l.billing_cycle.as_str().to_owned()),
                unit_price_micros: Set(l.unit_price.micros),
                extended_price_micros: Set(l.extended_price.micros),
                subscription_id: Set(l.subscription_id.to_string()),
            })
            .collect();
        if !lines.is_empty() {
            order_line::Entity::insert_many(lines)
                .exec_without_returning(&txn)
                .await?;
        }
        let subs: Vec<_> = subscriptions
            .iter()
            .map(|s| subscription::ActiveModel {
                id: Set(s.id.to_string()),
                partner_id: Set(partner.to_string()),
                customer_id: Set(s.customer_id.to_string()),
                order_id: Set(order.id.to_string()),
                product_id: Set(s.item.product.to_string()),
                sku_id: Set(s.item.sku.to_string()),
                availability_id: Set(s.item.availability.to_string()),
                quantity: Set(s.quantity),
                term: Set(s.term.as_str().to_owned()),
                billing_cycle: Set(s.billing_cycle.as_str().to_owned()),
                status: Set(s.status.as_str().to_owned()),
                is_trial: Set(s.is_trial),
                parent_subscription_id: Set(s.parent.map(|p| p.to_string())),
                start_at: Set(s.start_at),
                commitment_end_at: Set(s.commitment_end_at),
                auto_renew: Set(s.auto_renew),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            })
            .collect();
        if !subs.is_empty() {
            subscription::Entity::insert_many(subs)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        self.customer_changed(cart.customer_id);
        Ok(CheckoutOutcome::Created(order))
    }

    async fn existing_order(
        &self,
        partner: PartnerId,
        id: &str,
    ) -> Result<CheckoutOutcome, DomainError> {
        let id = uuid("order id", id)?;
        load_order(&self.db, partner, id)
            .await?
            .map(CheckoutOutcome::Existing)
            .ok_or_else(|| {
                DomainError::Internal(format!("request id points at missing order {id}"))
            })
    }

    /// The cart could not be claimed: it was ordered meanwhile (answer with that order), it
    /// changed (ABORTED), or it expired.
    async fn checkout_lost(
        &self,
        partner: PartnerId,
        cart_id: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<CheckoutOutcome, DomainError> {
        let cart = load_cart(&self.db, partner, cart_id)
            .await?
            .ok_or_else(|| DomainError::not_found("cart", cart_id.to_string()))?;
        match (cart.status, cart.order_id) {
            (CartStatus::Ordered, Some(order_id)) => {
                self.existing_order(partner, &order_id.to_string()).await
            }
            _ if cart.is_expired(now) => Err(DomainError::FailedPrecondition {
                message: format!("the cart expired at {}", cart.expires_at.to_rfc3339()),
                violations: Vec::new(),
            }),
            _ => Err(DomainError::Aborted {
                reason: "ETAG_MISMATCH",
                message: format!(
                    "the cart changed (etag {} now): review it again before checking out",
                    cart.etag()
                ),
            }),
        }
    }

    /// A customer's orders, newest first, optionally by status and creation time, after the
    /// `(created_at, id)` key of the previous page.
    pub async fn list_orders(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &OrderFilter,
        after: Option<(DateTime<Utc>, String)>,
        limit: u64,
    ) -> Result<Vec<Order>, DomainError> {
        let OrderFilter { status, from, to } = *filter;
        let mut query = order::Entity::find()
            .filter(order::Column::PartnerId.eq(partner.to_string()))
            .filter(order::Column::CustomerId.eq(customer.to_string()))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(order::Column::Status.eq(status.as_str()));
        }
        if let Some(from) = from {
            query = query.filter(order::Column::CreatedAt.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(order::Column::CreatedAt.lt(to));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                Expr::col(order::Column::CreatedAt)
                    .lt(at)
                    .or(Expr::col(order::Column::CreatedAt)
                        .eq(at)
                        .and(Expr::col(order::Column::Id).lt(id))),
            );
        }
        let rows = query.all(&self.db).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.is_in(ids))
            .order_by_asc(order_line::Column::LineNumber)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    lines.drain(..).partition(|l| l.order_id == row.id);
                lines = rest;
                order_from_rows(row, mine)
            })
            .collect()
    }

    /// Cancels an order at `version` and its subscriptions with the add-ons hanging on them,
    /// recording the refund.
    pub async fn cancel_order(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        order: &Order,
        refund: Money,
        now: DateTime<Utc>,
    ) -> Result<Order, DomainError> {
        if let Some(existing) = replay(&self.db, key).await? {
            let id = uuid("order id", &existing)?;
            return load_order(&self.db, partner, id)
                .await?
                .ok_or_else(|| DomainError::not_found("order", id.to_string()));
        }
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let updated = order::Entity::update_many()
            .col_expr(
                order::Column::Status,
                Expr::value(OrderStatus::Cancelled.as_str()),
            )
            .col_expr(order::Column::CancelledAt, Expr::value(now))
            .col_expr(order::Column::RefundMicros, Expr::value(refund.micros))
            .col_expr(
                order::Column::Version,
                Expr::col(order::Column::Version).add(1),
            )
            .filter(order::Column::Id.eq(order.id.to_string()))
            .filter(order::Column::PartnerId.eq(partner.to_string()))
            .filter(order::Column::Version.eq(order.version))
            .filter(order::Column::Status.is_in([
                OrderStatus::Pending.as_str(),
                OrderStatus::Completed.as_str(),
            ]))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DomainError::Aborted {
                reason: "ETAG_MISMATCH",
                message: "the order changed while this request ran: read it again".into(),
            });
        }
        if !record(&txn, key, &order.id.to_string(), now).await? {
            drop(txn);
            drop(turn);
            return Box::pin(self.cancel_order(partner, key, order, refund, now)).await;
        }
        let own: Vec<String> = order
            .lines
            .iter()
            .map(|l| l.subscription_id.to_string())
            .collect();
        subscription::Entity::update_many()
            .col_expr(
                subscription::Column::Status,
                Expr::value(SubscriptionStatus::Cancelled.as_str()),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::AutoRenew, Expr::value(false))
            .col_expr(
                subscription::Column::Version,
                Expr::col(subscription::Column::Version).add(1),
            )
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(
                subscription::Column::Id
                    .is_in(own.clone())
                    .or(subscription::Column::ParentSubscriptionId.is_in(own)),
            )
            .filter(subscription::Column::Status.ne(SubscriptionStatus::Cancelled.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        // Add-ons hang on a base of the same customer.
        self.customer_changed(order.customer_id);
        load_order(&self.db, partner, order.id)
            .await?
            .ok_or_else(|| DomainError::not_found("order", order.id.to_string()))
    }

    /// Marks pending orders whose subscriptions exist as completed; returns how many.
    pub async fn complete_pending_orders(&self, limit: u64) -> Result<u64, DomainError> {
        let pending: Vec<String> = order::Entity::find()
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()))
            .order_by_asc(order::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        let _turn = self.write_turn().await;
        let done = order::Entity::update_many()
            .col_expr(
                order::Column::Status,
                Expr::value(OrderStatus::Completed.as_str()),
            )
            .col_expr(
                order::Column::Version,
                Expr::col(order::Column::Version).add(1),
            )
            .filter(order::Column::Id.is_in(pending))
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }

    pub async fn subscription(
        &self,
        partner: PartnerId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, DomainError> {
        subscription::Entity::find_by_id(id.to_string())
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .one(&self.db)
            .await?
            .map(subscription_from_row)
            .transpose()
    }

    pub async fn list_subscriptions(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &SubscriptionFilter,
        after: Option<SubscriptionId>,
        limit: u64,
    ) -> Result<Vec<Subscription>, DomainError> {
        let SubscriptionFilter {
            status,
            product,
            parent,
        } = filter.clone();
        let mut query = subscription::Entity::find()
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::CustomerId.eq(customer.to_string()))
            .order_by_asc(subscription::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(subscription::Column::Status.eq(status.as_str()));
        }
        if let Some(product) = product {
            query = query.filter(subscription::Column::ProductId.eq(product.to_string()));
        }
        if let Some(parent) = parent {
            query = query.filter(subscription::Column::ParentSubscriptionId.eq(parent.to_string()));
        }
        if let Some(after) = after {
            query = query.filter(subscription::Column::Id.gt(after.to_string()));
        }
        query
            .all(&self.db)
            .await?
            .into_iter()
            .map(subscription_from_row)
            .collect()
    }
}
