//! Trials through the wire: a trial converts into its paid SKU (the offer matrix's
//! `ProductSkuConversion`) keeping its id, priced from the current list, on the record as a
//! CONVERT; a target the matrix does not name is refused; the matrix's Concurrent and
//! Lifetime limits bound how many subscriptions of a SKU a customer holds (now, ever).

use crate::common::{self, TestApp, rid, start_of_test_time, violations};
use crate::on_both_backends;
use crate::subscriptions::{buy, cancel, history, line, micros, subscription, time};
use chrono::Duration;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::BillingCycle as C;
use pb::TermDuration as T;
use pb::TransactionType as Kind;
use tonic::Code;

/// Office 365 E3 Trial (25 seats, one for life) and what it converts to.
const E3_TRIAL: (&str, &str) = ("CFQ7TTC02ROY", "0004");
const E3: (&str, &str) = ("CFQ7TTC02ROY", "0001");
/// Office 365 E5: not a target of the E3 trial.
const E5: (&str, &str) = ("CFQ7TTC0G513", "0001");
/// Dynamics 365 Business Central Premium Trial: two for life.
const BC_TRIAL: (&str, &str) = ("CFQ7TTC0CS5N", "0004");
/// Office 365 Business Essentials: two at once (Concurrent).
const ESSENTIALS: (&str, &str) = ("CFQ7TTC0LH18", "0001");

async fn availability(app: &TestApp, sku: (&str, &str)) -> pb::Availability {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    common::commercial_availability(&mut catalog, sku, "US").await
}

async fn sku(app: &TestApp, sku: (&str, &str)) -> pb::Sku {
    app.catalog("us", Role::SalesAgent)
        .get_sku(pb::GetSkuRequest {
            product_id: sku.0.into(),
            sku_id: sku.1.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sku
        .unwrap()
}

/// A trial of `sku` bought now by us-fabrikam: its subscription id.
async fn take_trial(app: &TestApp, sku: (&str, &str)) -> String {
    let order = buy(app, vec![line(app, sku, 25, T::P1m, C::None).await]).await;
    order.lines[0].subscription_id.clone()
}

#[allow(clippy::too_many_arguments)]
async fn convert(
    app: &TestApp,
    partner: &str,
    id: &str,
    etag: &str,
    item: &str,
    term: T,
    cycle: C,
    quantity: i32,
    request_id: &str,
) -> Result<pb::ConvertTrialSubscriptionResponse, tonic::Status> {
    app.orders(partner, Role::SalesAgent)
        .convert_trial_subscription(pb::ConvertTrialSubscriptionRequest {
            request_id: request_id.into(),
            subscription_id: id.into(),
            etag: etag.into(),
            catalog_item_id: item.into(),
            term: term.into(),
            billing_cycle: cycle.into(),
            quantity,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// CheckPurchasability of one `sku` line for us-fabrikam: its problems.
async fn problems(
    app: &TestApp,
    sku: (&str, &str),
    quantity: i32,
    term: T,
    cycle: C,
) -> Vec<pb::PurchaseProblem> {
    let a = availability(app, sku).await;
    app.catalog("us", Role::SalesAgent)
        .check_purchasability(pb::CheckPurchasabilityRequest {
            customer_id: TestApp::customer_id("us-fabrikam"),
            catalog_item_id: a.catalog_item_id,
            quantity,
            term: term.into(),
            billing_cycle: cycle.into(),
            month: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .problems
}

fn figures(p: &pb::PurchaseProblem, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            p.figures
                .get(*n)
                .unwrap_or_else(|| panic!("no figure {n} in {p:?}"))
                .clone()
        })
        .collect()
}

fn sku_refs(refs: &[pb::SkuRef]) -> Vec<(String, String)> {
    refs.iter()
        .map(|r| (r.product_id.clone(), r.sku_id.clone()))
        .collect()
}

on_both_backends!(
    a_trial_converts_into_its_paid_sku_keeping_its_id,
    async |app: &TestApp| {
        // The catalog tells what the trial converts to and its limit.
        let trial_sku = sku(app, E3_TRIAL).await;
        assert!(trial_sku.is_trial);
        assert_eq!(
            sku_refs(&trial_sku.conversion_targets),
            [(E3.0.to_owned(), E3.1.to_owned())]
        );
        assert_eq!(
            (trial_sku.lifetime_limit, trial_sku.concurrent_limit),
            (Some(1), None)
        );
        let paid = sku(app, E3).await;
        assert!(paid.conversion_targets.is_empty());
        assert_eq!((paid.lifetime_limit, paid.seat_limit), (None, Some(300)));

        let id = take_trial(app, E3_TRIAL).await;
        app.clock.advance(Duration::days(10));
        let target = availability(app, E3).await;
        let price = target
            .terms
            .iter()
            .find(|t| t.term() == T::P1y && t.billing_cycle() == C::Monthly)
            .expect("E3 is sold P1Y billed monthly")
            .clone();
        let request = rid();
        let converted = convert(
            app,
            "us",
            &id,
            "v1",
            &target.catalog_item_id,
            T::P1y,
            C::Monthly,
            0,
            &request,
        )
        .await
        .unwrap();
        let sub = converted.subscription.unwrap();
        let now = start_of_test_time() + Duration::days(10);
        // The same subscription, now the paid SKU, a new term from today.
        assert_eq!(sub.id, id);
        assert_eq!((sub.product_id.as_str(), sub.sku_id.as_str()), (E3.0, E3.1));
        assert_eq!(sub.catalog_item_id, target.catalog_item_id);
        assert_eq!(sub.status(), pb::SubscriptionStatus::Active);
        assert_eq!((sub.term(), sub.billing_cycle()), (T::P1y, C::Monthly));
        assert_eq!(sub.quantity, 25, "the trial's seats by default");
        assert!(sub.auto_renew);
        assert_eq!(sub.etag, "v2");
        assert_eq!(time(&sub.start_time), now);
        assert_eq!(
            time(&sub.commitment_end_time),
            now + chrono::Months::new(12)
        );
        assert_eq!(micros(&sub.unit_term_price), micros(&price.term_price));
        // On the record: CONVERT, the first month billed for 25 seats.
        let t = converted.transaction.unwrap();
        assert_eq!(
            (t.r#type(), t.quantity, t.quantity_delta, t.version),
            (Kind::Convert, 25, 0, 2)
        );
        assert_eq!(micros(&t.amount), 25 * micros(&price.billing_period_charge));
        assert!(micros(&t.amount) > 0);
        assert_eq!(time(&t.period_start_time), now);
        assert_eq!(time(&t.period_end_time), now + chrono::Months::new(1));
        let kinds: Vec<_> = history(app, &id, 10)
            .await
            .iter()
            .map(|t| t.r#type())
            .collect();
        assert_eq!(kinds, [Kind::New, Kind::Convert]);

        // A retry answers the same; a new request finds no trial any more.
        let again = convert(
            app,
            "us",
            &id,
            "v1",
            &target.catalog_item_id,
            T::P1y,
            C::Monthly,
            0,
            &request,
        )
        .await
        .unwrap();
        assert_eq!(again.transaction.unwrap(), t);
        let err = convert(
            app,
            "us",
            &id,
            "",
            &target.catalog_item_id,
            T::P1y,
            C::Monthly,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert_eq!(violations(&err)[0].r#type, "NOT_A_TRIAL");
        // The converted trial still counts toward the trial's lifetime limit.
        let refused = problems(app, E3_TRIAL, 25, T::P1m, C::None).await;
        let [p] = &refused[..] else {
            panic!("{refused:?}");
        };
        assert_eq!(p.code(), pb::ProblemCode::TrialLimitReached);
        assert_eq!(
            figures(p, &["trial_limit", "limit_type", "held_ever"]),
            ["1", "lifetime", "1"]
        );
        // Another partner does not see it.
        let err = convert(
            app,
            "de",
            &id,
            "",
            &target.catalog_item_id,
            T::P1y,
            C::Monthly,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    a_conversion_to_a_sku_the_matrix_does_not_name_is_refused,
    async |app: &TestApp| {
        let id = take_trial(app, E3_TRIAL).await;
        let e5 = availability(app, E5).await;
        let err = convert(
            app,
            "us",
            &id,
            "",
            &e5.catalog_item_id,
            T::P1y,
            C::Monthly,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        let [v] = &violations(&err)[..] else {
            panic!("{err:?}");
        };
        assert_eq!(v.r#type, "CONVERSION_TARGET_NOT_ALLOWED");
        assert_eq!(v.subject, format!("subscriptions/{id}"));
        assert!(
            v.description.contains("allowed: CFQ7TTC02ROY/0001"),
            "{v:?}"
        );

        // The right target, but a term it is not sold at: checkout's rule, with its figures.
        let e3 = availability(app, E3).await;
        let err = convert(
            app,
            "us",
            &id,
            "",
            &e3.catalog_item_id,
            T::P1m,
            C::Annual,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert_eq!(violations(&err)[0].r#type, "BILLING_CYCLE_NOT_OFFERED");
        // Beyond the target's seat limit (300).
        let err = convert(
            app,
            "us",
            &id,
            "",
            &e3.catalog_item_id,
            T::P1y,
            C::Annual,
            301,
            &rid(),
        )
        .await
        .unwrap_err();
        let types: Vec<_> = violations(&err).into_iter().map(|v| v.r#type).collect();
        assert!(
            types.contains(&"SEAT_LIMIT_EXCEEDED".to_owned()),
            "{types:?}"
        );
        // Bad input: INVALID_ARGUMENT naming the field.
        let err = convert(
            app,
            "us",
            &id,
            "",
            "not-an-item",
            T::P1y,
            C::Annual,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        common::assert_bad_field(&err, "catalog_item_id");
        let err = convert(
            app,
            "us",
            &id,
            "",
            &e3.catalog_item_id,
            T::Unspecified,
            C::Annual,
            -1,
            &rid(),
        )
        .await
        .unwrap_err();
        common::assert_bad_field(&err, "term");
        common::assert_bad_field(&err, "quantity");
        // Nothing changed: still the trial, on its first version.
        let sub = subscription(app, &id).await;
        assert_eq!((sub.sku_id.as_str(), sub.etag.as_str()), (E3_TRIAL.1, "v1"));
        assert_eq!(history(app, &id, 10).await.len(), 1);
        // A paid subscription is no trial.
        let paid = buy(app, vec![line(app, E3, 5, T::P1y, C::Annual).await]).await;
        let err = convert(
            app,
            "us",
            &paid.lines[0].subscription_id,
            "",
            &e3.catalog_item_id,
            T::P1y,
            C::Annual,
            0,
            &rid(),
        )
        .await
        .unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "NOT_A_TRIAL");
    }
);

on_both_backends!(
    the_concurrent_limit_counts_subscriptions_held_now,
    async |app: &TestApp| {
        assert_eq!(sku(app, ESSENTIALS).await.concurrent_limit, Some(2));
        let first = buy(app, vec![line(app, ESSENTIALS, 1, T::P1y, C::Annual).await]).await;
        buy(app, vec![line(app, ESSENTIALS, 1, T::P1y, C::Annual).await]).await;
        let refused = problems(app, ESSENTIALS, 1, T::P1y, C::Annual).await;
        let [p] = &refused[..] else {
            panic!("{refused:?}");
        };
        assert_eq!(p.code(), pb::ProblemCode::SubscriptionLimitReached);
        assert_eq!(
            figures(p, &["subscription_limit", "limit_type", "held_now"]),
            ["2", "concurrent", "2"]
        );
        assert!(p.message.contains("at once"), "{}", p.message);
        // Checkout refuses it too.
        let cart = app
            .carts("us", Role::SalesAgent)
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                lines: vec![line(app, ESSENTIALS, 1, T::P1y, C::Annual).await],
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        let err = app
            .carts("us", Role::SalesAgent)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert!(
            violations(&err)
                .iter()
                .any(|v| v.r#type == "SUBSCRIPTION_LIMIT_REACHED"),
            "{err:?}"
        );
        // A cancelled one is not held any more: one more may be bought.
        cancel(app, "us", &first.lines[0].subscription_id, "", &rid())
            .await
            .unwrap();
        assert!(
            problems(app, ESSENTIALS, 1, T::P1y, C::Annual)
                .await
                .is_empty()
        );
    }
);

on_both_backends!(
    the_lifetime_limit_counts_cancelled_trials,
    async |app: &TestApp| {
        let bc = sku(app, BC_TRIAL).await;
        assert_eq!((bc.lifetime_limit, bc.concurrent_limit), (Some(2), None));
        // The real offer names two paid SKUs.
        assert_eq!(
            sku_refs(&bc.conversion_targets),
            [
                ("CFQ7TTC0CS5N".to_owned(), "0001".to_owned()),
                ("CFQ7TTC0CS5N".to_owned(), "0005".to_owned())
            ]
        );
        // Two for life: one taken and cancelled, one more may be taken.
        let first = take_trial(app, BC_TRIAL).await;
        cancel(app, "us", &first, "", &rid()).await.unwrap();
        assert!(
            problems(app, BC_TRIAL, 25, T::P1m, C::None)
                .await
                .is_empty()
        );
        let second = take_trial(app, BC_TRIAL).await;
        cancel(app, "us", &second, "", &rid()).await.unwrap();
        // Both cancelled, none held now, and still no third.
        let refused = problems(app, BC_TRIAL, 25, T::P1m, C::None).await;
        let [p] = &refused[..] else {
            panic!("{refused:?}");
        };
        assert_eq!(p.code(), pb::ProblemCode::TrialLimitReached);
        assert_eq!(
            figures(p, &["trial_limit", "limit_type", "held_ever"]),
            ["2", "lifetime", "2"]
        );
        assert!(p.message.contains("cancelled"), "{}", p.message);
    }
);
