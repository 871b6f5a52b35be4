//! Renewals (issue 22), through the wire on both backends: at its commitment end a subscription
//! with auto-renew renews at the price of the month then current (one bought before a price
//! change keeps its price until then), with the next term its partner scheduled; one without
//! auto-renew, a trial, and an add-on whose base ended expire; the pass is idempotent, exactly
//! once when passes race (two replicas on PostgreSQL) and across a SIGKILL of the `renew`
//! subcommand mid-pass. The tests move the service's clock; they never sleep for time.

use chrono::Duration;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tonic::Code;

use crate::common::{self, Backend, TestApp, rid, violations};
use crate::on_both_backends;
use crate::subscriptions::{AUDIO, E3, buy, history, line, micros, subscription, time};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use csp_commerce::service::Clock;
use pb::BillingCycle as C;
use pb::TermDuration as T;

/// Its price rises in December: 242.40 -> 249.67 a seat a year (P1Y billed annually).
const POWER_BI_PRO: (&str, &str) = ("CFQ7TTC0LIVK", "0001");
/// Business Central Premium: 0001 90.00 a year; 0005 397.20 a year (P1Y, no P3Y); 0004 a trial.
const BC_PREMIUM: (&str, &str) = ("CFQ7TTC0CS5N", "0001");
/// The E3 trial: 25 seats for a month, free.
const E3_TRIAL: (&str, &str) = ("CFQ7TTC02ROY", "0004");

fn no_background(settings: &mut csp_commerce::config::Settings) {
    settings.renewal_interval_ms = 0;
}

async fn run_renewals(app: &TestApp, until: chrono::DateTime<chrono::Utc>) -> (i64, i64) {
    let done = app
        .operator()
        .run_renewals(pb::RunRenewalsRequest {
            until: Some(prost_types::Timestamp {
                seconds: until.timestamp(),
                nanos: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    (done.renewed, done.expired)
}

/// Moves the clock to just after `sub`'s commitment end, and answers that instant.
fn past_the_end(app: &TestApp, sub: &pb::Subscription) -> chrono::DateTime<chrono::Utc> {
    let end = time(&sub.commitment_end_time);
    let now = app.clock.now();
    app.clock.advance(end - now + Duration::seconds(1));
    app.clock.now()
}

async fn schedule(
    app: &TestApp,
    id: &str,
    etag: &str,
    next: Option<pb::NextTerm>,
) -> Result<pb::Subscription, tonic::Status> {
    app.orders("us", Role::SalesAgent)
        .schedule_next_term(pb::ScheduleNextTermRequest {
            request_id: rid(),
            subscription_id: id.into(),
            etag: etag.into(),
            next_term: next,
        })
        .await
        .map(|r| r.into_inner().subscription.unwrap())
}

on_both_backends!(
    a_renewal_takes_the_new_months_price_and_an_earlier_purchase_keeps_its_own_until_then,
    configure: no_background,
    async |app: &TestApp| {
        let bought = buy(app, vec![line(app, POWER_BI_PRO, 4, T::P1y, C::Annual).await]).await;
        let id = &bought.lines[0].subscription_id;
        assert_eq!(micros(&subscription(app, id).await.unit_term_price), 242_400_000);
        common::upload(
            &mut app.admin(None, Role::CatalogAdmin),
            &common::month_request("2026-12", &common::demo_dir("2026-12")),
        )
        .await
        .unwrap();
        app.admin(None, Role::CatalogAdmin)
            .publish_month(pb::PublishMonthRequest {
                request_id: rid(),
                month: "2026-12".into(),
            })
            .await
            .unwrap();
        // Bought in November: its price stays November's until its renewal.
        let held = subscription(app, id).await;
        assert_eq!(micros(&held.unit_term_price), 242_400_000);
        assert_eq!(run_renewals(app, app.clock.now()).await, (0, 0), "nothing is due");
        let at = past_the_end(app, &held);
        assert_eq!(run_renewals(app, at).await, (1, 0));
        let renewed = subscription(app, id).await;
        assert_eq!(renewed.status(), pb::SubscriptionStatus::Active);
        assert_eq!(micros(&renewed.unit_term_price), 249_670_000, "December's price");
        assert_eq!(renewed.start_time, held.commitment_end_time);
        assert_eq!(
            time(&renewed.commitment_end_time),
            time(&held.commitment_end_time) + chrono::Months::new(12)
        );
        assert_eq!(renewed.etag, "v2");
        let record = history(app, id, 10).await;
        assert_eq!(record.len(), 2);
        let renew = &record[1];
        assert_eq!(renew.r#type(), pb::TransactionType::Renew);
        assert_eq!((renew.version, renew.quantity, renew.quantity_delta), (2, 4, 0));
        assert_eq!(micros(&renew.amount), 4 * 249_670_000, "a year billed at once");
        assert_eq!(renew.period_start_time, held.commitment_end_time);
        assert_eq!(renew.period_end_time, renewed.commitment_end_time);
        // Idempotent: run again, nothing more.
        assert_eq!(run_renewals(app, at).await, (0, 0));
        assert_eq!(history(app, id, 10).await.len(), 2);
    }
);

on_both_backends!(
    auto_renew_off_expires_at_the_end_with_its_add_ons,
    configure: no_background,
    async |app: &TestApp| {
        let order = buy(
            app,
            vec![
                line(app, E3, 5, T::P1y, C::Annual).await,
                line(app, AUDIO, 5, T::P1y, C::Annual).await,
            ],
        )
        .await;
        let (base, addon) = (&order.lines[0].subscription_id, &order.lines[1].subscription_id);
        let off = app
            .orders("us", Role::SalesAgent)
            .set_subscription_auto_renew(pb::SetSubscriptionAutoRenewRequest {
                request_id: rid(),
                subscription_id: base.clone(),
                etag: String::new(),
                auto_renew: false,
            })
            .await
            .unwrap()
            .into_inner()
            .subscription
            .unwrap();
        let at = past_the_end(app, &off);
        assert_eq!(run_renewals(app, at).await, (0, 2), "the base and its add-on");
        let ended = subscription(app, base).await;
        assert_eq!(ended.status(), pb::SubscriptionStatus::Expired);
        assert_eq!(ended.expiry_reason(), pb::ExpiryReason::AutoRenewOff);
        let last = history(app, base, 10).await.pop().unwrap();
        assert_eq!(last.r#type(), pb::TransactionType::Expire);
        assert_eq!((last.quantity, last.quantity_delta), (0, -5));
        assert_eq!(micros(&last.amount), 0);
        assert_eq!(last.create_time, off.commitment_end_time);
        // The add-on renews by itself, but it cannot outlive its base.
        let addon = subscription(app, addon).await;
        assert_eq!(addon.status(), pb::SubscriptionStatus::Expired);
        assert_eq!(addon.expiry_reason(), pb::ExpiryReason::BaseEnded);
        assert_eq!(run_renewals(app, at).await, (0, 0));
    }
);

on_both_backends!(
    a_trial_expires_at_its_end,
    configure: no_background,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3_TRIAL, 25, T::P1m, C::None).await]).await;
        let id = &order.lines[0].subscription_id;
        let trial = subscription(app, id).await;
        assert!(!trial.auto_renew);
        let err = schedule(
            app,
            id,
            "",
            Some(pb::NextTerm {
                quantity: 20,
                ..Default::default()
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "NEXT_TERM_NOT_ALLOWED");
        let at = past_the_end(app, &trial);
        assert_eq!(run_renewals(app, at).await, (0, 1));
        let ended = subscription(app, id).await;
        assert_eq!(ended.status(), pb::SubscriptionStatus::Expired);
        assert_eq!(ended.expiry_reason(), pb::ExpiryReason::TrialEnded);
    }
);

on_both_backends!(
    the_scheduled_term_cycle_quantity_and_sku_apply_at_the_renewal,
    configure: no_background,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, BC_PREMIUM, 3, T::P1y, C::Annual).await]).await;
        let id = &order.lines[0].subscription_id;
        let bad = |next: pb::NextTerm| schedule(app, id, "", Some(next));
        // Each refusal says precisely why.
        let err = bad(pb::NextTerm {
            sku_id: "0004".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert_eq!(violations(&err)[0].r#type, "NEXT_TERM_NOT_ALLOWED", "a trial SKU");
        let err = bad(pb::NextTerm {
            sku_id: "0005".into(),
            term: T::P3y.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        let v = &violations(&err)[0];
        assert_eq!(v.r#type, "NEXT_TERM_NOT_AVAILABLE");
        assert!(v.description.contains("P1Y billed annual"), "{}", v.description);
        let err = bad(pb::NextTerm {
            sku_id: "9999".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
        common::assert_bad_field(&err, "next_term.sku_id");
        let err = bad(pb::NextTerm {
            quantity: 20_000_000,
            ..Default::default()
        })
        .await
        .unwrap_err();
        common::assert_bad_field(&err, "next_term.quantity");
        let err = bad(pb::NextTerm {
            quantity: 3,
            ..Default::default()
        })
        .await
        .unwrap_err();
        common::assert_bad_field(&err, "next_term");
        let err = schedule(app, id, "v7", Some(pb::NextTerm { quantity: 5, ..Default::default() }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        // Scheduled, shown, cleared, scheduled again.
        let next = pb::NextTerm {
            sku_id: "0005".into(),
            billing_cycle: C::Monthly.into(),
            quantity: 5,
            ..Default::default()
        };
        let scheduled = schedule(app, id, "v1", Some(next.clone())).await.unwrap();
        let shown = scheduled.next_term.clone().unwrap();
        assert_eq!((shown.sku_id.as_str(), shown.quantity), ("0005", 5));
        assert_eq!(shown.billing_cycle(), C::Monthly);
        assert_eq!(shown.term(), T::Unspecified, "the term stays");
        assert!(shown.catalog_item_id.starts_with("CFQ7TTC0CS5N:0005:"));
        let cleared = schedule(app, id, &scheduled.etag, None).await.unwrap();
        assert!(cleared.next_term.is_none());
        let again = schedule(app, id, &cleared.etag, Some(next)).await.unwrap();
        let at = past_the_end(app, &again);
        assert_eq!(run_renewals(app, at).await, (1, 0));
        let renewed = subscription(app, id).await;
        assert_eq!(renewed.sku_id, "0005");
        assert_eq!(renewed.catalog_item_id, shown.catalog_item_id);
        assert_eq!((renewed.quantity, renewed.term(), renewed.billing_cycle()), (5, T::P1y, C::Monthly));
        assert_eq!(micros(&renewed.unit_term_price), 397_200_000);
        assert!(renewed.next_term.is_none(), "applied, then cleared");
        let renew = history(app, id, 10).await.pop().unwrap();
        assert_eq!(renew.r#type(), pb::TransactionType::Renew);
        assert_eq!((renew.quantity, renew.quantity_delta), (5, 2));
        // 397.20 a seat a year, billed monthly: 5 seats, one month.
        assert_eq!(micros(&renew.amount), 397_200_000 * 5 / 12);
        assert_eq!(
            time(&renew.period_end_time),
            time(&renewed.start_time) + chrono::Months::new(1)
        );
    }
);

on_both_backends!(
    the_background_pass_renews_by_the_service_clock,
    configure: |s: &mut csp_commerce::config::Settings| s.renewal_interval_ms = 20,
    async |app: &TestApp| {
        let order = buy(app, vec![line(app, E3, 2, T::P1m, C::Monthly).await]).await;
        let id = &order.lines[0].subscription_id;
        let held = subscription(app, id).await;
        past_the_end(app, &held);
        // Waiting for the server's loop, not for time: the clock moved already.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let now = subscription(app, id).await;
            if now.etag == "v2" {
                assert_eq!(now.start_time, held.commitment_end_time);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not renewed in the background");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(history(app, id, 10).await.len(), 2);
    }
);

const CLONED_COLUMNS: &str = "partner_id, customer_id, order_id, product_id, sku_id, \
    availability_id, quantity, term, billing_cycle, status, is_trial, parent_subscription_id, \
    start_at, commitment_end_at, auto_renew, created_at, updated_at, version, \
    unit_price_micros, currency";

/// `n` more subscriptions like `template`, written straight into the table (a big book of
/// subscriptions due at the same instant); their ids.
async fn clone_subscriptions(db: &DatabaseConnection, template: &str, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for chunk in ids.chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|id| format!("('{id}')")).collect();
        let sql = format!(
            "WITH v(id) AS (VALUES {}) INSERT INTO subscriptions (id, {CLONED_COLUMNS}) \
             SELECT v.id, {CLONED_COLUMNS} FROM v, subscriptions s WHERE s.id = '{template}'",
            values.join(",")
        );
        db.execute_unprepared(&sql).await.unwrap();
    }
    ids
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<i64>(0)
    .unwrap()
}

/// Every subscription renewed exactly once: one renew transaction each, at version 2.
async fn assert_renewed_once(db: &DatabaseConnection, subscriptions: i64) {
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM subscription_transactions WHERE kind = 'renew'"
        )
        .await,
        subscriptions
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(DISTINCT subscription_id) FROM subscription_transactions WHERE kind = 'renew'"
        )
        .await,
        subscriptions
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM subscriptions WHERE version = 2 AND status = 'active'"
        )
        .await,
        subscriptions
    );
}

/// Two passes at once (two replicas on PostgreSQL; two calls into one server on SQLite, which
/// one process owns): each subscription renews once, and the two answers add up.
async fn racing_passes(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, no_background).await else {
        return;
    };
    let order = buy(&app, vec![line(&app, E3, 1, T::P1m, C::Monthly).await]).await;
    let template = &order.lines[0].subscription_id;
    let db = Database::connect(&app.database_url).await.unwrap();
    let n = 1500;
    clone_subscriptions(&db, template, n).await;
    let held = subscription(&app, template).await;
    let at = past_the_end(&app, &held);
    let other = match backend {
        Backend::Postgres => Some(app.replica(no_background).await),
        Backend::Sqlite => None,
    };
    let second = other.as_ref().unwrap_or(&app);
    second.clock.advance(at - second.clock.now());
    let (a, b) = tokio::join!(run_renewals(&app, at), run_renewals(second, at));
    assert_eq!(a.0 + b.0, n as i64 + 1, "{a:?} + {b:?}");
    assert_eq!((a.1, b.1), (0, 0));
    assert_renewed_once(&db, n as i64 + 1).await;
    let _ = db.close().await;
    if let Some(other) = other {
        other.stop().await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_passes_on_sqlite_renew_each_subscription_once() {
    racing_passes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_replicas_on_postgres_renew_each_subscription_once() {
    racing_passes(Backend::Postgres).await;
}

/// The `renew` subcommand killed (SIGKILL) in the middle of a pass, then run again: each
/// subscription renewed exactly once.
async fn renew_killed_mid_pass_then_rerun(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("renew.sqlite").display()),
        Backend::Postgres => {
            if common::postgres_skipped() {
                return;
            }
            common::fresh_postgres_database().await
        }
    };
    let mut server = common::ServerProcess::start(&url, &[("CSP_RENEWAL_INTERVAL_MS", "0")]).await;
    let channel = tonic::transport::Channel::from_shared(server.addr.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut catalog = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel.clone(),
        common::us_sales_agent("renew"),
    );
    let item = common::commercial_availability(&mut catalog, E3, "US").await;
    let mut carts = pb::cart_service_client::CartServiceClient::with_interceptor(
        channel.clone(),
        common::us_sales_agent("renew"),
    );
    let cart = carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("us-fabrikam"),
            lines: vec![pb::CartLineInput {
                catalog_item_id: item.catalog_item_id,
                quantity: 1,
                term: T::P1m.into(),
                billing_cycle: C::Monthly.into(),
                provisioning_context: None,
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let order = carts
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    drop((carts, catalog, channel));
    server.signal("TERM");
    assert!(server.exited().await.success());
    let db = Database::connect(&url).await.unwrap();
    let n = 12_000;
    clone_subscriptions(&db, &order.lines[0].subscription_id, n).await;
    let until = (chrono::Utc::now() + Duration::days(40)).to_rfc3339();
    let renew = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_csp-commerce"))
            .args(["renew", "--until", &until])
            .env("CSP_DATABASE_URL", &url)
            .env("CSP_JWT_SECRET", common::TEST_SECRET)
            .env("CSP_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = renew();
    // Killed once a batch or more committed, before the last did.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let renewed_at_kill = loop {
        let renewed = count(
            &db,
            "SELECT COUNT(*) FROM subscription_transactions WHERE kind = 'renew'",
        )
        .await;
        if renewed > 0 {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break renewed;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the pass ended before it was killed"
        );
        assert!(std::time::Instant::now() < deadline, "no batch committed");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let renewed_after_kill = count(
        &db,
        "SELECT COUNT(*) FROM subscription_transactions WHERE kind = 'renew'",
    )
    .await;
    assert!(
        renewed_after_kill < n as i64 + 1,
        "killed mid-pass: {renewed_at_kill}..{renewed_after_kill} of {} renewed",
        n + 1
    );
    let rerun = renew().wait().unwrap();
    assert!(rerun.success());
    assert_renewed_once(&db, n as i64 + 1).await;
    // And once more: nothing left to do.
    assert!(renew().wait().unwrap().success());
    assert_renewed_once(&db, n as i64 + 1).await;
    let _ = db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_killed_mid_pass_on_sqlite_renews_each_once_on_rerun() {
    renew_killed_mid_pass_then_rerun(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_killed_mid_pass_on_postgres_renews_each_once_on_rerun() {
    renew_killed_mid_pass_then_rerun(Backend::Postgres).await;
}
