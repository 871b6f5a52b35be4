//! The buying flow through the wire: carts, review, checkout (atomic, idempotent, safe under
//! concurrency), orders, subscriptions and cancellation.

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

const E3: (&str, &str) = ("CFQ7TTC02ROY", "0001"); // seat limit 300
const AUDIO: (&str, &str) = ("CFQ7TTC05WUF", "0001"); // add-on of E3 (among others)

/// The catalog item id of a SKU's commercial availability in `country`.
async fn item(app: &TestApp, sku: (&str, &str), country: &str) -> String {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    common::commercial_availability(&mut catalog, sku, country)
        .await
        .catalog_item_id
}

fn line(
    item: &str,
    quantity: i32,
    term: pb::TermDuration,
    cycle: pb::BillingCycle,
) -> pb::CartLineInput {
    pb::CartLineInput {
        catalog_item_id: item.into(),
        quantity,
        term: term.into(),
        billing_cycle: cycle.into(),
        provisioning_context: None,
    }
}

fn annual(item: &str, quantity: i32) -> pb::CartLineInput {
    line(
        item,
        quantity,
        pb::TermDuration::P1y,
        pb::BillingCycle::Annual,
    )
}

/// CreateCart of `lines` for `customer` (a demo key), under a fresh request id.
fn create_request(customer: &str, lines: Vec<pb::CartLineInput>) -> pb::CreateCartRequest {
    pb::CreateCartRequest {
        request_id: rid(),
        customer_id: TestApp::customer_id(customer),
        lines,
    }
}

async fn new_cart(app: &TestApp, customer: &str, lines: Vec<pb::CartLineInput>) -> pb::Cart {
    app.carts("us", Role::SalesAgent)
        .create_cart(create_request(customer, lines))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

/// The cart as `us`'s sales agent reads it through `app`.
async fn read_cart(app: &TestApp, id: &str) -> pb::Cart {
    app.carts("us", Role::SalesAgent)
        .get_cart(pb::GetCartRequest { cart_id: id.into() })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

/// AddCartLine of `line` to cart `cart_id` at `etag`, as the US sales agent.
async fn add_line(
    app: &TestApp,
    cart_id: &str,
    etag: &str,
    line: pb::CartLineInput,
) -> Result<pb::Cart, tonic::Status> {
    app.carts("us", Role::SalesAgent)
        .add_cart_line(pb::AddCartLineRequest {
            request_id: rid(),
            cart_id: cart_id.into(),
            etag: etag.into(),
            line: Some(line),
        })
        .await
        .map(|r| r.into_inner().cart.expect("a cart"))
}

/// UpdateCartLine of line `line_id` to `line`, at `etag`, as the US sales agent.
async fn update_line(
    app: &TestApp,
    cart_id: &str,
    line_id: &str,
    etag: &str,
    line: pb::CartLineInput,
) -> Result<pb::Cart, tonic::Status> {
    app.carts("us", Role::SalesAgent)
        .update_cart_line(pb::UpdateCartLineRequest {
            request_id: rid(),
            cart_id: cart_id.into(),
            line_id: line_id.into(),
            etag: etag.into(),
            line: Some(line),
        })
        .await
        .map(|r| r.into_inner().cart.expect("a cart"))
}

/// RemoveCartLine of line `line_id` at `etag`, as the US sales agent.
async fn remove_line(
    app: &TestApp,
    cart_id: &str,
    line_id: &str,
    etag: &str,
) -> Result<pb::Cart, tonic::Status> {
    app.carts("us", Role::SalesAgent)
        .remove_cart_line(pb::RemoveCartLineRequest {
            request_id: rid(),
            cart_id: cart_id.into(),
            line_id: line_id.into(),
            etag: etag.into(),
        })
        .await
        .map(|r| r.into_inner().cart.expect("a cart"))
}

async fn checkout(app: &TestApp, cart: &pb::Cart) -> Result<pb::Order, tonic::Status> {
    app.carts("us", Role::SalesAgent)
        .checkout(common::checkout_request(cart))
        .await
        .map(|r| r.into_inner().order.unwrap())
}

/// CancelOrder of `order`, unconditionally (no etag), under a fresh request id.
fn cancel_request(order: &pb::Order) -> pb::CancelOrderRequest {
    pb::CancelOrderRequest {
        request_id: rid(),
        order_id: order.id.clone(),
        etag: String::new(),
    }
}

/// us-fabrikam's subscriptions in `status` (`Unspecified`: all), as `us`'s sales agent reads
/// them.
async fn fabrikam_subscriptions(
    app: &TestApp,
    status: pb::SubscriptionStatus,
) -> Vec<pb::Subscription> {
    app.orders("us", Role::SalesAgent)
        .list_subscriptions(pb::ListSubscriptionsRequest {
            customer_id: TestApp::customer_id("us-fabrikam"),
            status: status.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .subscriptions
}

fn codes(problems: &[pb::PurchaseProblem]) -> Vec<&str> {
    problems.iter().map(common::code).collect()
}

on_both_backends!(
    a_base_and_its_addon_are_reviewed_priced_and_checked_out_together,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let audio = item(app, AUDIO, "US").await;
        let cart = new_cart(
            app,
            "us-fabrikam",
            vec![annual(&e3, 10), annual(&audio, 10)],
        )
        .await;
        assert_eq!(cart.status, pb::CartStatus::Active as i32);
        assert!(cart.problems.is_empty(), "{:?}", cart.problems);
        for l in &cart.lines {
            assert!(l.problems.is_empty(), "{:?}", l.problems);
        }
        // 327.60 and 217.20 USD a year each, times 10.
        assert_eq!(cart.lines[0].unit_term_price.as_ref().unwrap().units, 327);
        assert_eq!(cart.lines[0].term_price.as_ref().unwrap().units, 3276);
        assert_eq!(cart.totals.len(), 1);
        assert_eq!(cart.totals[0].currency_code, "USD");
        assert_eq!((cart.totals[0].units, cart.totals[0].nanos), (5448, 0));

        let order = checkout(app, &cart).await.unwrap();
        assert!(order.order_number.starts_with("ORD-"));
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.total.as_ref().unwrap().units, 5448);
        assert_eq!(order.cart_id, cart.id);

        let subs = fabrikam_subscriptions(app, pb::SubscriptionStatus::Unspecified).await;
        assert_eq!(subs.len(), 2);
        let base = subs.iter().find(|s| s.product_id == E3.0).unwrap();
        let addon = subs.iter().find(|s| s.product_id == AUDIO.0).unwrap();
        assert_eq!(
            addon.parent_subscription_id, base.id,
            "the add-on hangs on the base bought with it"
        );
        assert_eq!(base.status, pb::SubscriptionStatus::Active as i32);
        assert_eq!(base.quantity, 10);

        // The cart is now ordered and read-only.
        let again = read_cart(app, &cart.id).await;
        assert_eq!(again.status, pb::CartStatus::Ordered as i32);
        assert_eq!(again.order_id, order.id);
    }
);

on_both_backends!(
    an_addon_alone_shows_its_missing_base_and_cannot_be_checked_out,
    async |app: &TestApp| {
        let audio = item(app, AUDIO, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&audio, 5)]).await;
        assert_eq!(codes(&cart.lines[0].problems), vec!["ADDON_BASE_MISSING"]);
        let err = checkout(app, &cart).await.unwrap_err();
        let violations = common::violations(&err);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].r#type, "ADDON_BASE_MISSING");
        assert_eq!(violations[0].subject, format!("lines/{}", cart.lines[0].id));
    }
);

on_both_backends!(
    seat_limits_count_owned_seats_and_say_how_many_remain,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let first = new_cart(app, "us-fabrikam", vec![annual(&e3, 250)]).await;
        checkout(app, &first).await.unwrap();
        let second = new_cart(app, "us-fabrikam", vec![annual(&e3, 60)]).await;
        let problem = &second.lines[0].problems[0];
        assert_eq!(problem.code(), pb::ProblemCode::SeatLimitExceeded);
        assert_eq!(problem.figures["seats_available"], "50");
        assert_eq!(problem.figures["seat_limit"], "300");
        assert_eq!(
            checkout(app, &second).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
    }
);

on_both_backends!(
    stale_etags_are_aborted_and_changes_bump_the_etag,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let audio = item(app, AUDIO, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 5)]).await;
        let added = add_line(app, &cart.id, &cart.etag, annual(&audio, 5))
            .await
            .unwrap();
        assert_ne!(added.etag, cart.etag);
        assert_eq!(added.lines.len(), 2);
        // The old etag is stale now: for a change and for checkout.
        let err = remove_line(app, &cart.id, &added.lines[1].id, &cart.etag)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        assert_eq!(
            checkout(app, &cart).await.unwrap_err().code(),
            Code::Aborted
        );
        // Updating the quantity with the fresh etag works.
        let updated = update_line(
            app,
            &cart.id,
            &added.lines[0].id,
            &added.etag,
            annual(&e3, 7),
        )
        .await
        .unwrap();
        assert_eq!(updated.lines[0].quantity, 7);
    }
);

on_both_backends!(a_retried_write_is_applied_once, async |app: &TestApp| {
    let e3 = item(app, E3, "US").await;
    let audio = item(app, AUDIO, "US").await;
    let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 5)]).await;
    let mut carts = app.carts("us", Role::SalesAgent);
    let request = pb::AddCartLineRequest {
        request_id: rid(),
        cart_id: cart.id.clone(),
        etag: cart.etag.clone(),
        line: Some(annual(&audio, 5)),
    };
    let first = carts
        .add_cart_line(request.clone())
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let retry = carts
        .add_cart_line(request.clone())
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(first.lines.len(), 2);
    assert_eq!(retry.lines.len(), 2, "the retry did not add a second line");
    assert_eq!(retry.etag, first.etag);
    // The same request id for something else is refused.
    let mut other = request;
    other.line = Some(annual(&audio, 6));
    let err = carts.add_cart_line(other).await.unwrap_err();
    common::assert_bad_field(&err, "request_id");
});

on_both_backends!(checkout_is_idempotent, async |app: &TestApp| {
    let e3 = item(app, E3, "US").await;
    let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 3)]).await;
    let mut carts = app.carts("us", Role::SalesAgent);
    let request = common::checkout_request(&cart);
    let first = carts
        .checkout(request.clone())
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    let retry = carts
        .checkout(request.clone())
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(retry.id, first.id);
    // A second checkout of the ordered cart, with a new request id, returns the first order.
    let second = checkout(app, &cart).await.unwrap();
    assert_eq!(second.id, first.id);
    // The same request id with another cart is refused.
    let other = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
    let err = carts
        .checkout(pb::CheckoutRequest {
            request_id: request.request_id.clone(),
            cart_id: other.id.clone(),
            etag: other.etag.clone(),
        })
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "request_id");
    // Exactly one order for the customer.
    let orders = app
        .orders("us", Role::SalesAgent)
        .list_orders(pb::ListOrdersRequest {
            customer_id: TestApp::customer_id("us-fabrikam"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .orders;
    assert_eq!(orders.len(), 1);
    // The refused checkout wrote nothing: the other cart is as it was.
    let other_now = read_cart(app, &other.id).await;
    assert_eq!(other_now.etag, other.etag);
    assert_eq!(other_now.status, other.status);
    common::assert_orders_whole(&app.database_url).await;
});

on_both_backends!(
    fifty_concurrent_checkouts_of_one_cart_make_one_order,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 2)]).await;
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let mut carts = app.carts("us", Role::SalesAgent);
            let request = common::checkout_request(&cart);
            tasks.push(tokio::spawn(async move { carts.checkout(request).await }));
        }
        let mut order_ids = std::collections::HashSet::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(response) => {
                    order_ids.insert(response.into_inner().order.unwrap().id);
                }
                Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
            }
        }
        assert_eq!(
            order_ids.len(),
            1,
            "every successful caller got the same order"
        );
        let subs = fabrikam_subscriptions(app, pb::SubscriptionStatus::Unspecified).await;
        assert_eq!(
            subs.len(),
            1,
            "one subscription: one order line, written once"
        );
        common::assert_orders_whole(&app.database_url).await;
    }
);

on_both_backends!(
    concurrent_changes_at_one_etag_apply_exactly_one,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
        let mut tasks = Vec::new();
        for quantity in 1..=20 {
            let mut carts = app.carts("us", Role::SalesAgent);
            let request = pb::AddCartLineRequest {
                request_id: rid(),
                cart_id: cart.id.clone(),
                etag: cart.etag.clone(),
                line: Some(annual(&e3, quantity)),
            };
            tasks.push(tokio::spawn(
                async move { carts.add_cart_line(request).await },
            ));
        }
        let mut won = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(response) => won.push(response.into_inner().cart.unwrap()),
                Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
            }
        }
        assert_eq!(won.len(), 1, "one change wins the etag");
        let stored = read_cart(app, &cart.id).await;
        assert_eq!(stored.lines.len(), 2, "the first line and the winner's");
        assert_eq!(
            stored.etag, won[0].etag,
            "the winner's answer is the stored cart"
        );
        assert_eq!(stored.lines, won[0].lines);
    }
);

on_both_backends!(
    two_carts_racing_for_the_last_seats_cannot_both_win,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let a = new_cart(app, "us-fabrikam", vec![annual(&e3, 200)]).await;
        let b = new_cart(app, "us-fabrikam", vec![annual(&e3, 200)]).await;
        let (ra, rb) = tokio::join!(checkout(app, &a), checkout(app, &b));
        let wins = [ra.is_ok(), rb.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "{ra:?} / {rb:?}");
        // The loser's cart is as it was: its claim did not stand.
        let losing_cart = if ra.is_ok() { &b } else { &a };
        let after = read_cart(app, &losing_cart.id).await;
        assert_eq!(after.etag, losing_cart.etag);
        assert_eq!(after.status, losing_cart.status);
        let loser = ra.err().or(rb.err()).unwrap();
        assert_eq!(common::violations(&loser)[0].r#type, "SEAT_LIMIT_EXCEEDED");
        common::assert_orders_whole(&app.database_url).await;
    }
);

on_both_backends!(carts_expire_after_seven_days, async |app: &TestApp| {
    let e3 = item(app, E3, "US").await;
    let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
    app.clock.advance(chrono::Duration::days(7));
    let read = read_cart(app, &cart.id).await;
    assert_eq!(read.status, pb::CartStatus::Expired as i32);
    let mut carts = app.carts("us", Role::SalesAgent);
    let err = carts
        .add_cart_line(pb::AddCartLineRequest {
            request_id: rid(),
            cart_id: cart.id.clone(),
            etag: cart.etag.clone(),
            line: Some(annual(&e3, 1)),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = checkout(app, &cart).await.unwrap_err();
    assert_eq!(common::violations(&err)[0].r#type, "CART_EXPIRED");
});

on_both_backends!(
    no_agreement_or_a_read_only_role_cannot_check_out,
    async |app: &TestApp| {
        let e3 = item(app, E3, "DE").await;
        let cart = app
            .carts("de", Role::SalesAgent)
            .create_cart(create_request("de-alpine-ski-house", vec![annual(&e3, 1)]))
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert_eq!(codes(&cart.problems), vec!["AGREEMENT_NOT_ACCEPTED"]);
        let err = app
            .carts("de", Role::SalesAgent)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap_err();
        assert_eq!(common::violations(&err)[0].r#type, "AGREEMENT_NOT_ACCEPTED");
        let err = app
            .carts("de", Role::HelpdeskAgent)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
);

on_both_backends!(
    bad_lines_are_refused_and_nothing_is_written,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let mut carts = app.carts("us", Role::SalesAgent);
        for (quantity, bad) in [
            (0, "lines[0].quantity"),
            (-3, "lines[0].quantity"),
            (i32::MAX, "lines[0].quantity"),
        ] {
            let err = carts
                .create_cart(create_request("us-fabrikam", vec![annual(&e3, quantity)]))
                .await
                .unwrap_err();
            common::assert_bad_field(&err, bad);
        }
        let err = carts
            .create_cart(create_request(
                "us-fabrikam",
                vec![
                    annual("CFQ7TTC02ROY:0001:NOSUCHAVAIL", 1),
                    annual("not-an-id", 1),
                ],
            ))
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "lines[1].catalog_item_id"),
            "MALFORMED"
        );
        let err = carts
            .create_cart(create_request(
                "us-fabrikam",
                vec![annual("CFQ7TTC02ROY:0001:NOSUCHAVAIL", 1)],
            ))
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "lines[0].catalog_item_id"),
            "UNKNOWN_CATALOG_ITEM"
        );
        let err = carts
            .get_cart(pb::GetCartRequest {
                cart_id: "nope".into(),
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "cart_id");
        // Nothing was written.
        let listed = carts
            .list_carts(pb::ListCartsRequest {
                customer_id: TestApp::customer_id("us-fabrikam"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(listed.carts.is_empty());
    }
);

on_both_backends!(
    another_partners_cart_and_orders_do_not_exist,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
        let order = checkout(app, &cart).await.unwrap();
        let mut de_carts = app.carts("de", Role::GlobalAdmin);
        let err = de_carts
            .get_cart(pb::GetCartRequest {
                cart_id: cart.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let mut de_orders = app.orders("de", Role::GlobalAdmin);
        let err = de_orders
            .get_order(pb::GetOrderRequest {
                order_id: order.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = de_orders
            .list_orders(pb::ListOrdersRequest {
                customer_id: TestApp::customer_id("us-fabrikam"),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = de_orders
            .cancel_order(cancel_request(&order))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = de_orders
            .get_subscription(pb::GetSubscriptionRequest {
                subscription_id: order.lines[0].subscription_id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    order_history_is_newest_first_paginated_and_filtered,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let mut placed = Vec::new();
        for quantity in 1..=5 {
            let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, quantity)]).await;
            placed.push(checkout(app, &cart).await.unwrap().id);
            app.clock.advance(chrono::Duration::minutes(1));
        }
        let mut orders = app.orders("us", Role::HelpdeskAgent);
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = orders
                .list_orders(pb::ListOrdersRequest {
                    customer_id: TestApp::customer_id("us-fabrikam"),
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            seen.extend(page.orders.into_iter().map(|o| o.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        placed.reverse();
        assert_eq!(seen, placed, "newest first, every order once");
        let cancelled = orders
            .list_orders(pb::ListOrdersRequest {
                customer_id: TestApp::customer_id("us-fabrikam"),
                status: pb::OrderStatus::Cancelled.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(cancelled.orders.is_empty());
        let recent = orders
            .list_orders(pb::ListOrdersRequest {
                customer_id: TestApp::customer_id("us-fabrikam"),
                create_time_from: Some(prost_types::Timestamp {
                    seconds: (common::start_of_test_time() + chrono::Duration::minutes(3))
                        .timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(recent.orders.len(), 2);
    }
);

on_both_backends!(
    cancellation_inside_the_window_refunds_pro_rata_and_cancels_addons,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let audio = item(app, AUDIO, "US").await;
        let cart = new_cart(
            app,
            "us-fabrikam",
            vec![annual(&e3, 10), annual(&audio, 10)],
        )
        .await;
        let order = checkout(app, &cart).await.unwrap();
        app.clock.advance(chrono::Duration::days(3));
        let mut orders = app.orders("us", Role::SalesAgent);
        let cancelled = orders
            .cancel_order(cancel_request(&order))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        assert_eq!(cancelled.status, pb::OrderStatus::Cancelled as i32);
        let refund = cancelled.refund.unwrap();
        let total = order.total.unwrap();
        assert!(
            refund.units < total.units && refund.units > total.units * 360 / 365 - 1,
            "{refund:?} of {total:?}"
        );
        let subs = fabrikam_subscriptions(app, pb::SubscriptionStatus::Cancelled).await;
        assert_eq!(subs.len(), 2, "the base and the add-on on it");

        // Outside the window: refused, saying until when.
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
        let late = checkout(app, &cart).await.unwrap();
        app.clock.advance(chrono::Duration::days(8));
        let err = orders
            .cancel_order(cancel_request(&late))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("closed on"), "{}", err.message());
    }
);

on_both_backends!(
    an_order_is_pending_until_provisioned_then_completed,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 2)]).await;
        let order = checkout(app, &cart).await.unwrap();
        assert_eq!(order.status, pb::OrderStatus::Pending as i32);
        let mut orders = app.orders("us", Role::SalesAgent);
        // The provisioning pass runs every 100 ms; wait for it, boundedly.
        let mut status = order.status;
        for _ in 0..100 {
            status = orders
                .get_order(pb::GetOrderRequest {
                    order_id: order.id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .order
                .unwrap()
                .status;
            if status == pb::OrderStatus::Completed as i32 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status, pb::OrderStatus::Completed as i32);
    }
);

/// A replica keeps the carts it wrote, each at its version, and a write naming that version
/// takes the cart from there without reading it. A cart changed meanwhile through another
/// replica must still refuse the stale etag here, for a line change and for checkout, and
/// the fresh etag must then work here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_changed_through_another_replica_refuses_the_stale_etag_here() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let b = a.replica(|_| {}).await;
    let e3 = item(&a, E3, "US").await;
    let audio = item(&a, AUDIO, "US").await;
    // A writes the cart (and keeps it at version 1).
    let cart = new_cart(&a, "us-fabrikam", vec![annual(&e3, 5)]).await;
    let add = |etag: &str, quantity: i32| pb::AddCartLineRequest {
        request_id: rid(),
        cart_id: cart.id.clone(),
        etag: etag.into(),
        line: Some(annual(&audio, quantity)),
    };
    // B moves it on.
    let on_b = b
        .carts("us", Role::SalesAgent)
        .add_cart_line(add(&cart.etag, 2))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_ne!(on_b.etag, cart.etag);

    // A still keeps version 1: its claim at that version must fail all the same.
    let mut carts_a = a.carts("us", Role::SalesAgent);
    let err = carts_a.add_cart_line(add(&cart.etag, 3)).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let err = checkout(&a, &cart).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");

    // Through A the cart reads as B left it, and B's etag works there.
    let read = read_cart(&a, &cart.id).await;
    assert_eq!(read.etag, on_b.etag);
    assert_eq!(read.lines.len(), 2);
    let order = checkout(&a, &read).await.unwrap();
    assert_eq!(order.lines.len(), 2);
}

/// The version and number of lines of cart `id` in the database itself.
async fn stored_cart(app: &TestApp, id: &str) -> Option<(i64, i64)> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT version, (SELECT COUNT(*) FROM cart_lines l WHERE l.cart_id = c.id) \
                 FROM carts c WHERE c.id = {placeholder}"
            ),
            [id.into()],
        ))
        .await
        .unwrap();
    let _ = db.close().await;
    row.map(|r| {
        (
            r.try_get_by_index::<i64>(0).unwrap(),
            r.try_get_by_index::<i64>(1).unwrap(),
        )
    })
}

/// The cart once the database looked quiet (read twice, the same both times), after its lines
/// beyond the first were removed: GetCart must show what is stored. A write whose caller went
/// away can still commit after that (then a removal finds the cart moved on, ABORTED, and the
/// cart is read again).
async fn one_line_when_quiet(app: &TestApp, cart_id: &str, attempt: u64) -> pb::Cart {
    for _ in 0..100 {
        // A write whose caller went away may still be on the writer thread: it commits, then
        // (before anyone is answered) caches the cart it made. A GetCart between the two may
        // still show the version before, so the stored cart and GetCart must agree within a
        // moment of quiet, not at the very instant of the commit.
        let mut settling = 0;
        let read = loop {
            let before = stored_cart(app, cart_id).await.unwrap();
            let read = read_cart(app, cart_id).await;
            let after = stored_cart(app, cart_id).await.unwrap();
            if before != after {
                continue;
            }
            let shown = (read.etag.clone(), read.lines.len() as i64);
            if shown == (format!("v{}", after.0), after.1) {
                break read;
            }
            settling += 1;
            assert!(
                settling < 50,
                "attempt {attempt}: GetCart shows {shown:?} while v{} with {} lines is stored",
                after.0,
                after.1
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        let Some(extra) = read.lines.get(1) else {
            return read;
        };
        match remove_line(app, cart_id, &extra.id, &read.etag).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::Aborted => {}
            Err(status) => panic!("attempt {attempt}: {status:?}"),
        }
    }
    panic!("attempt {attempt}: the cart never settled");
}

on_both_backends!(
    get_cart_shows_every_committed_write_even_when_its_caller_went_away,
    async |app: &TestApp| {
        let e3 = item(app, E3, "US").await;
        let audio = item(app, AUDIO, "US").await;
        let mut carts = app.carts("us", Role::SalesAgent);
        let cart = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
        let mut expected = cart.clone();
        let same = |read: &pb::Cart, expected: &pb::Cart| {
            assert_eq!(read.etag, expected.etag);
            assert_eq!(read.lines, expected.lines);
            assert_eq!(read.status, expected.status);
        };
        same(&read_cart(app, &cart.id).await, &expected);

        // Each change is read back at once, as answered.
        expected = add_line(app, &cart.id, &expected.etag, annual(&audio, 2))
            .await
            .unwrap();
        same(&read_cart(app, &cart.id).await, &expected);
        let audio_line = expected.lines[1].id.clone();
        expected = update_line(
            app,
            &cart.id,
            &audio_line,
            &expected.etag,
            annual(&audio, 3),
        )
        .await
        .unwrap();
        same(&read_cart(app, &cart.id).await, &expected);
        expected = remove_line(app, &cart.id, &audio_line, &expected.etag)
            .await
            .unwrap();
        same(&read_cart(app, &cart.id).await, &expected);

        // Callers that go away at every point of their write: whatever was committed is
        // what GetCart shows, once the database is quiet.
        for attempt in 0..24_u64 {
            let etag = read_cart(app, &cart.id).await.etag;
            let line = annual(&audio, 1 + attempt as i32);
            let _ = tokio::time::timeout(
                std::time::Duration::from_micros(100 * attempt),
                add_line(app, &cart.id, &etag, line),
            )
            .await;
            one_line_when_quiet(app, &cart.id, attempt).await;
        }

        // Checked out: read back as ordered. Deleted: not found. (A late write that moves the
        // cart on under the checkout makes it ABORTED: then once more.)
        let mut order = None;
        for _ in 0..100 {
            let current = one_line_when_quiet(app, &cart.id, 24).await;
            match checkout(app, &current).await {
                Ok(placed) => {
                    order = Some(placed);
                    break;
                }
                Err(status) if status.code() == Code::Aborted => {}
                Err(status) => panic!("checkout: {status:?}"),
            }
        }
        let order = order.expect("the cart never stayed still for a checkout");
        let ordered = read_cart(app, &cart.id).await;
        assert_eq!(ordered.status, pb::CartStatus::Ordered as i32);
        assert_eq!(ordered.order_id, order.id);
        let doomed = new_cart(app, "us-fabrikam", vec![annual(&e3, 1)]).await;
        assert_eq!(read_cart(app, &doomed.id).await.etag, doomed.etag);
        carts
            .delete_cart(pb::DeleteCartRequest {
                request_id: rid(),
                cart_id: doomed.id.clone(),
                etag: doomed.etag.clone(),
            })
            .await
            .unwrap();
        let gone = carts
            .get_cart(pb::GetCartRequest {
                cart_id: doomed.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        assert_eq!(stored_cart(app, &doomed.id).await, None);
    }
);
