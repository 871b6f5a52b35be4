//! A trial's conversion into a paid subscription of one of its SKU's conversion targets:
//! judged by checkout's rules on the current price list, written under the holdings-version
//! guard of a quantity change, keeping the subscription's id.

use super::{OrderService, refused_by_rules};
use crate::domain::DomainError;
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::customer::Caller;
use crate::domain::eligibility::{self, Buyer, Intent};
use crate::domain::error::Precondition;
use crate::domain::ids::{CatalogItemId, RequestId, SubscriptionId};
use crate::domain::order::{
    Conversion, Subscription, SubscriptionTransaction, check_conversion_target, order_code,
};
use crate::store::WriteKey;

/// What a trial is asked to convert to: the paid catalog item, its term and billing cycle,
/// and the seats (0: the trial's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertTo {
    pub item: CatalogItemId,
    pub term: Term,
    pub billing_cycle: BillingCycle,
    pub quantity: i32,
}

impl OrderService {
    /// Converts trial `id` into a paid subscription of `to` (one of its SKU's conversion
    /// targets, purchasable by the customer now: checkout's rules on the current price list),
    /// at `etag` if given, once per request id. The subscription keeps its id. Answers it and
    /// the CONVERT transaction.
    pub async fn convert_trial(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        id: SubscriptionId,
        etag: Option<&str>,
        to: &ConvertTo,
    ) -> Result<(Subscription, SubscriptionTransaction), DomainError> {
        caller.require(caller.role.may_purchase(), "convert trials")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "ConvertTrialSubscription",
            fingerprint: format!(
                "{id}|{}|{}|{}|{}|{}",
                to.item,
                to.term,
                to.billing_cycle,
                to.quantity,
                etag.unwrap_or_default()
            ),
        };
        let mut attempt = 0;
        loop {
            if let Some(done) = self.store.replayed(&key).await? {
                return self.changed(caller, id, &done).await;
            }
            let sub = self.subscription(caller, id).await?;
            sub.check_convertible(etag)?;
            let quantity = sub.conversion_quantity(to.quantity)?;
            let now = self.clock.now();
            let catalog = self.catalog.snapshot();
            let subject = format!("subscriptions/{id}");
            let trial = catalog
                .sku(&sub.item.product, &sub.item.sku)
                .ok_or_else(|| DomainError::FailedPrecondition {
                    message: "the trial's SKU is no longer in the current price list: it names no conversion target".into(),
                    violations: vec![Precondition {
                        code: order_code::CONVERSION_TARGET_NOT_ALLOWED.into(),
                        subject: subject.clone(),
                        description: format!(
                            "{}/{} is not in the current price list",
                            sub.item.product, sub.item.sku
                        ),
                    }],
                })?;
            check_conversion_target(trial.sku, &to.item, &subject)?;
            let item = catalog
                .item(&to.item)
                .ok_or_else(|| DomainError::not_found("catalog item", to.item.to_string()))?;
            let (partner_record, standing) = self.customers.buyer(caller, sub.customer_id).await?;
            let (holdings, version) = self.holdings_of(partner, &sub).await?;
            let buyer = Buyer {
                catalog: &catalog,
                partner: &partner_record,
                customer: &standing.customer,
                role: caller.role,
                holdings: &holdings,
                now,
            };
            let intent = Intent {
                item,
                quantity,
                term: to.term,
                billing_cycle: to.billing_cycle,
            };
            let problems = eligibility::check(&buyer, &intent);
            let price = item.availability.price_for(to.term, to.billing_cycle);
            let Some(price) = price.filter(|_| problems.is_empty()) else {
                return Err(refused_by_rules(
                    &format!("the trial cannot convert to {}", to.item),
                    &format!("catalog_items/{}", to.item),
                    &problems,
                ));
            };
            let conversion = Conversion {
                item: to.item.clone(),
                term: to.term,
                billing_cycle: to.billing_cycle,
                quantity,
                unit_price: price.unit_price,
            };
            let (after, change) = sub.converted(&conversion, now)?;
            let written = self
                .store
                .convert_trial(partner, &key, &sub, &after, &change, version, now)
                .await;
            if let Some(done) = self
                .after_judged_write(caller, id, written, change, &mut attempt)
                .await?
            {
                return Ok(done);
            }
        }
    }
}
