//! Bounded errors: echoed input is cut short, violation lists are capped, sizes are checked
//! before anything is parsed, and a cart total that overflows is a problem, never a wrong sum.

use crate::common::{self, TestApp, details, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

/// What a status costs a client: its message and its google.rpc details.
fn rendered(status: &tonic::Status) -> usize {
    status.message().len() + status.details().len()
}

fn assert_small(status: &tonic::Status) {
    assert!(
        rendered(status) < 4096,
        "a {} byte status: {:?}",
        rendered(status),
        &status.message()[..status.message().len().min(300)]
    );
}

const THREE_MB: usize = 3_000_000;

fn bad_line() -> pb::CartLineInput {
    pb::CartLineInput {
        catalog_item_id: "x".into(),
        quantity: 0,
        ..Default::default()
    }
}

/// Requests up to 4 MiB decoded (the default is 1 MiB), so the fields' own bounds are what
/// is tried.
fn larger_requests(s: &mut csp_commerce::config::Settings) {
    s.max_request_bytes = 4 << 20;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3_mb_country_filter_gets_a_short_status_naming_the_field() {
    // With the default decode limit (1 MiB) the request is refused before it is parsed.
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let err = app
        .catalog("us", Role::SalesAgent)
        .list_products(pb::ListProductsRequest {
            filter: Some(pb::CatalogFilter {
                country: "A".repeat(THREE_MB),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err:?}");
    assert_small(&err);
    app.stop().await;
    // A server that takes bigger requests still answers briefly, naming the field.
    let app = TestApp::spawn_with(common::Backend::Sqlite, larger_requests)
        .await
        .unwrap();
    let err = app
        .catalog("us", Role::SalesAgent)
        .list_products(pb::ListProductsRequest {
            filter: Some(pb::CatalogFilter {
                country: "A".repeat(THREE_MB),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "filter.country"),
        "UNKNOWN_COUNTRY"
    );
    assert_small(&err);
    // The value is echoed cut short, with its size.
    assert!(
        err.message().contains("…(3000000 bytes)"),
        "{}",
        err.message()
    );
    assert!(err.message().contains(&"A".repeat(64)), "{}", err.message());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_strings_anywhere_get_short_statuses() {
    // Past the decode limit a request is not parsed at all: these are within a raised one.
    let app = TestApp::spawn_with(common::Backend::Sqlite, larger_requests)
        .await
        .unwrap();
    let huge = "Z".repeat(THREE_MB);
    let catalog = app.catalog("us", Role::SalesAgent);
    let mut statuses = vec![
        (
            "filter.text",
            catalog
                .clone()
                .list_products(pb::ListProductsRequest {
                    filter: Some(pb::CatalogFilter {
                        text: huge.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
        ),
        (
            "page_token",
            catalog
                .clone()
                .list_products(pb::ListProductsRequest {
                    page_token: huge.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
        ),
        (
            "product_id",
            catalog
                .clone()
                .get_product(pb::GetProductRequest {
                    month: String::new(),
                    product_id: huge.clone(),
                })
                .await
                .unwrap_err(),
        ),
    ];
    statuses.push((
        "lines[0].catalog_item_id",
        app.carts("us", Role::SalesAgent)
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                lines: vec![pb::CartLineInput {
                    catalog_item_id: huge.replace('Z', ":"),
                    quantity: 1,
                    term: pb::TermDuration::P1y.into(),
                    billing_cycle: pb::BillingCycle::Annual.into(),
                    provisioning_context: None,
                }],
            })
            .await
            .unwrap_err(),
    ));
    for (field, status) in &statuses {
        common::assert_bad_field(status, field);
        assert_small(status);
    }
    app.stop().await;
}

/// 10,000 and 60,000 bad lines: refused by the 50-line cap before any line is parsed (one
/// violation, not one per line), in a small status; an honest caller is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_bad_cart_lines_are_refused_by_the_line_cap_before_parsing() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    for count in [10_000, 60_000] {
        let err = app
            .carts("us", Role::SalesAgent)
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                lines: vec![bad_line(); count],
            })
            .await
            .unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "lines"), "TOO_MANY");
        let violations = details(&err)
            .bad_request()
            .unwrap()
            .field_violations
            .clone();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_small(&err);
    }
    let started = std::time::Instant::now();
    app.catalog("us", Role::SalesAgent)
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC02ROY".into(),
        })
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    app.stop().await;
}

/// 50 lines with four bad fields each: the first 20 violations, then one that counts the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn violation_lists_are_capped_at_twenty_and_a_count() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let err = app
        .carts("us", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("us-fabrikam"),
            lines: vec![bad_line(); 50],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let violations = details(&err)
        .bad_request()
        .unwrap()
        .field_violations
        .clone();
    assert_eq!(violations.len(), 21, "{violations:?}");
    assert_eq!(violations[0].field, "lines[0].catalog_item_id");
    let last = &violations[20];
    assert_eq!(
        (last.reason.as_str(), last.description.as_str()),
        ("MORE_VIOLATIONS", "and 180 more")
    );
    assert!(err.message().ends_with("and 180 more"), "{}", err.message());
    assert_small(&err);
    app.stop().await;
}

/// The SKU with the highest US price (26,150.40 USD a unit, 999,999,999 seats allowed).
const PRICEY: (&str, &str) = ("DZH318Z0BQ4C", "01H7");

/// The catalog item id of `PRICEY` in the US, commercial.
async fn pricey_item(app: &TestApp) -> String {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    common::commercial_availability(&mut catalog, PRICEY, "US")
        .await
        .catalog_item_id
}

on_both_backends!(
    a_cart_total_that_overflows_is_a_problem_and_checkout_refuses_it,
    async |app: &TestApp| {
        let item = pricey_item(app).await;
        // 100,000,000 units are 2.6e18 micro-dollars a line: four lines do not fit an i64.
        let line = pb::CartLineInput {
            catalog_item_id: item,
            quantity: 100_000_000,
            term: pb::TermDuration::P3y.into(),
            billing_cycle: pb::BillingCycle::Triennial.into(),
            provisioning_context: Some(pb::ProvisioningContext {
                scope: "shared".into(),
                azure_subscription_id: common::unknown_id(),
                ..Default::default()
            }),
        };
        let cart = app
            .carts("us", Role::SalesAgent)
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                lines: vec![line; 4],
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        let overflow = cart
            .problems
            .iter()
            .find(|p| crate::common::code(p) == "TOTAL_OUT_OF_RANGE")
            .unwrap_or_else(|| panic!("no TOTAL_OUT_OF_RANGE in {:?}", cart.problems));
        assert_eq!(overflow.field, "totals");
        assert!(overflow.message.contains("USD"), "{}", overflow.message);
        assert!(
            cart.totals.iter().all(|t| t.currency_code != "USD"),
            "a USD total that cannot be right: {:?}",
            cart.totals
        );
        let err = app
            .carts("us", Role::SalesAgent)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap_err();
        let refused = common::violations(&err);
        assert!(
            refused.iter().any(|v| v.r#type == "TOTAL_OUT_OF_RANGE"),
            "{refused:?}"
        );
        assert_small(&err);
    }
);

/// A checkout refused for 99 problems (50 lines of one reservation without its provisioning
/// context): the first ones (at most 20) in the PreconditionFailure, the rest counted in the
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_refused_for_many_problems_gets_a_capped_status() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let item = pricey_item(&app).await;
    let line = pb::CartLineInput {
        catalog_item_id: item,
        quantity: 1,
        term: pb::TermDuration::P3y.into(),
        billing_cycle: pb::BillingCycle::Triennial.into(),
        provisioning_context: None,
    };
    let cart = app
        .carts("us", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("us-fabrikam"),
            lines: vec![line; 50],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let problems: usize =
        cart.lines.iter().map(|l| l.problems.len()).sum::<usize>() + cart.problems.len();
    assert!(problems >= 99, "{problems} problems");
    let err = app
        .carts("us", Role::SalesAgent)
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap_err();
    // At most 20, fewer when their descriptions (each with the review's figures) would pass
    // the status's byte bound; every one left out is counted.
    let listed = common::violations(&err).len();
    assert!((15..=20).contains(&listed), "{listed} listed");
    assert!(
        err.message()
            .ends_with(&format!("({} more problems)", problems - listed)),
        "{}",
        err.message()
    );
    assert_small(&err);
    app.stop().await;
}

/// Random, oversized and truncated text, or a value that takes a request past parsing (a
/// real customer, a plausible etag).
fn wire_text(customer: String) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        any::<String>(),
        (any::<char>(), 0..200_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
        (Just(customer), any::<proptest::sample::Index>())
            .prop_map(|(id, at)| id[..at.index(id.len() + 1)].to_owned()),
        Just("v1".to_owned()),
    ]
}

/// The customer and order handlers' parsing, through the wire with random messages: every
/// failure is a precise, small status (never INTERNAL or UNKNOWN, the marks of a panic or
/// an unexpected path), and the server keeps serving.
#[test]
fn random_customer_and_order_requests_get_precise_small_statuses() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime
        .block_on(TestApp::spawn(common::Backend::Sqlite))
        .unwrap();
    let customers = app.customers("us", Role::SalesAgent);
    let orders = app.orders("us", Role::SalesAgent);
    let text = || wire_text(TestApp::customer_id("us-fabrikam"));
    let strategy = (
        (text(), text(), text(), text()),
        (any::<i32>(), any::<i32>(), any::<i64>(), any::<i32>()),
    );
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |((a, b, c, d), (n, m, seconds, nanos))| {
            let (mut customers, mut orders) = (customers.clone(), orders.clone());
            let at = Some(prost_types::Timestamp { seconds, nanos });
            let statuses = runtime.block_on(async move {
                let mut failed = Vec::new();
                let mut note = |result: Result<(), tonic::Status>| {
                    if let Err(status) = result {
                        failed.push(status);
                    }
                };
                note(
                    customers
                        .create_customer(pb::CreateCustomerRequest {
                            request_id: a.clone(),
                            company_name: b.clone(),
                            country: c.clone(),
                            email: d.clone(),
                            domain: b.clone(),
                        })
                        .await
                        .map(drop),
                );
                note(
                    customers
                        .submit_qualification(pb::SubmitQualificationRequest {
                            request_id: a.clone(),
                            customer_id: b.clone(),
                            etag: c.clone(),
                            kind: n,
                            education_segment: m,
                            gcc_validation_code: d.clone(),
                        })
                        .await
                        .map(drop),
                );
                note(
                    customers
                        .accept_agreement(pb::AcceptAgreementRequest {
                            request_id: a.clone(),
                            customer_id: b.clone(),
                            etag: c.clone(),
                            contact_name: d.clone(),
                            contact_email: a.clone(),
                            accept_time: at,
                        })
                        .await
                        .map(drop),
                );
                note(
                    customers
                        .list_customers(pb::ListCustomersRequest {
                            page_size: n,
                            page_token: d.clone(),
                        })
                        .await
                        .map(drop),
                );
                note(
                    orders
                        .list_orders(pb::ListOrdersRequest {
                            customer_id: b.clone(),
                            status: m,
                            create_time_from: at,
                            create_time_to: None,
                            page_size: n,
                            page_token: c.clone(),
                        })
                        .await
                        .map(drop),
                );
                note(
                    orders
                        .cancel_order(pb::CancelOrderRequest {
                            request_id: a.clone(),
                            order_id: b.clone(),
                            etag: c.clone(),
                        })
                        .await
                        .map(drop),
                );
                note(
                    orders
                        .list_subscriptions(pb::ListSubscriptionsRequest {
                            customer_id: b.clone(),
                            status: m,
                            product_id: c.clone(),
                            parent_subscription_id: d.clone(),
                            page_size: n,
                            page_token: a.clone(),
                        })
                        .await
                        .map(drop),
                );
                failed
            });
            for status in statuses {
                prop_assert!(
                    !matches!(status.code(), Code::Internal | Code::Unknown),
                    "{status:?}"
                );
                prop_assert!(
                    rendered(&status) < 4096,
                    "a {} byte status",
                    rendered(&status)
                );
            }
            Ok(())
        })
        .unwrap();
    runtime.block_on(app.stop());
}
