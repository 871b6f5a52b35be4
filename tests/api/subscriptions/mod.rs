//! After the sale, through the wire: the record of every subscription change (checkout's
//! "new", cancellations) and cancelling one subscription with its add-ons, each line inside
//! its own window, refunds from what was billed for the billing period.

mod cancel;
mod quantity;
mod state;

use crate::common::{self, TestApp, rid};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;

pub const E3: (&str, &str) = ("CFQ7TTC02ROY", "0001"); // seat limit 300
pub const AUDIO: (&str, &str) = ("CFQ7TTC05WUF", "0001"); // add-on of E3
pub const SQL_PERPETUAL: (&str, &str) = ("DG7GMGF0DWBM", "0001"); // no term, billed once

/// A line of `sku`'s US commercial availability.
pub async fn line(
    app: &TestApp,
    sku: (&str, &str),
    quantity: i32,
    term: pb::TermDuration,
    cycle: pb::BillingCycle,
) -> pb::CartLineInput {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    pb::CartLineInput {
        catalog_item_id: common::commercial_availability(&mut catalog, sku, "US")
            .await
            .catalog_item_id,
        quantity,
        term: term.into(),
        billing_cycle: cycle.into(),
        provisioning_context: None,
    }
}

/// An order of `lines` for us-fabrikam, placed now by the US sales agent.
pub async fn buy(app: &TestApp, lines: Vec<pb::CartLineInput>) -> pb::Order {
    let cart = app
        .carts("us", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("us-fabrikam"),
            lines,
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    app.carts("us", Role::SalesAgent)
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap()
}

/// CancelSubscription of `id` at `etag` under `request_id`, as `partner`'s sales agent.
pub async fn cancel(
    app: &TestApp,
    partner: &str,
    id: &str,
    etag: &str,
    request_id: &str,
) -> Result<pb::CancelSubscriptionResponse, tonic::Status> {
    app.orders(partner, Role::SalesAgent)
        .cancel_subscription(pb::CancelSubscriptionRequest {
            request_id: request_id.into(),
            subscription_id: id.into(),
            etag: etag.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

pub async fn subscription(app: &TestApp, id: &str) -> pb::Subscription {
    app.orders("us", Role::HelpdeskAgent)
        .get_subscription(pb::GetSubscriptionRequest {
            subscription_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap()
}

/// Subscription `id`'s whole record, read `page_size` at a time.
pub async fn history(app: &TestApp, id: &str, page_size: i32) -> Vec<pb::SubscriptionTransaction> {
    let mut orders = app.orders("us", Role::HelpdeskAgent);
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let page = orders
            .list_subscription_transactions(pb::ListSubscriptionTransactionsRequest {
                subscription_id: id.into(),
                page_size,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.transactions.len() <= page_size as usize);
        all.extend(page.transactions);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

pub fn micros(m: &Option<csp_commerce::grpc::google_type::Money>) -> i64 {
    let m = m.as_ref().expect("an amount");
    m.units * 1_000_000 + i64::from(m.nanos) / 1_000
}

pub fn time(t: &Option<prost_types::Timestamp>) -> chrono::DateTime<chrono::Utc> {
    let t = t.as_ref().expect("a time");
    chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}
