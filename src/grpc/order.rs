//! OrderService handlers.

use tonic::{Request, Response, Status};

use super::pb::order_service_server::OrderService;
use super::{caller, convert, pb};
use crate::domain::DomainError;
use crate::domain::error::Violations;
use crate::domain::ids::{
    CatalogItemId, CustomerId, OrderId, ProductId, RequestId, SkuId, SubscriptionId,
};
use crate::domain::order::{NextTermRequest, OrderStatus, SubscriptionStatus};
use crate::service::orders::{
    ConvertTo, OrderFilter, OrderService as Orders, StateChange, SubscriptionFilter,
};

#[derive(Debug, Clone)]
pub struct OrderApi {
    pub orders: Orders,
}

fn unknown(field: &str, raw: i32) -> DomainError {
    DomainError::invalid(
        field,
        "UNKNOWN_ENUM_VALUE",
        format!("{field} {raw} is not a known value"),
    )
}

/// A write to one subscription: its request id and the subscription, each parsed (every bad
/// field reported at once).
fn subscription_write(
    request_id: &str,
    subscription_id: &str,
) -> Result<(RequestId, SubscriptionId), DomainError> {
    let mut v = Violations::new();
    let request_id = v.check(RequestId::parse("request_id", request_id));
    let id = v.check(SubscriptionId::parse("subscription_id", subscription_id));
    v.into_result()?;
    request_id
        .zip(id)
        .ok_or_else(DomainError::parsed_field_missing)
}

/// A next term as asked for (each unset field: as now), its bad fields reported in `v`.
fn next_term_request(next: pb::NextTerm, v: &mut Violations) -> Option<NextTermRequest> {
    let pb::NextTerm {
        term,
        billing_cycle,
        quantity,
        sku_id,
        catalog_item_id: _,
    } = next;
    let term = match term {
        0 => None,
        raw => Some(v.check(convert::term("next_term.term", raw))?),
    };
    let billing_cycle = match billing_cycle {
        0 => None,
        raw => Some(v.check(convert::billing_cycle("next_term.billing_cycle", raw))?),
    };
    let quantity = match quantity {
        0 => None,
        q if q < 0 => {
            v.check::<()>(Err(DomainError::invalid(
                "next_term.quantity",
                "OUT_OF_RANGE",
                format!("next_term.quantity must be positive (0: as now), not {q}"),
            )));
            return None;
        }
        q => Some(q),
    };
    let sku = if sku_id.is_empty() {
        None
    } else {
        Some(v.check(SkuId::parse("next_term.sku_id", &sku_id))?)
    };
    Some(NextTermRequest {
        term,
        billing_cycle,
        quantity,
        sku,
    })
}

impl OrderApi {
    /// A status or auto-renew change of one subscription, parsed and made.
    async fn set_state(
        &self,
        caller: &crate::domain::customer::Caller,
        request_id: &str,
        subscription_id: &str,
        etag: &str,
        change: StateChange,
    ) -> Result<pb::Subscription, DomainError> {
        let (request_id, id) = subscription_write(request_id, subscription_id)?;
        let etag = (!etag.is_empty()).then_some(etag);
        let sub = self
            .orders
            .set_state(caller, &request_id, id, etag, change)
            .await?;
        Ok(convert::subscription(&sub))
    }
}

#[tonic::async_trait]
impl OrderService for OrderApi {
    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::GetOrderResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetOrderRequest { order_id } = request.into_inner();
        let id = OrderId::parse("order_id", &order_id)?;
        let order = self.orders.get(&caller, id).await?;
        Ok(Response::new(pb::GetOrderResponse {
            order: Some(convert::order(&order)),
        }))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListOrdersRequest {
            customer_id,
            status,
            create_time_from,
            create_time_to,
            page_size,
            page_token,
        } = request.into_inner();
        let mut v = Violations::new();
        let customer = v.check(CustomerId::parse("customer_id", &customer_id));
        let status = match pb::OrderStatus::try_from(status) {
            Ok(pb::OrderStatus::Unspecified) => None,
            Ok(pb::OrderStatus::Pending) => Some(OrderStatus::Pending),
            Ok(pb::OrderStatus::Completed) => Some(OrderStatus::Completed),
            Ok(pb::OrderStatus::Cancelled) => Some(OrderStatus::Cancelled),
            Ok(pb::OrderStatus::Failed) => Some(OrderStatus::Failed),
            Err(_) => {
                v.check::<()>(Err(unknown("status", status)));
                None
            }
        };
        let from = create_time_from
            .and_then(|t| v.check(convert::parse_timestamp("create_time_from", &t)));
        let to =
            create_time_to.and_then(|t| v.check(convert::parse_timestamp("create_time_to", &t)));
        v.into_result()?;
        let customer = customer.ok_or_else(DomainError::parsed_field_missing)?;
        let page = self
            .orders
            .list(
                &caller,
                customer,
                OrderFilter { status, from, to },
                page_size,
                &page_token,
            )
            .await?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders: page.items.iter().map(convert::order).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CancelOrderRequest {
            request_id,
            order_id,
            etag,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(OrderId::parse("order_id", &order_id));
        v.into_result()?;
        let (Some(request_id), Some(id)) = (request_id, id) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let etag = (!etag.is_empty()).then_some(etag.as_str());
        let order = self.orders.cancel(&caller, &request_id, id, etag).await?;
        Ok(Response::new(pb::CancelOrderResponse {
            order: Some(convert::order(&order)),
        }))
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListSubscriptionsRequest {
            customer_id,
            status,
            product_id,
            parent_subscription_id,
            page_size,
            page_token,
        } = request.into_inner();
        let mut v = Violations::new();
        let customer = v.check(CustomerId::parse("customer_id", &customer_id));
        let status = match pb::SubscriptionStatus::try_from(status) {
            Ok(pb::SubscriptionStatus::Unspecified) => None,
            Ok(pb::SubscriptionStatus::Active) => Some(SubscriptionStatus::Active),
            Ok(pb::SubscriptionStatus::Suspended) => Some(SubscriptionStatus::Suspended),
            Ok(pb::SubscriptionStatus::Cancelled) => Some(SubscriptionStatus::Cancelled),
            Ok(pb::SubscriptionStatus::Expired) => Some(SubscriptionStatus::Expired),
            Err(_) => {
                v.check::<()>(Err(unknown("status", status)));
                None
            }
        };
        let product = if product_id.is_empty() {
            None
        } else {
            v.check(ProductId::parse("product_id", &product_id))
        };
        let parent = if parent_subscription_id.is_empty() {
            None
        } else {
            v.check(SubscriptionId::parse(
                "parent_subscription_id",
                &parent_subscription_id,
            ))
        };
        v.into_result()?;
        let customer = customer.ok_or_else(DomainError::parsed_field_missing)?;
        let page = self
            .orders
            .subscriptions(
                &caller,
                customer,
                SubscriptionFilter {
                    status,
                    product,
                    parent,
                },
                page_size,
                &page_token,
            )
            .await?;
        Ok(Response::new(pb::ListSubscriptionsResponse {
            subscriptions: page.items.iter().map(convert::subscription).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn cancel_subscription(
        &self,
        request: Request<pb::CancelSubscriptionRequest>,
    ) -> Result<Response<pb::CancelSubscriptionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CancelSubscriptionRequest {
            request_id,
            subscription_id,
            etag,
        } = request.into_inner();
        let (request_id, id) = subscription_write(&request_id, &subscription_id)?;
        let etag = (!etag.is_empty()).then_some(etag.as_str());
        let (sub, transactions) = self
            .orders
            .cancel_subscription(&caller, &request_id, id, etag)
            .await?;
        Ok(Response::new(pb::CancelSubscriptionResponse {
            subscription: Some(convert::subscription(&sub)),
            transactions: transactions.iter().map(convert::transaction).collect(),
        }))
    }

    async fn change_subscription_quantity(
        &self,
        request: Request<pb::ChangeSubscriptionQuantityRequest>,
    ) -> Result<Response<pb::ChangeSubscriptionQuantityResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ChangeSubscriptionQuantityRequest {
            request_id,
            subscription_id,
            etag,
            quantity,
        } = request.into_inner();
        let (request_id, id) = subscription_write(&request_id, &subscription_id)?;
        let etag = (!etag.is_empty()).then_some(etag.as_str());
        let (sub, change) = self
            .orders
            .change_quantity(&caller, &request_id, id, etag, quantity)
            .await?;
        Ok(Response::new(pb::ChangeSubscriptionQuantityResponse {
            subscription: Some(convert::subscription(&sub)),
            transaction: Some(convert::transaction(&change)),
        }))
    }

    async fn convert_trial_subscription(
        &self,
        request: Request<pb::ConvertTrialSubscriptionRequest>,
    ) -> Result<Response<pb::ConvertTrialSubscriptionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ConvertTrialSubscriptionRequest {
            request_id,
            subscription_id,
            etag,
            catalog_item_id,
            term,
            billing_cycle,
            quantity,
        } = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check(RequestId::parse("request_id", &request_id));
        let id = v.check(SubscriptionId::parse("subscription_id", &subscription_id));
        let item = v.check(CatalogItemId::parse("catalog_item_id", &catalog_item_id));
        let term = v.check(convert::term("term", term));
        let billing_cycle = v.check(convert::billing_cycle("billing_cycle", billing_cycle));
        if quantity < 0 {
            v.push(crate::domain::FieldViolation::new(
                "quantity",
                "OUT_OF_RANGE",
                format!("quantity must be at least 1 (or 0 for the trial's), got {quantity}"),
            ));
        }
        v.into_result()?;
        let (Some(request_id), Some(id), Some(item), Some(term), Some(billing_cycle)) =
            (request_id, id, item, term, billing_cycle)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let etag = (!etag.is_empty()).then_some(etag.as_str());
        let to = ConvertTo {
            item,
            term,
            billing_cycle,
            quantity,
        };
        let (sub, change) = self
            .orders
            .convert_trial(&caller, &request_id, id, etag, &to)
            .await?;
        Ok(Response::new(pb::ConvertTrialSubscriptionResponse {
            subscription: Some(convert::subscription(&sub)),
            transaction: Some(convert::transaction(&change)),
        }))
    }

    async fn suspend_subscription(
        &self,
        request: Request<pb::SuspendSubscriptionRequest>,
    ) -> Result<Response<pb::SuspendSubscriptionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::SuspendSubscriptionRequest {
            request_id,
            subscription_id,
            etag,
        } = request.into_inner();
        let sub = self
            .set_state(
                &caller,
                &request_id,
                &subscription_id,
                &etag,
                StateChange::Suspend,
            )
            .await?;
        Ok(Response::new(pb::SuspendSubscriptionResponse {
            subscription: Some(sub),
        }))
    }

    async fn reactivate_subscription(
        &self,
        request: Request<pb::ReactivateSubscriptionRequest>,
    ) -> Result<Response<pb::ReactivateSubscriptionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ReactivateSubscriptionRequest {
            request_id,
            subscription_id,
            etag,
        } = request.into_inner();
        let sub = self
            .set_state(
                &caller,
                &request_id,
                &subscription_id,
                &etag,
                StateChange::Reactivate,
            )
            .await?;
        Ok(Response::new(pb::ReactivateSubscriptionResponse {
            subscription: Some(sub),
        }))
    }

    async fn set_subscription_auto_renew(
        &self,
        request: Request<pb::SetSubscriptionAutoRenewRequest>,
    ) -> Result<Response<pb::SetSubscriptionAutoRenewResponse>, Status> {
        let caller = caller(&request)?;
        let pb::SetSubscriptionAutoRenewRequest {
            request_id,
            subscription_id,
            etag,
            auto_renew,
        } = request.into_inner();
        let change = StateChange::AutoRenew(auto_renew);
        let sub = self
            .set_state(&caller, &request_id, &subscription_id, &etag, change)
            .await?;
        Ok(Response::new(pb::SetSubscriptionAutoRenewResponse {
            subscription: Some(sub),
        }))
    }

    async fn list_subscription_transactions(
        &self,
        request: Request<pb::ListSubscriptionTransactionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionTransactionsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListSubscriptionTransactionsRequest {
            subscription_id,
            page_size,
            page_token,
        } = request.into_inner();
        let id = SubscriptionId::parse("subscription_id", &subscription_id)?;
        let page = self
            .orders
            .history(&caller, id, page_size, &page_token)
            .await?;
        Ok(Response::new(pb::ListSubscriptionTransactionsResponse {
            transactions: page.items.iter().map(convert::transaction).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn schedule_next_term(
        &self,
        request: Request<pb::ScheduleNextTermRequest>,
    ) -> Result<Response<pb::ScheduleNextTermResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ScheduleNextTermRequest {
            request_id,
            subscription_id,
            etag,
            next_term,
        } = request.into_inner();
        let mut v = Violations::new();
        let ids = v.check(subscription_write(&request_id, &subscription_id));
        let next = next_term.map(|n| next_term_request(n, &mut v));
        v.into_result()?;
        let (request_id, id) = ids.ok_or_else(DomainError::parsed_field_missing)?;
        let next = next.flatten();
        let etag = (!etag.is_empty()).then_some(etag.as_str());
        let sub = self
            .orders
            .schedule_next_term(&caller, &request_id, id, etag, next)
            .await?;
        Ok(Response::new(pb::ScheduleNextTermResponse {
            subscription: Some(convert::subscription(&sub)),
        }))
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::GetSubscriptionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetSubscriptionRequest { subscription_id } = request.into_inner();
        let id = SubscriptionId::parse("subscription_id", &subscription_id)?;
        let sub = self.orders.subscription(&caller, id).await?;
        Ok(Response::new(pb::GetSubscriptionResponse {
            subscription: Some(convert::subscription(&sub)),
        }))
    }
}
