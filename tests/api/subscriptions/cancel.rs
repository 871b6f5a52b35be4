//! Cancellation: refunds from the billed period, per-line windows, one subscription with its
//! add-ons, and the record each leaves.

use super::*;
use crate::common::{start_of_test_time, violations};
use crate::on_both_backends;
use chrono::{Duration, Months};
use pb::BillingCycle as C;
use pb::TermDuration as T;
use pb::TransactionType as Kind;
use tonic::Code;

on_both_backends!(
    a_yearly_line_billed_monthly_cancelled_on_day_3_refunds_only_the_billed_month,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 10, T::P1y, C::Monthly).await]).await;
        let charge = micros(&order.lines[0].billing_period_charge);
        assert_eq!(
            charge * 12,
            micros(&order.lines[0].term_price),
            "a twelfth a month"
        );
        // Checkout wrote "new": the first month's charge, for the first month.
        let [new] = &order.transactions[..] else {
            panic!("{:?}", order.transactions);
        };
        assert_eq!(
            (new.r#type(), new.quantity_delta, new.version),
            (Kind::New, 10, 1)
        );
        assert_eq!(micros(&new.amount), charge);
        let start = start_of_test_time();
        assert_eq!(time(&new.period_start_time), start);
        let month_end = start.checked_add_months(Months::new(1)).unwrap();
        assert_eq!(time(&new.period_end_time), month_end);

        app.clock.advance(Duration::days(3));
        let cancelled = app
            .orders("us", Role::SalesAgent)
            .cancel_order(pb::CancelOrderRequest {
                request_id: rid(),
                order_id: order.id.clone(),
                // No condition: provisioning completes the order (a new etag) meanwhile.
                etag: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        // 27 of the month's 30 days unused, of the one month billed (not of the year).
        let expected = charge * 27 / 30;
        assert_eq!(micros(&cancelled.refund), expected);
        assert!(expected < micros(&order.total) / 12);
        let sub = &order.lines[0].subscription_id;
        let record = history(app, sub, 1).await;
        assert_eq!(record.len(), 2, "{record:?}");
        assert_eq!(record[0], *new);
        let cancel = &record[1];
        assert_eq!(
            (
                cancel.r#type(),
                cancel.quantity_delta,
                cancel.quantity,
                cancel.version
            ),
            (Kind::Cancel, -10, 0, 2)
        );
        assert_eq!(micros(&cancel.amount), -expected);
        assert_eq!(time(&cancel.period_start_time), start + Duration::days(3));
        assert_eq!(time(&cancel.period_end_time), month_end);
        assert_eq!(
            cancelled.transactions, record,
            "order history shows the record"
        );
    }
);

on_both_backends!(
    a_subscription_is_cancelled_with_its_addons_once_at_its_etag,
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
        app.clock.advance(Duration::days(2));
        let err = cancel(app, "us", base, "v9", &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::Aborted, "{err:?}");
        let request = rid();
        let done = cancel(app, "us", base, "v1", &request).await.unwrap();
        let sub = done.subscription.unwrap();
        assert_eq!(sub.status(), pb::SubscriptionStatus::Cancelled);
        assert!(!sub.auto_renew);
        let ended: Vec<_> = done
            .transactions
            .iter()
            .map(|t| (t.subscription_id.as_str(), t.r#type(), t.quantity_delta))
            .collect();
        assert_eq!(
            ended,
            [
                (base.as_str(), Kind::Cancel, -10),
                (addon.as_str(), Kind::Cancel, -10)
            ]
        );
        for (t, l) in done.transactions.iter().zip(&order.lines) {
            // Billed for the year up front: 363 of 365 days back.
            assert_eq!(micros(&t.amount), -(micros(&l.term_price) * 363 / 365));
        }
        assert_eq!(
            subscription(app, addon).await.status(),
            pb::SubscriptionStatus::Cancelled
        );
        // A retry answers the same; a new request finds it cancelled.
        let again = cancel(app, "us", base, "v1", &request).await.unwrap();
        assert_eq!(again.transactions, done.transactions);
        assert_eq!(again.subscription.unwrap().etag, sub.etag);
        let err = cancel(app, "us", base, "", &rid()).await.unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "SUBSCRIPTION_NOT_ACTIVE");
        // The order stands; its history shows both purchases and both cancellations.
        let order = app
            .orders("us", Role::HelpdeskAgent)
            .get_order(pb::GetOrderRequest {
                order_id: order.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        assert_ne!(order.status(), pb::OrderStatus::Cancelled);
        let kinds: Vec<_> = order.transactions.iter().map(|t| t.r#type()).collect();
        assert_eq!(kinds, [Kind::New, Kind::New, Kind::Cancel, Kind::Cancel]);
    }
);

on_both_backends!(
    after_its_window_a_subscription_is_refused_saying_until_when,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 1, T::P1m, C::Monthly).await]).await;
        let sub = &order.lines[0].subscription_id;
        app.clock.advance(Duration::days(8));
        let err = cancel(app, "us", sub, "", &rid()).await.unwrap_err();
        let [closed] = &violations(&err)[..] else {
            panic!("{err:?}");
        };
        assert_eq!(closed.r#type, "CANCELLATION_WINDOW_CLOSED");
        assert_eq!(closed.subject, format!("subscriptions/{sub}"));
        let until = (start_of_test_time() + Duration::days(7)).to_rfc3339();
        assert!(closed.description.contains(&until), "{closed:?}");
        assert!(err.message().contains(&until), "{}", err.message());
        assert_eq!(history(app, sub, 10).await.len(), 1, "nothing written");
        assert_eq!(
            subscription(app, sub).await.status(),
            pb::SubscriptionStatus::Active
        );
    }
);

on_both_backends!(
    a_mixed_order_keeps_thirty_days_for_its_perpetual_lines,
    async |app: &TestApp| {
        let order = buy(
            app,
            vec![
                line(app, E3, 1, T::P1y, C::Annual).await,
                line(app, SQL_PERPETUAL, 2, T::None, C::OneTime).await,
            ],
        )
        .await;
        app.clock.advance(Duration::days(10));
        let err = app
            .orders("us", Role::SalesAgent)
            .cancel_order(pb::CancelOrderRequest {
                request_id: rid(),
                order_id: order.id.clone(),
                etag: String::new(),
            })
            .await
            .unwrap_err();
        let closed = violations(&err);
        assert_eq!(
            closed.len(),
            1,
            "only the license line's window closed: {closed:?}"
        );
        assert_eq!(
            closed[0].subject,
            format!("subscriptions/{}", order.lines[0].subscription_id)
        );
        assert!(
            err.message()
                .contains("1 of its lines can still be cancelled"),
            "{}",
            err.message()
        );
        // The perpetual line, on day 10 of its 30: returned in full.
        let perpetual = &order.lines[1];
        let done = cancel(app, "us", &perpetual.subscription_id, "", &rid())
            .await
            .unwrap();
        let [t] = &done.transactions[..] else {
            panic!("{done:?}");
        };
        assert_eq!(micros(&t.amount), -micros(&perpetual.term_price));
        assert!(t.period_end_time.is_none());
    }
);

on_both_backends!(
    another_partners_subscription_cannot_be_cancelled_or_read,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 1, T::P1y, C::Annual).await]).await;
        let sub = &order.lines[0].subscription_id;
        let err = cancel(app, "de", sub, "", &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = app
            .orders("de", Role::GlobalAdmin)
            .list_subscription_transactions(pb::ListSubscriptionTransactionsRequest {
                subscription_id: sub.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        assert_eq!(
            subscription(app, sub).await.status(),
            pb::SubscriptionStatus::Active
        );
        // Bad input is named field by field.
        let err = cancel(app, "us", "not-an-id", "", &rid())
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "subscription_id");
        let err = cancel(app, "us", sub, "", "").await.unwrap_err();
        common::assert_bad_field(&err, "request_id");
        // A helpdesk agent reads the record but may not cancel.
        let err = app
            .orders("us", Role::HelpdeskAgent)
            .cancel_subscription(pb::CancelSubscriptionRequest {
                request_id: rid(),
                subscription_id: sub.clone(),
                etag: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
);
