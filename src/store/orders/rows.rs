//! Orders and subscriptions, from their rows.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::super::entity::{order, order_line, subscription, subscription_transaction};
use super::super::{corrupt, uuid};
use crate::domain::DomainError;
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::ids::{
    AvailabilityId, CatalogItemId, CustomerId, OrderId, PartnerId, ProductId, SkuId, SubscriptionId,
};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{
    ExpiryReason, NextTerm, Order, OrderLine, OrderStatus, Subscription, SubscriptionStatus,
    SubscriptionTransaction, TransactionKind,
};

fn item(product: &str, sku: &str, availability: &str) -> Result<CatalogItemId, DomainError> {
    Ok(CatalogItemId {
        product: ProductId::parse("p", product).map_err(|_| corrupt("product", product))?,
        sku: SkuId::parse("s", sku).map_err(|_| corrupt("sku", sku))?,
        availability: AvailabilityId::parse("a", availability)
            .map_err(|_| corrupt("availability", availability))?,
    })
}

fn currency(code: &str) -> Result<Currency, DomainError> {
    Currency::parse("c", code).map_err(|_| corrupt("currency", code))
}

/// The next term scheduled on a row (`None` when nothing is).
fn next_term(s: &subscription::Model) -> Result<Option<NextTerm>, DomainError> {
    let sku = match (&s.next_sku_id, &s.next_availability_id) {
        (Some(sku), Some(availability)) => Some((
            SkuId::parse("s", sku).map_err(|_| corrupt("next sku", sku))?,
            AvailabilityId::parse("a", availability)
                .map_err(|_| corrupt("next availability", availability))?,
        )),
        _ => None,
    };
    let next = NextTerm {
        term: s.next_term.as_deref().map(Term::from_db).transpose()?,
        billing_cycle: s
            .next_billing_cycle
            .as_deref()
            .map(BillingCycle::from_db)
            .transpose()?,
        quantity: s.next_quantity,
        sku,
    };
    Ok((next != NextTerm::default()).then_some(next))
}

pub(super) fn subscription_from_row(s: subscription::Model) -> Result<Subscription, DomainError> {
    Ok(Subscription {
        next_term: next_term(&s)?,
        expiry_reason: s
            .expiry_reason
            .as_deref()
            .map(ExpiryReason::from_db)
            .transpose()?,
        unit_price: Money::from_micros(currency(&s.currency)?, s.unit_price_micros),
        id: SubscriptionId::parse("id", &s.id).map_err(|_| corrupt("subscription", &s.id))?,
        customer_id: CustomerId::parse("c", &s.customer_id)
            .map_err(|_| corrupt("customer", &s.customer_id))?,
        order_id: uuid("order", &s.order_id)?.into(),
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

pub(in crate::store) async fn load_order<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: OrderId,
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
    let transactions = transactions_of_orders(db, vec![id.to_string()]).await?;
    order_from_rows(row, lines, transactions).map(Some)
}

/// The transactions of the subscriptions of `orders`, oldest first.
pub(super) async fn transactions_of_orders<C: ConnectionTrait>(
    db: &C,
    orders: Vec<String>,
) -> Result<Vec<subscription_transaction::Model>, DomainError> {
    Ok(subscription_transaction::Entity::find()
        .filter(subscription_transaction::Column::OrderId.is_in(orders))
        .order_by_asc(subscription_transaction::Column::CreatedAt)
        .order_by_asc(subscription_transaction::Column::SubscriptionId)
        .order_by_asc(subscription_transaction::Column::Version)
        .all(db)
        .await?)
}

pub(super) fn transaction_from_row(
    t: subscription_transaction::Model,
) -> Result<SubscriptionTransaction, DomainError> {
    Ok(SubscriptionTransaction {
        subscription_id: SubscriptionId::parse("s", &t.subscription_id)
            .map_err(|_| corrupt("subscription", &t.subscription_id))?,
        version: t.version,
        customer_id: CustomerId::parse("c", &t.customer_id)
            .map_err(|_| corrupt("customer", &t.customer_id))?,
        order_id: uuid("order", &t.order_id)?.into(),
        kind: TransactionKind::from_db(&t.kind)?,
        quantity_delta: t.quantity_delta,
        quantity: t.quantity,
        period_start: t.period_start,
        period_end: t.period_end,
        amount: Money::from_micros(currency(&t.currency)?, t.amount_micros),
        created_at: t.created_at,
    })
}

pub(super) fn order_from_rows(
    row: order::Model,
    lines: Vec<order_line::Model>,
    transactions: Vec<subscription_transaction::Model>,
) -> Result<Order, DomainError> {
    let currency = currency(&row.currency)?;
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
        id: uuid("order id", &row.id)?.into(),
        order_number: row.order_number,
        customer_id: CustomerId::parse("c", &row.customer_id)
            .map_err(|_| corrupt("customer", &row.customer_id))?,
        cart_id: uuid("cart id", &row.cart_id)?.into(),
        status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        lines,
        total: Money::from_micros(currency, row.total_micros),
        created_at: row.created_at,
        cancelled_at: row.cancelled_at,
        refund: row.refund_micros.map(|m| Money::from_micros(currency, m)),
        version: row.version,
        transactions: transactions
            .into_iter()
            .map(transaction_from_row)
            .collect::<Result<_, _>>()?,
    })
}
