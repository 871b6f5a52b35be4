//! Per-partner quota on cart and order requests: a throttled call says when to retry, and one
//! partner's traffic never throttles another.

use crate::common::{self, Backend, TestApp};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_over_its_quota_is_told_when_to_retry() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.partner_order_requests_per_minute = 3)
        .await
        .unwrap();
    let list = |partner: &'static str, customer: &'static str| {
        let mut carts = app.carts(partner, Role::SalesAgent);
        async move {
            carts
                .list_carts(pb::ListCartsRequest {
                    customer_id: TestApp::customer_id(customer),
                    ..Default::default()
                })
                .await
        }
    };
    for _ in 0..3 {
        list("us", "us-fabrikam").await.unwrap();
    }
    let err = list("us", "us-fabrikam").await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    let details = common::details(&err);
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "RATE_LIMITED");
    assert_eq!(info.metadata["quota"], "cart and order requests");
    assert_eq!(info.metadata["subject"], "partner");
    let retry = details.retry_info().unwrap().retry_delay.unwrap();
    assert!(
        retry > std::time::Duration::ZERO && retry <= std::time::Duration::from_secs(20),
        "{retry:?}"
    );
    assert!(details.quota_failure().is_some());
    // Orders share the quota...
    let err = app
        .orders("us", Role::SalesAgent)
        .list_orders(pb::ListOrdersRequest {
            customer_id: TestApp::customer_id("us-fabrikam"),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    // ...but another partner, and the catalog, are not affected.
    list("de", "de-tailspin").await.unwrap();
    app.catalog("us", Role::SalesAgent)
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC02ROY".into(),
        })
        .await
        .unwrap();
    app.stop().await;
}
