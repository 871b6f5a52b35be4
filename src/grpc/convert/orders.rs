//! Orders and subscriptions to the wire.

use super::{billing_cycle_to_pb, money, pb, periods, term_to_pb, timestamp};
use crate::domain::catalog::{billing_periods, line_charge, totals_by_currency};

pub fn order_status(s: crate::domain::order::OrderStatus) -> pb::OrderStatus {
    use crate::domain::order::OrderStatus;
    match s {
        OrderStatus::Pending => pb::OrderStatus::Pending,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
        OrderStatus::Failed => pb::OrderStatus::Failed,
    }
}

pub fn subscription_status(s: crate::domain::order::SubscriptionStatus) -> pb::SubscriptionStatus {
    use crate::domain::order::SubscriptionStatus;
    match s {
        SubscriptionStatus::Active => pb::SubscriptionStatus::Active,
        SubscriptionStatus::Suspended => pb::SubscriptionStatus::Suspended,
        SubscriptionStatus::Cancelled => pb::SubscriptionStatus::Cancelled,
        SubscriptionStatus::Expired => pb::SubscriptionStatus::Expired,
    }
}

pub fn order(o: &crate::domain::order::Order) -> pb::Order {
    let charges: Vec<_> = o
        .lines
        .iter()
        .map(|l| line_charge(l.unit_price, l.quantity, l.term, l.billing_cycle))
        .collect();
    pb::Order {
        id: o.id.to_string(),
        order_number: o.order_number.clone(),
        customer_id: o.customer_id.to_string(),
        cart_id: o.cart_id.to_string(),
        status: order_status(o.status).into(),
        currency_code: o.total.currency.code().to_owned(),
        lines: o
            .lines
            .iter()
            .zip(&charges)
            .map(|(l, charge)| pb::OrderLine {
                line_number: l.line_number,
                catalog_item_id: l.item.to_string(),
                product_title: l.product_title.clone(),
                sku_title: l.sku_title.clone(),
                quantity: l.quantity,
                term: term_to_pb(l.term).into(),
                billing_cycle: billing_cycle_to_pb(l.billing_cycle).into(),
                unit_term_price: Some(money(l.unit_price)),
                term_price: Some(money(l.extended_price)),
                subscription_id: l.subscription_id.to_string(),
                billing_period_charge: charge.map(money),
                billing_periods: periods(billing_periods(l.term, l.billing_cycle)),
            })
            .collect(),
        total: Some(money(o.total)),
        create_time: Some(timestamp(o.created_at)),
        cancel_time: o.cancelled_at.map(timestamp),
        refund: o.refund.map(money),
        etag: o.etag(),
        // One currency per order: one total, or none when a charge does not fit.
        first_charge_total: (charges.iter().all(Option::is_some))
            .then(|| totals_by_currency(charges.iter().flatten().copied()))
            .and_then(|totals| totals.into_iter().next())
            .map(money),
        transactions: o.transactions.iter().map(transaction).collect(),
    }
}

pub fn transaction(
    t: &crate::domain::order::SubscriptionTransaction,
) -> pb::SubscriptionTransaction {
    use crate::domain::order::TransactionKind;
    pb::SubscriptionTransaction {
        subscription_id: t.subscription_id.to_string(),
        version: t.version,
        order_id: t.order_id.to_string(),
        customer_id: t.customer_id.to_string(),
        r#type: match t.kind {
            TransactionKind::New => pb::TransactionType::New,
            TransactionKind::AddQuantity => pb::TransactionType::AddQuantity,
            TransactionKind::RemoveQuantity => pb::TransactionType::RemoveQuantity,
            TransactionKind::Cancel => pb::TransactionType::Cancel,
            TransactionKind::Renew => pb::TransactionType::Renew,
            TransactionKind::Convert => pb::TransactionType::Convert,
            TransactionKind::Expire => pb::TransactionType::Expire,
        }
        .into(),
        quantity_delta: t.quantity_delta,
        quantity: t.quantity,
        period_start_time: Some(timestamp(t.period_start)),
        period_end_time: t.period_end.map(timestamp),
        amount: Some(money(t.amount)),
        create_time: Some(timestamp(t.created_at)),
    }
}

pub fn subscription(s: &crate::domain::order::Subscription) -> pb::Subscription {
    pb::Subscription {
        id: s.id.to_string(),
        customer_id: s.customer_id.to_string(),
        order_id: s.order_id.to_string(),
        catalog_item_id: s.item.to_string(),
        product_id: s.item.product.to_string(),
        sku_id: s.item.sku.to_string(),
        title: s.title.clone(),
        quantity: s.quantity,
        term: term_to_pb(s.term).into(),
        billing_cycle: billing_cycle_to_pb(s.billing_cycle).into(),
        status: subscription_status(s.status).into(),
        start_time: Some(timestamp(s.start_at)),
        commitment_end_time: s.commitment_end_at.map(timestamp),
        auto_renew: s.auto_renew,
        parent_subscription_id: s.parent.map(|p| p.to_string()).unwrap_or_default(),
        etag: s.etag(),
        unit_term_price: Some(money(s.unit_price)),
        next_term: s.next_term.as_ref().map(|next| next_term(s, next)),
        expiry_reason: s
            .expiry_reason
            .map_or(pb::ExpiryReason::Unspecified, expiry_reason)
            .into(),
    }
}

fn next_term(
    s: &crate::domain::order::Subscription,
    next: &crate::domain::order::NextTerm,
) -> pb::NextTerm {
    pb::NextTerm {
        term: next
            .term
            .map_or(pb::TermDuration::Unspecified, term_to_pb)
            .into(),
        billing_cycle: next
            .billing_cycle
            .map_or(pb::BillingCycle::Unspecified, billing_cycle_to_pb)
            .into(),
        quantity: next.quantity.unwrap_or(0),
        sku_id: next
            .sku
            .as_ref()
            .map(|(sku, _)| sku.to_string())
            .unwrap_or_default(),
        catalog_item_id: next
            .sku
            .as_ref()
            .map(|(sku, availability)| format!("{}:{sku}:{availability}", s.item.product))
            .unwrap_or_default(),
    }
}

pub fn expiry_reason(r: crate::domain::order::ExpiryReason) -> pb::ExpiryReason {
    use crate::domain::order::ExpiryReason;
    match r {
        ExpiryReason::AutoRenewOff => pb::ExpiryReason::AutoRenewOff,
        ExpiryReason::TrialEnded => pb::ExpiryReason::TrialEnded,
        ExpiryReason::BaseEnded => pb::ExpiryReason::BaseEnded,
        ExpiryReason::RenewalUnavailable => pb::ExpiryReason::RenewalUnavailable,
    }
}

pub fn subscription_event(
    e: &crate::domain::subscription::SubscriptionEvent,
) -> pb::SubscriptionEvent {
    use crate::domain::subscription::SubscriptionEventKind as Kind;
    pb::SubscriptionEvent {
        revision: e.revision,
        r#type: match e.kind {
            Kind::Created => pb::SubscriptionEventType::Created,
            Kind::QuantityChanged => pb::SubscriptionEventType::QuantityChanged,
            Kind::Renewed => pb::SubscriptionEventType::Renewed,
            Kind::Expired => pb::SubscriptionEventType::Expired,
            Kind::Cancelled => pb::SubscriptionEventType::Cancelled,
            Kind::Suspended => pb::SubscriptionEventType::Suspended,
            Kind::Reactivated => pb::SubscriptionEventType::Reactivated,
            Kind::Converted => pb::SubscriptionEventType::Converted,
            Kind::AutoRenewChanged => pb::SubscriptionEventType::AutoRenewChanged,
            Kind::NextTermScheduled => pb::SubscriptionEventType::NextTermScheduled,
        }
        .into(),
        subscription_id: e.subscription.id.to_string(),
        customer_id: e.subscription.customer_id.to_string(),
        event_time: Some(timestamp(e.occurred_at)),
        subscription: Some(subscription(&e.subscription)),
        transaction: e.transaction.as_ref().map(transaction),
    }
}
