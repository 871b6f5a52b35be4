//! Quantity changes: up at any time for the rest of the billing period, down only inside the
//! window, checked as at purchase under checkout's guard.

use super::*;
use crate::common::{start_of_test_time, violations};
use crate::on_both_backends;
use chrono::Duration;
use pb::BillingCycle as C;
use pb::TermDuration as T;
use pb::TransactionType as Kind;
use tonic::Code;

/// ChangeSubscriptionQuantity of `id` to `quantity` at `etag`, as `partner`'s sales agent.
async fn change(
    app: &TestApp,
    partner: &str,
    id: &str,
    etag: &str,
    quantity: i32,
    request_id: &str,
) -> Result<pb::ChangeSubscriptionQuantityResponse, tonic::Status> {
    app.orders(partner, Role::SalesAgent)
        .change_subscription_quantity(pb::ChangeSubscriptionQuantityRequest {
            request_id: request_id.into(),
            subscription_id: id.into(),
            etag: etag.into(),
            quantity,
        })
        .await
        .map(tonic::Response::into_inner)
}

on_both_backends!(
    seats_added_and_removed_are_prorated_on_the_billing_period,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 5, T::P1y, C::Monthly).await]).await;
        let sub = &order.lines[0].subscription_id;
        let seat_month = micros(&order.lines[0].billing_period_charge) / 5;
        app.clock.advance(Duration::days(5));
        let err = change(app, "us", sub, "v7", 8, &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        let request = rid();
        let up = change(app, "us", sub, "v1", 8, &request).await.unwrap();
        let t = up.transaction.unwrap();
        assert_eq!(
            (t.r#type(), t.quantity_delta, t.quantity, t.version),
            (Kind::AddQuantity, 3, 8, 2)
        );
        // 3 seats for the 25 days left of the 30-day month billed.
        assert_eq!(micros(&t.amount), 3 * seat_month * 25 / 30);
        let sub_now = up.subscription.unwrap();
        assert_eq!((sub_now.quantity, sub_now.etag.as_str()), (8, "v2"));
        // A retry answers the same and changes nothing more.
        let again = change(app, "us", sub, "v1", 8, &request).await.unwrap();
        assert_eq!(again.transaction.unwrap(), t);
        assert_eq!(again.subscription.unwrap().quantity, 8);

        app.clock.advance(Duration::days(1));
        let down = change(app, "us", sub, "", 6, &rid()).await.unwrap();
        let t = down.transaction.unwrap();
        assert_eq!((t.r#type(), t.quantity_delta), (Kind::RemoveQuantity, -2));
        assert_eq!(micros(&t.amount), -(2 * seat_month * 24 / 30));
        let kinds: Vec<_> = history(app, sub, 2)
            .await
            .iter()
            .map(|t| (t.r#type(), t.quantity))
            .collect();
        assert_eq!(
            kinds,
            [
                (Kind::New, 5),
                (Kind::AddQuantity, 8),
                (Kind::RemoveQuantity, 6)
            ]
        );
        let err = change(app, "us", sub, "", 6, &rid()).await.unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "quantity"),
            "QUANTITY_UNCHANGED"
        );
        let err = change(app, "us", sub, "", 0, &rid()).await.unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "quantity"), "OUT_OF_RANGE");
    }
);

on_both_backends!(
    a_decrease_on_day_8_is_refused_with_the_date,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 5, T::P1y, C::Annual).await]).await;
        let sub = &order.lines[0].subscription_id;
        app.clock.advance(Duration::days(8));
        let err = change(app, "us", sub, "", 3, &rid()).await.unwrap_err();
        let [closed] = &violations(&err)[..] else {
            panic!("{err:?}");
        };
        assert_eq!(closed.r#type, "QUANTITY_DECREASE_WINDOW_CLOSED");
        let until = (start_of_test_time() + Duration::days(7)).to_rfc3339();
        assert!(err.message().contains(&until), "{}", err.message());
        assert!(
            err.message().contains("scheduled for the renewal"),
            "{}",
            err.message()
        );
        assert_eq!(subscription(app, sub).await.quantity, 5);
        // Up is still possible.
        let up = change(app, "us", sub, "", 7, &rid()).await.unwrap();
        assert_eq!(up.subscription.unwrap().quantity, 7);
    }
);

on_both_backends!(
    two_increases_racing_for_the_last_seats_of_a_300_seat_sku_exactly_one_wins,
    async |app: &TestApp| {
        let a = buy(app, vec![line(app, E3, 280, T::P1y, C::Annual).await]).await;
        let b = buy(app, vec![line(app, E3, 10, T::P1y, C::Annual).await]).await;
        let (a, b) = (&a.lines[0].subscription_id, &b.lines[0].subscription_id);
        for round in 0..3 {
            // Each round, 10 seats are left and two changes of 10 race for them.
            let (ra, rb) = (rid(), rid());
            let (qa, qb) = (
                subscription(app, a).await.quantity,
                subscription(app, b).await.quantity,
            );
            assert_eq!(qa + qb, 290);
            let (x, y) = tokio::join!(
                change(app, "us", a, "", qa + 10, &ra),
                change(app, "us", b, "", qb + 10, &rb)
            );
            let won = [&x, &y].iter().filter(|r| r.is_ok()).count();
            assert_eq!(won, 1, "round {round}: {x:?} {y:?}");
            let lost = x.as_ref().err().or(y.as_ref().err()).unwrap();
            assert_eq!(
                violations(lost)[0].r#type,
                "SEAT_LIMIT_EXCEEDED",
                "{lost:?}"
            );
            let held = subscription(app, a).await.quantity + subscription(app, b).await.quantity;
            assert_eq!(held, 300, "round {round}");
            // Give back 10 seats of the winner (inside the window) for the next round.
            let winner = if x.is_ok() { a } else { b };
            let back = subscription(app, winner).await.quantity - 10;
            change(app, "us", winner, "", back, &rid()).await.unwrap();
        }
        common::assert_orders_whole(&app.database_url).await;
    }
);

on_both_backends!(
    add_on_seats_stay_within_their_base_and_the_base_above_its_add_ons,
    async |app: &TestApp| {
        let order = buy(
            app,
            vec![
                line(app, E3, 10, T::P1y, C::Annual).await,
                line(app, AUDIO, 10, T::P1y, C::Annual).await,
            ],
        )
        .await;
        let (base, addon) = (
            &order.lines[0].subscription_id,
            &order.lines[1].subscription_id,
        );
        let err = change(app, "us", addon, "", 11, &rid()).await.unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "ADDON_QUANTITY_EXCEEDS_BASE");
        assert!(err.message().contains("base_seats=10"), "{}", err.message());
        let err = change(app, "us", base, "", 9, &rid()).await.unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "ADDON_QUANTITY_EXCEEDS_BASE");
        change(app, "us", base, "", 12, &rid()).await.unwrap();
        change(app, "us", addon, "", 12, &rid()).await.unwrap();
        // Another partner's subscription does not exist.
        let err = change(app, "de", base, "", 13, &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        assert_eq!(subscription(app, base).await.quantity, 12);
    }
);
