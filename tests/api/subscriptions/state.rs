//! Suspension, reactivation and auto-renew.

use super::*;
use crate::common::violations;
use crate::on_both_backends;
use pb::BillingCycle as C;
use pb::TermDuration as T;
use tonic::Code;

async fn suspend(
    app: &TestApp,
    partner: &str,
    id: &str,
    etag: &str,
    request_id: &str,
) -> Result<pb::Subscription, tonic::Status> {
    app.orders(partner, Role::SalesAgent)
        .suspend_subscription(pb::SuspendSubscriptionRequest {
            request_id: request_id.into(),
            subscription_id: id.into(),
            etag: etag.into(),
        })
        .await
        .map(|r| r.into_inner().subscription.unwrap())
}

async fn reactivate(app: &TestApp, id: &str) -> Result<pb::Subscription, tonic::Status> {
    app.orders("us", Role::SalesAgent)
        .reactivate_subscription(pb::ReactivateSubscriptionRequest {
            request_id: rid(),
            subscription_id: id.into(),
            etag: String::new(),
        })
        .await
        .map(|r| r.into_inner().subscription.unwrap())
}

async fn auto_renew(app: &TestApp, id: &str, on: bool) -> Result<pb::Subscription, tonic::Status> {
    app.orders("us", Role::SalesAgent)
        .set_subscription_auto_renew(pb::SetSubscriptionAutoRenewRequest {
            request_id: rid(),
            subscription_id: id.into(),
            etag: String::new(),
            auto_renew: on,
        })
        .await
        .map(|r| r.into_inner().subscription.unwrap())
}

fn code(status: &tonic::Status) -> String {
    violations(status)[0].r#type.clone()
}

on_both_backends!(
    a_suspended_subscription_keeps_its_seats_until_reactivated,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 5, T::P1y, C::Annual).await]).await;
        let sub = &order.lines[0].subscription_id;
        let err = suspend(app, "us", sub, "v5", &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        let request = rid();
        let suspended = suspend(app, "us", sub, "v1", &request).await.unwrap();
        assert_eq!(suspended.status(), pb::SubscriptionStatus::Suspended);
        assert!(
            !suspended.auto_renew,
            "a suspended subscription expires at its end"
        );
        assert_eq!(suspended.etag, "v2");
        let again = suspend(app, "us", sub, "v1", &request).await.unwrap();
        assert_eq!(again, suspended, "a retry answers the same");
        let err = suspend(app, "us", sub, "", &rid()).await.unwrap_err();
        assert_eq!(code(&err), "SUBSCRIPTION_NOT_ACTIVE");
        let err = app
            .orders("us", Role::SalesAgent)
            .change_subscription_quantity(pb::ChangeSubscriptionQuantityRequest {
                request_id: rid(),
                subscription_id: sub.clone(),
                etag: String::new(),
                quantity: 6,
            })
            .await
            .unwrap_err();
        assert_eq!(code(&err), "SUBSCRIPTION_NOT_ACTIVE");
        let err = auto_renew(app, sub, true).await.unwrap_err();
        assert_eq!(code(&err), "SUBSCRIPTION_NOT_ACTIVE");

        let active = reactivate(app, sub).await.unwrap();
        assert_eq!(active.status(), pb::SubscriptionStatus::Active);
        assert_eq!(active.quantity, 5);
        let err = reactivate(app, sub).await.unwrap_err();
        assert_eq!(code(&err), "SUBSCRIPTION_NOT_SUSPENDED");
        assert!(auto_renew(app, sub, true).await.unwrap().auto_renew);
        assert!(!auto_renew(app, sub, false).await.unwrap().auto_renew);
        assert!(!subscription(app, sub).await.auto_renew);

        let err = suspend(app, "de", sub, "", &rid()).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    perpetual_licences_neither_suspend_nor_renew,
    async |app: &TestApp| {
        let order = buy(
            app,
            vec![line(app, SQL_PERPETUAL, 1, T::None, C::OneTime).await],
        )
        .await;
        let sub = &order.lines[0].subscription_id;
        let err = suspend(app, "us", sub, "", &rid()).await.unwrap_err();
        assert_eq!(code(&err), "SUSPENSION_NOT_ALLOWED");
        let err = auto_renew(app, sub, true).await.unwrap_err();
        assert_eq!(code(&err), "AUTO_RENEW_NOT_ALLOWED");
        assert_eq!(
            subscription(app, sub).await.status(),
            pb::SubscriptionStatus::Active
        );
    }
);
