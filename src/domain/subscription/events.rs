//! What other services of a partner (billing, provisioning) are told of its subscriptions: one
//! event per change, numbered per partner without a gap, each with the subscription as the
//! change left it and the transaction on the record when the change has one.

use chrono::{DateTime, Utc};

use super::{Subscription, SubscriptionTransaction, TransactionKind};

text_enum!(
    /// What happened to a subscription.
    SubscriptionEventKind {
        Created = "created",
        QuantityChanged = "quantity_changed",
        Renewed = "renewed",
        Expired = "expired",
        Cancelled = "cancelled",
        Suspended = "suspended",
        Reactivated = "reactivated",
        Converted = "converted",
        AutoRenewChanged = "auto_renew_changed",
        NextTermScheduled = "next_term_scheduled",
    }
);

impl SubscriptionEventKind {
    /// The event a transaction on the record makes: every transaction makes one.
    pub fn of_transaction(kind: TransactionKind) -> Self {
        match kind {
            TransactionKind::New => Self::Created,
            TransactionKind::AddQuantity | TransactionKind::RemoveQuantity => Self::QuantityChanged,
            TransactionKind::Cancel => Self::Cancelled,
            TransactionKind::Renew => Self::Renewed,
            TransactionKind::Expire => Self::Expired,
            TransactionKind::Convert => Self::Converted,
        }
    }
}

/// One change of a subscription, as the stream tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEvent {
    /// The partner's revision: gap-free and increasing in commit order.
    pub revision: u64,
    pub kind: SubscriptionEventKind,
    pub occurred_at: DateTime<Utc>,
    /// The subscription as the change left it.
    pub subscription: Subscription,
    /// The change's transaction on the record, when it has one.
    pub transaction: Option<SubscriptionTransaction>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transaction_makes_an_event_of_its_own_kind() {
        let kinds: Vec<_> = TransactionKind::ALL
            .iter()
            .map(|k| SubscriptionEventKind::of_transaction(*k))
            .collect();
        assert_eq!(
            kinds,
            [
                SubscriptionEventKind::Created,
                SubscriptionEventKind::QuantityChanged,
                SubscriptionEventKind::QuantityChanged,
                SubscriptionEventKind::Cancelled,
                SubscriptionEventKind::Renewed,
                SubscriptionEventKind::Converted,
                SubscriptionEventKind::Expired,
            ]
        );
    }
}
