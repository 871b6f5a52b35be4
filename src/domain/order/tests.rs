use super::*;
use crate::domain::money::Currency;

/// An order of one line per term, each for 120.00 (billed annually or once), and the
/// subscriptions its lines made.
fn order(terms: &[Term], created_at: DateTime<Utc>) -> (Order, Vec<Subscription>) {
    let usd = Currency::parse("c", "USD").unwrap();
    let price = Money::from_micros(usd, 120_000_000);
    let (id, customer_id) = (OrderId::new(), CustomerId::new());
    let item = CatalogItemId::parse("i", "A:B:C").unwrap();
    let cycle = |term| {
        if term == Term::None {
            BillingCycle::OneTime
        } else {
            BillingCycle::Annual
        }
    };
    let subscriptions: Vec<Subscription> = terms
        .iter()
        .map(|&term| Subscription {
            id: SubscriptionId::new(),
            customer_id,
            order_id: id,
            item: item.clone(),
            title: String::new(),
            quantity: 1,
            term,
            billing_cycle: cycle(term),
            status: SubscriptionStatus::Active,
            is_trial: false,
            start_at: created_at,
            commitment_end_at: term_end(term, created_at),
            auto_renew: true,
            parent: None,
            unit_price: price,
            version: 1,
            next_term: None,
            expiry_reason: None,
        })
        .collect();
    let lines = subscriptions
        .iter()
        .enumerate()
        .map(|(i, s)| OrderLine {
            line_number: i as i32 + 1,
            item: item.clone(),
            product_title: String::new(),
            sku_title: String::new(),
            quantity: 1,
            term: s.term,
            billing_cycle: s.billing_cycle,
            unit_price: price,
            extended_price: price,
            subscription_id: s.id,
        })
        .collect();
    let order = Order {
        id,
        order_number: order_number(42),
        customer_id,
        cart_id: CartId::new(),
        status: OrderStatus::Completed,
        lines,
        total: price.checked_mul(terms.len() as i64).unwrap(),
        created_at,
        cancelled_at: None,
        refund: None,
        version: 1,
        transactions: Vec::new(),
    };
    (order, subscriptions)
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

#[test]
fn each_line_keeps_its_own_window_in_a_mixed_order() {
    use chrono::Duration;
    let (mixed, held) = order(&[Term::P1Y, Term::None], start());
    let (refund, cancels) = mixed
        .cancel(None, start() + Duration::days(3), &held)
        .unwrap();
    // The year billed up front, 362 of 365 days back, and the perpetual licence whole.
    assert_eq!(refund.micros, 120_000_000 * 362 / 365 + 120_000_000);
    assert_eq!(cancels.len(), 2);
    let Err(DomainError::FailedPrecondition {
        message,
        violations,
    }) = mixed.cancel(None, start() + Duration::days(10), &held)
    else {
        panic!("cancelled past the license line's window");
    };
    assert_eq!(violations.len(), 1, "only the license line is closed");
    assert_eq!(
        violations[0].subject,
        format!("subscriptions/{}", held[0].id)
    );
    assert!(
        message.contains("1 of its lines can still be cancelled"),
        "{message}"
    );
    assert!(
        held[1]
            .check_cancel(None, start() + Duration::days(29))
            .is_ok()
    );
    assert!(
        held[1]
            .check_cancel(None, start() + Duration::days(31))
            .is_err()
    );
}

#[test]
fn a_clean_review_plans_an_order_with_a_subscription_per_line() {
    use crate::domain::cart::fixtures::{cart_of, catalog_priced_at, review_e3, test_now};
    let catalog = catalog_priced_at(1_000_000);
    let review = review_e3(&catalog, &[3]);
    assert!(review.is_clean(), "{review:?}");
    let cart = cart_of(&review);
    let (order, subscriptions) = Order::plan(&catalog, &cart, &review, test_now()).unwrap();
    assert_eq!(
        (order.cart_id, order.status),
        (cart.id, OrderStatus::Pending)
    );
    assert_eq!(order.total.micros, 3_000_000);
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].order_id, order.id);
    assert_eq!(order.lines[0].subscription_id, subscriptions[0].id);
    assert_eq!(
        subscriptions[0].commitment_end_at,
        term_end(Term::P1Y, test_now())
    );
}

#[test]
fn an_order_is_priced_in_one_currency_and_planned_only_from_a_clean_review() {
    use crate::domain::cart::fixtures::{cart_of, catalog_priced_at, review_e3, test_now};
    use crate::domain::money::Currency;
    let catalog = catalog_priced_at(1_000_000);
    let mut review = review_e3(&catalog, &[1]);
    let cart = cart_of(&review);
    let eur = Money::from_micros(Currency::parse("c", "EUR").unwrap(), 1);
    review.totals.push(eur);
    let Err(DomainError::FailedPrecondition { violations, .. }) =
        Order::plan(&catalog, &cart, &review, test_now())
    else {
        panic!("two currencies were planned");
    };
    assert_eq!(violations[0].code, "MIXED_CURRENCIES");

    let review = review_e3(&catalog, &[1, 1]);
    let Err(DomainError::FailedPrecondition { violations, .. }) =
        Order::plan(&catalog, &cart_of(&review), &review, test_now())
    else {
        panic!("a cart with problems was planned");
    };
    assert!(
        violations.iter().any(|v| v.code == "DUPLICATE_SKU_IN_CART"),
        "{violations:?}"
    );
}

#[test]
fn an_order_is_cancelled_once_inside_its_window_at_its_etag() {
    use chrono::Duration;
    let (yearly, held) = order(&[Term::P1Y], start());
    let (refund, _) = yearly.cancel(Some("v1"), start(), &held).unwrap();
    assert_eq!(refund.micros, 120_000_000);
    assert!(
        yearly
            .cancel(Some("v2"), start(), &held)
            .unwrap_err()
            .is_stale_etag()
    );
    let code = |error: DomainError| match error {
        DomainError::FailedPrecondition { violations, .. } => violations[0].code.clone(),
        other => panic!("{other:?}"),
    };
    let late = yearly
        .cancel(None, start() + Duration::days(8), &held)
        .unwrap_err();
    assert_eq!(code(late), "CANCELLATION_WINDOW_CLOSED");
    let cancelled = Order {
        status: OrderStatus::Cancelled,
        ..yearly
    };
    assert_eq!(
        code(cancelled.cancel(None, start(), &held).unwrap_err()),
        "ORDER_ALREADY_CANCELLED"
    );
}

#[test]
fn order_numbers_are_short_and_distinct() {
    assert_eq!(order_number(0), "ORD-00000000");
    assert_ne!(order_number(1), order_number(2));
    assert_eq!(order_number(u64::MAX).len(), 12);
}
