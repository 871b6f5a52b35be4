//! WatchSubscriptionEvents through the wire: every subscription change told once, in the
//! partner's gap-free revision order, with the subscription as the change left it; replay
//! then live with no gap or duplicate at the seam while changes are made; resume after a cut;
//! progress when idle; the compaction signal; isolation between partners; caps per caller;
//! and, on PostgreSQL, an event made on one replica seen live on another.

use std::time::Duration;

use crate::common::{self, Backend, EventClient, TestApp, details, rid};
use crate::on_both_backends;
use crate::subscriptions::{AUDIO, E3, buy, line};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::BillingCycle as C;
use pb::SubscriptionEventType as Type;
use pb::TermDuration as T;
use pb::watch_subscription_events_request::Start;
use pb::watch_subscription_events_response::Event;
use tonic::Code;

type Events = tonic::Streaming<pb::WatchSubscriptionEventsResponse>;

async fn watch(
    client: &mut EventClient,
    start: Start,
    customer: &str,
) -> Result<Events, tonic::Status> {
    client
        .watch_subscription_events(pb::WatchSubscriptionEventsRequest {
            start: Some(start),
            customer_id: customer.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The next message, within 10 s.
async fn next(stream: &mut Events) -> Event {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("a message within 10 s")
        .expect("the stream goes on")
        .expect("a message")
        .event
        .expect("an event")
}

/// Events until one with `revision` (inclusive) has come, skipping progress messages.
async fn events_through(stream: &mut Events, revision: u64) -> Vec<pb::SubscriptionEvent> {
    let mut got: Vec<pb::SubscriptionEvent> = Vec::new();
    while got.last().is_none_or(|e| e.revision < revision) {
        match next(stream).await {
            Event::Events(batch) => got.extend(batch.events),
            Event::Progress(p) => assert!(
                p.current_revision <= revision,
                "progress past {revision} before its event: {}",
                p.current_revision
            ),
        }
    }
    got
}

/// The partner's current revision: what a stream from now says first.
async fn head(client: &mut EventClient) -> u64 {
    let mut stream = watch(client, Start::FromNow(true), "").await.unwrap();
    match next(&mut stream).await {
        Event::Progress(p) => p.current_revision,
        other => panic!("{other:?}"),
    }
}

async fn change_quantity(app: &TestApp, id: &str, quantity: i32) -> pb::Subscription {
    app.orders("us", Role::SalesAgent)
        .change_subscription_quantity(pb::ChangeSubscriptionQuantityRequest {
            request_id: rid(),
            subscription_id: id.into(),
            etag: String::new(),
            quantity,
        })
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap()
}

fn revisions(events: &[pb::SubscriptionEvent]) -> Vec<u64> {
    events.iter().map(|e| e.revision).collect()
}

on_both_backends!(
    every_change_is_told_once_with_the_subscription_it_left,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let start = head(&mut client).await;
        let mut stream = watch(&mut client, Start::AfterRevision(start), "")
            .await
            .unwrap();
        let order = buy(
            app,
            vec![
                line(app, E3, 5, T::P1y, C::Monthly).await,
                line(app, AUDIO, 2, T::P1y, C::Monthly).await,
            ],
        )
        .await;
        let base = order.lines[0].subscription_id.clone();
        let addon = order.lines[1].subscription_id.clone();
        change_quantity(app, &base, 7).await;
        let mut orders = app.orders("us", Role::SalesAgent);
        orders
            .set_subscription_auto_renew(pb::SetSubscriptionAutoRenewRequest {
                request_id: rid(),
                subscription_id: base.clone(),
                etag: String::new(),
                auto_renew: false,
            })
            .await
            .unwrap();
        orders
            .suspend_subscription(pb::SuspendSubscriptionRequest {
                request_id: rid(),
                subscription_id: base.clone(),
                etag: String::new(),
            })
            .await
            .unwrap();
        orders
            .reactivate_subscription(pb::ReactivateSubscriptionRequest {
                request_id: rid(),
                subscription_id: base.clone(),
                etag: String::new(),
            })
            .await
            .unwrap();
        orders
            .cancel_order(pb::CancelOrderRequest {
                request_id: rid(),
                order_id: order.id.clone(),
                etag: String::new(),
            })
            .await
            .unwrap();
        // 2 created, 1 quantity, auto-renew, suspended, reactivated, 2 cancelled.
        let got = events_through(&mut stream, start + 8).await;
        assert_eq!(revisions(&got), (start + 1..=start + 8).collect::<Vec<_>>());
        let told: Vec<(Type, &str)> = got
            .iter()
            .map(|e| (e.r#type(), e.subscription_id.as_str()))
            .collect();
        let mut created = vec![told[0], told[1]];
        created.sort_by_key(|(_, id)| *id == addon.as_str());
        assert_eq!(
            created,
            [
                (Type::Created, base.as_str()),
                (Type::Created, addon.as_str())
            ]
        );
        assert_eq!(
            told[2..6],
            [
                (Type::QuantityChanged, base.as_str()),
                (Type::AutoRenewChanged, base.as_str()),
                (Type::Suspended, base.as_str()),
                (Type::Reactivated, base.as_str()),
            ]
        );
        let mut cancelled: Vec<_> = told[6..].to_vec();
        cancelled.sort_by_key(|(_, id)| *id == addon.as_str());
        assert_eq!(
            cancelled,
            [
                (Type::Cancelled, base.as_str()),
                (Type::Cancelled, addon.as_str())
            ]
        );
        // Each with the subscription as the change left it, and its transaction if any.
        let state = |i: usize| got[i].subscription.clone().unwrap();
        assert_eq!((state(2).quantity, state(2).etag.as_str()), (7, "v2"));
        let t = got[2].transaction.clone().unwrap();
        assert_eq!(
            (t.r#type(), t.quantity_delta, t.quantity),
            (pb::TransactionType::AddQuantity, 2, 7)
        );
        assert!(!state(3).auto_renew && got[3].transaction.is_none());
        assert_eq!(state(4).status(), pb::SubscriptionStatus::Suspended);
        assert_eq!(state(5).status(), pb::SubscriptionStatus::Active);
        assert_eq!(state(6).status(), pb::SubscriptionStatus::Cancelled);
        assert_eq!(
            got[6].transaction.clone().unwrap().r#type(),
            pb::TransactionType::Cancel
        );
        let created = got.iter().find(|e| e.subscription_id == base).unwrap();
        let sub = created.subscription.clone().unwrap();
        assert_eq!(
            (
                sub.sku_id.as_str(),
                sub.quantity,
                sub.term(),
                sub.billing_cycle()
            ),
            (E3.1, 5, T::P1y, C::Monthly)
        );
        assert!(sub.commitment_end_time.is_some() && sub.auto_renew);
        assert_eq!(
            created.transaction.clone().unwrap().r#type(),
            pb::TransactionType::New
        );
        assert_eq!(created.customer_id, TestApp::customer_id("us-fabrikam"));
    }
);

on_both_backends!(
    replay_then_live_has_no_gap_nor_duplicate_while_changes_are_made,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let start = head(&mut client).await;
        let order = buy(app, vec![line(app, E3, 1, T::P1y, C::Monthly).await]).await;
        let sub = order.lines[0].subscription_id.clone();
        for q in 2..=20 {
            change_quantity(app, &sub, q).await;
        }
        // 20 events already written: the stream replays them while 20 more are made.
        let writer = {
            let app_orders = app.orders("us", Role::SalesAgent);
            let sub = sub.clone();
            tokio::spawn(async move {
                let mut orders = app_orders;
                for q in 21..=40 {
                    orders
                        .change_subscription_quantity(pb::ChangeSubscriptionQuantityRequest {
                            request_id: rid(),
                            subscription_id: sub.clone(),
                            etag: String::new(),
                            quantity: q,
                        })
                        .await
                        .unwrap();
                }
            })
        };
        let mut stream = watch(&mut client, Start::AfterRevision(start), "")
            .await
            .unwrap();
        let got = events_through(&mut stream, start + 40).await;
        writer.await.unwrap();
        assert_eq!(
            revisions(&got),
            (start + 1..=start + 40).collect::<Vec<_>>()
        );
        let quantities: Vec<i32> = got
            .iter()
            .map(|e| e.subscription.as_ref().unwrap().quantity)
            .collect();
        assert_eq!(quantities, (1..=40).collect::<Vec<_>>());
        // Nothing more comes: the next message is progress at the last revision.
        let mut after = watch(&mut client, Start::AfterRevision(start + 40), "")
            .await
            .unwrap();
        match next(&mut after).await {
            Event::Progress(p) => assert_eq!(p.current_revision, start + 40),
            other => panic!("{other:?}"),
        }
    }
);

on_both_backends!(
    a_cut_stream_resumes_after_the_last_revision_it_took,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let start = head(&mut client).await;
        let order = buy(app, vec![line(app, E3, 1, T::P1y, C::Monthly).await]).await;
        let sub = order.lines[0].subscription_id.clone();
        let mut stream = watch(&mut client, Start::AfterRevision(start), "")
            .await
            .unwrap();
        change_quantity(app, &sub, 2).await;
        let first = events_through(&mut stream, start + 2).await;
        let last = first.last().unwrap().revision;
        drop(stream);
        // Made while nobody listens.
        change_quantity(app, &sub, 3).await;
        change_quantity(app, &sub, 4).await;
        let mut resumed = watch(&mut client, Start::AfterRevision(last), "")
            .await
            .unwrap();
        change_quantity(app, &sub, 5).await;
        let rest = events_through(&mut resumed, last + 3).await;
        assert_eq!(revisions(&rest), [last + 1, last + 2, last + 3]);
        let quantities: Vec<i32> = rest
            .iter()
            .map(|e| e.subscription.as_ref().unwrap().quantity)
            .collect();
        assert_eq!(quantities, [3, 4, 5]);
        // Ahead of the newest: refused.
        let err = watch(&mut client, Start::AfterRevision(last + 100), "")
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "after_revision"),
            "OUT_OF_RANGE"
        );
        let err = watch_request(&mut client, None).await.unwrap_err();
        assert_eq!(common::assert_bad_field(&err, "start"), "REQUIRED");
    }
);

async fn watch_request(
    client: &mut EventClient,
    start: Option<Start>,
) -> Result<Events, tonic::Status> {
    client
        .watch_subscription_events(pb::WatchSubscriptionEventsRequest {
            start,
            customer_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

on_both_backends!(
    an_idle_stream_gets_progress,
    configure: |s| s.watch_progress_interval_ms = 200,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let order = buy(app, vec![line(app, E3, 1, T::P1y, C::Monthly).await]).await;
        drop(order);
        let mut stream = watch(&mut client, Start::FromNow(true), "").await.unwrap();
        let first = match next(&mut stream).await {
            Event::Progress(p) => p.current_revision,
            other => panic!("{other:?}"),
        };
        assert!(first >= 1);
        let started = std::time::Instant::now();
        for _ in 0..3 {
            match next(&mut stream).await {
                Event::Progress(p) => assert_eq!(p.current_revision, first),
                other => panic!("an event while idle: {other:?}"),
            }
        }
        assert!(started.elapsed() >= Duration::from_millis(500));
    }
);

on_both_backends!(
    a_revision_no_longer_kept_is_refused_with_the_oldest_kept,
    configure: |s| {
        s.subscription_event_retention_months = 1;
        s.subscription_event_purge_interval_ms = 100;
    },
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let start = head(&mut client).await;
        let order = buy(app, vec![line(app, E3, 1, T::P1y, C::Monthly).await]).await;
        let sub = order.lines[0].subscription_id.clone();
        // Two months later the purchase's event is past the retention; a new one is not.
        app.clock.advance(chrono::Duration::days(62));
        change_quantity(app, &sub, 2).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let err = loop {
            match watch(&mut client, Start::AfterRevision(start), "").await {
                Err(e) => break e,
                Ok(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(_) => panic!("revision {start} still served 10 s after its retention"),
            }
        };
        assert_eq!(err.code(), Code::FailedPrecondition);
        let info = details(&err).error_info().cloned().unwrap();
        assert_eq!(info.reason, "REVISION_COMPACTED");
        assert_eq!(info.metadata["oldest_revision"], (start + 2).to_string());
        assert!(err.message().contains("no longer kept"), "{}", err.message());
        // From the oldest kept on, the stream serves.
        let mut stream = watch(&mut client, Start::AfterRevision(start + 1), "").await.unwrap();
        let got = events_through(&mut stream, start + 2).await;
        assert_eq!(revisions(&got), [start + 2]);
        assert_eq!(got[0].r#type(), Type::QuantityChanged);
    }
);

on_both_backends!(a_partner_sees_only_its_own_events, async |app: &TestApp| {
    let us_head = head(&mut app.events("us", Role::HelpdeskAgent)).await;
    let de_head = head(&mut app.events("de", Role::HelpdeskAgent)).await;
    let ours = buy(app, vec![line(app, E3, 1, T::P1y, C::Monthly).await]).await;
    // The German partner buys for its own customer.
    let mut catalog = app.catalog("de", Role::SalesAgent);
    let item = common::commercial_availability(&mut catalog, E3, "DE").await;
    let cart = app
        .carts("de", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("de-tailspin"),
            lines: vec![pb::CartLineInput {
                catalog_item_id: item.catalog_item_id,
                quantity: 3,
                term: T::P1y.into(),
                billing_cycle: C::Monthly.into(),
                provisioning_context: None,
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let theirs = app
        .carts("de", Role::SalesAgent)
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    // Each partner numbers its own: one event each, at its own next revision.
    let mut de = watch(
        &mut app.events("de", Role::HelpdeskAgent),
        Start::AfterRevision(de_head),
        "",
    )
    .await
    .unwrap();
    let got = events_through(&mut de, de_head + 1).await;
    assert_eq!(revisions(&got), [de_head + 1]);
    assert_eq!(got[0].subscription_id, theirs.lines[0].subscription_id);
    assert_eq!(got[0].customer_id, TestApp::customer_id("de-tailspin"));
    let mut us = watch(
        &mut app.events("us", Role::HelpdeskAgent),
        Start::AfterRevision(us_head),
        "",
    )
    .await
    .unwrap();
    let got = events_through(&mut us, us_head + 1).await;
    assert_eq!(got[0].subscription_id, ours.lines[0].subscription_id);
    // And nothing of the other's follows: the next message is progress at its own head.
    match next(&mut us).await {
        Event::Progress(p) => assert_eq!(p.current_revision, us_head + 1),
        other => panic!("{other:?}"),
    }
    // Another partner's customer is not one to filter by: NOT_FOUND, as for any read.
    let err = watch(
        &mut app.events("de", Role::HelpdeskAgent),
        Start::FromNow(true),
        &TestApp::customer_id("us-fabrikam"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // The customer filter skips the others' events and still moves on past them.
    let mut only = watch(
        &mut app.events("us", Role::HelpdeskAgent),
        Start::AfterRevision(us_head),
        &TestApp::customer_id("us-northwind-foundation"),
    )
    .await
    .unwrap();
    match next(&mut only).await {
        Event::Progress(p) => assert_eq!(p.current_revision, us_head + 1),
        other => panic!("another customer's event: {other:?}"),
    }
    // A platform role has no partner's events.
    let err = watch(
        &mut app.events_with(TestApp::token_bearer(&app.token(None, Role::Operator))),
        Start::FromNow(true),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
});

on_both_backends!(
    open_streams_are_capped_per_user,
    configure: |s| s.watch_streams_per_user = 2,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let _a = watch(&mut client, Start::FromNow(true), "").await.unwrap();
        let _b = watch(&mut client, Start::FromNow(true), "").await.unwrap();
        let err = watch(&mut client, Start::FromNow(true), "").await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        assert_eq!(details(&err).error_info().unwrap().reason, "TOO_MANY_STREAMS");
        assert!(err.message().contains("WatchSubscriptionEvents"), "{}", err.message());
        // The catalog's change streams are counted apart.
        let (_catalog, _) = common::watch_from_now(&mut app.catalog("us", Role::HelpdeskAgent)).await;
        drop(_a);
        // Given back when a stream ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while watch(&mut client, Start::FromNow(true), "").await.is_err() {
            assert!(std::time::Instant::now() < deadline, "the ended stream's place was not given back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_made_on_one_replica_reaches_a_stream_on_another() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    // A slow fallback poll: the announcement is what delivers.
    let b = a.replica(|s| s.change_poll_interval_ms = 60_000).await;
    let mut client = b.events("us", Role::HelpdeskAgent);
    let start = head(&mut client).await;
    let mut stream = watch(&mut client, Start::AfterRevision(start), "")
        .await
        .unwrap();
    // Past the replay: the stream follows live.
    match next(&mut stream).await {
        Event::Progress(p) => assert_eq!(p.current_revision, start),
        other => panic!("{other:?}"),
    }
    let made = std::time::Instant::now();
    let order = buy(&a, vec![line(&a, E3, 1, T::P1y, C::Monthly).await]).await;
    let got = events_through(&mut stream, start + 1).await;
    assert_eq!(got[0].subscription_id, order.lines[0].subscription_id);
    assert!(
        made.elapsed() < Duration::from_secs(5),
        "delivered by the poll, not the announcement: {:?}",
        made.elapsed()
    );
    b.stop().await;
    a.stop().await;
}

/// Power BI Pro, P1Y billed annually: bought with auto-renew turned off, it expires.
const POWER_BI_PRO: (&str, &str) = ("CFQ7TTC0LIVK", "0001");
/// The E3 trial (a month, free), converting to E3.
const E3_TRIAL: (&str, &str) = ("CFQ7TTC02ROY", "0004");

on_both_backends!(
    scheduled_terms_conversions_renewals_and_expiries_are_told,
    configure: |s: &mut csp_commerce::config::Settings| s.renewal_interval_ms = 0,
    async |app: &TestApp| {
        let mut client = app.events("us", Role::HelpdeskAgent);
        let start = head(&mut client).await;
        let mut stream = watch(&mut client, Start::AfterRevision(start), "")
            .await
            .unwrap();
        let mut orders = app.orders("us", Role::SalesAgent);
        let base = buy(app, vec![line(app, E3, 5, T::P1y, C::Annual).await]).await.lines[0]
            .subscription_id
            .clone();
        orders
            .schedule_next_term(pb::ScheduleNextTermRequest {
                request_id: rid(),
                subscription_id: base.clone(),
                etag: String::new(),
                next_term: Some(pb::NextTerm {
                    quantity: 6,
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
        let trial = buy(app, vec![line(app, E3_TRIAL, 25, T::P1m, C::None).await]).await.lines
            [0]
        .subscription_id
        .clone();
        let target = common::commercial_availability(
            &mut app.catalog("us", Role::SalesAgent),
            E3,
            "US",
        )
        .await;
        orders
            .convert_trial_subscription(pb::ConvertTrialSubscriptionRequest {
                request_id: rid(),
                subscription_id: trial.clone(),
                etag: String::new(),
                catalog_item_id: target.catalog_item_id,
                term: T::P1y.into(),
                billing_cycle: C::Annual.into(),
                quantity: 0,
            })
            .await
            .unwrap();
        let lapsing = buy(app, vec![line(app, POWER_BI_PRO, 2, T::P1y, C::Annual).await]).await
            .lines[0]
            .subscription_id
            .clone();
        orders
            .set_subscription_auto_renew(pb::SetSubscriptionAutoRenewRequest {
                request_id: rid(),
                subscription_id: lapsing.clone(),
                etag: String::new(),
                auto_renew: false,
            })
            .await
            .unwrap();
        // A year and a day on: the base renews (with its scheduled seats), the converted trial
        // renews, the one without auto-renew expires.
        app.clock.advance(chrono::Duration::days(367));
        let done = app
            .operator()
            .run_renewals(pb::RunRenewalsRequest { until: None })
            .await
            .unwrap()
            .into_inner();
        assert_eq!((done.renewed, done.expired), (2, 1));

        let events = events_through(&mut stream, start + 9).await;
        assert_eq!(revisions(&events), (start + 1..=start + 9).collect::<Vec<_>>());
        let told: Vec<(Type, &str)> = events
            .iter()
            .map(|e| (e.r#type(), e.subscription_id.as_str()))
            .collect();
        assert_eq!(
            told[..6],
            [
                (Type::Created, base.as_str()),
                (Type::NextTermScheduled, base.as_str()),
                (Type::Created, trial.as_str()),
                (Type::Converted, trial.as_str()),
                (Type::Created, lapsing.as_str()),
                (Type::AutoRenewChanged, lapsing.as_str()),
            ]
        );
        let converted = &events[3];
        assert_eq!(
            converted.transaction.as_ref().map(|t| t.r#type()),
            Some(pb::TransactionType::Convert)
        );
        let mut ends = told[6..].to_vec();
        ends.sort_by_key(|(_, id)| id.to_string());
        let mut expected = vec![
            (Type::Renewed, base.as_str()),
            (Type::Renewed, trial.as_str()),
            (Type::Expired, lapsing.as_str()),
        ];
        expected.sort_by_key(|(_, id)| id.to_string());
        assert_eq!(ends, expected);
        for event in &events[6..] {
            let sub = event.subscription.as_ref().expect("the subscription it left");
            if event.subscription_id == base {
                assert_eq!(sub.quantity, 6, "the scheduled seats");
                assert_eq!(
                    event.transaction.as_ref().map(|t| t.r#type()),
                    Some(pb::TransactionType::Renew)
                );
            }
            if event.subscription_id == lapsing {
                assert_eq!(sub.status(), pb::SubscriptionStatus::Expired);
            }
        }
    }
);
/// Over gRPC-Web (HTTP/1.1: the console's Connect-ES), past the idle timeout: the stream keeps
/// its connection (the subscriber sends nothing while it reads) and a change arrives on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_flows_over_grpc_web_past_the_idle_timeout() {
    use crate::grpc_web::{Frames, call, h1, send};
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.idle_timeout_ms = 600;
        s.http2_keepalive_interval_ms = 300;
        s.http2_keepalive_timeout_ms = 300;
        s.watch_progress_interval_ms = 200;
    })
    .await
    .unwrap();
    let order = buy(&app, vec![line(&app, E3, 1, T::P1y, C::Monthly).await]).await;
    let sub = order.lines[0].subscription_id.clone();
    let token = app.token(Some("us"), Role::HelpdeskAgent);
    let mut client = h1(&app).await;
    let request = pb::WatchSubscriptionEventsRequest {
        start: Some(Start::FromNow(true)),
        customer_id: String::new(),
    };
    let response = send(
        &mut client,
        call(
            &app,
            "/csp.commerce.v1.SubscriptionEventService/WatchSubscriptionEvents",
            Some(&token),
            &request,
        ),
    )
    .await;
    assert_eq!(response.status(), http::StatusCode::OK);
    let mut stream = Frames::new(response.into_body());
    let head = match stream
        .message::<pb::WatchSubscriptionEventsResponse>()
        .await
        .event
    {
        Some(Event::Progress(p)) => p.current_revision,
        other => panic!("{other:?}"),
    };
    // Three idle timeouts of progress only.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(2_000) {
        let message = stream
            .message::<pb::WatchSubscriptionEventsResponse>()
            .await;
        assert!(
            matches!(message.event, Some(Event::Progress(_))),
            "{message:?}"
        );
    }
    change_quantity(&app, &sub, 2).await;
    loop {
        match stream
            .message::<pb::WatchSubscriptionEventsResponse>()
            .await
            .event
        {
            Some(Event::Events(batch)) => {
                assert_eq!(revisions(&batch.events), [head + 1]);
                assert_eq!(batch.events[0].r#type(), Type::QuantityChanged);
                break;
            }
            Some(Event::Progress(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    app.stop().await;
}
