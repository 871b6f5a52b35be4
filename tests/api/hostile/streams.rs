//! Change-stream attacks: subscribers that grant no window, too many streams per caller,
//! many replays at once against the pool.

use std::time::{Duration, Instant};

use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use http_body_util::BodyExt;
use pb::watch_catalog_changes_request::Start;
use pb::watch_catalog_changes_response::Event;
use prost::Message;
use tonic::{Code, Streaming};

use super::raw_h2;
use crate::common::{self, Backend, TestApp, honest_read, rid};

fn from_now() -> pb::WatchCatalogChangesRequest {
    pb::WatchCatalogChangesRequest {
        start: Some(Start::FromNow(true)),
        ..Default::default()
    }
}

fn after(revision: u64) -> pb::WatchCatalogChangesRequest {
    pb::WatchCatalogChangesRequest {
        start: Some(Start::AfterRevision(revision)),
        ..Default::default()
    }
}

/// Imports and publishes the demo's December: a change log to replay. Returns its last
/// revision.
async fn publish_december(app: &TestApp) -> u64 {
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let december = common::month_request("2026-12", &common::demo_dir("2026-12"));
    common::upload(&mut admin, &december).await.unwrap();
    let last = admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: "2026-12".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .last_revision;
    // Until this process has broadcast all of it (a stream from now starts at its head).
    let mut stream = app
        .catalog("us", Role::SalesAgent)
        .watch_catalog_changes(from_now())
        .await
        .unwrap()
        .into_inner();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the publish was not broadcast")
            .unwrap()
            .unwrap();
        let through = match message.event.unwrap() {
            Event::Progress(p) => p.current_revision,
            Event::Changes(batch) => batch.changes.last().map_or(0, |c| c.revision),
        };
        if through >= last {
            return last;
        }
    }
}

/// Reads the replay up to the first progress message; returns the revisions.
async fn read_caught_up(
    stream: &mut Streaming<pb::WatchCatalogChangesResponse>,
) -> Result<Vec<u64>, tonic::Status> {
    let mut revisions = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), stream.message())
            .await
            .expect("the stream stalled")?
            .expect("the stream ended");
        match message.event.unwrap() {
            Event::Changes(batch) => revisions.extend(batch.changes.iter().map(|c| c.revision)),
            Event::Progress(_) => return Ok(revisions),
        }
    }
}

fn bearer_for(app: &TestApp, user: &str, partner: &str) -> common::Bearer {
    let token = app
        .keys
        .mint(
            user,
            Some(TestApp::partner_id(partner)),
            Role::SalesAgent,
            chrono::Duration::hours(1),
        )
        .unwrap();
    TestApp::raw_bearer(Some(&format!("Bearer {token}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_granting_no_window_are_ended_after_the_slow_subscriber_timeout() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.slow_subscriber_timeout_ms = 300)
        .await
        .unwrap();
    let token = app.token(Some("us"), Role::SalesAgent);
    let request = raw_h2::framed(&after(0).encode_to_vec());
    let started = Instant::now();
    let mut streams = tokio::task::JoinSet::new();
    for _ in 0..2 {
        // The server may send nothing on any stream of these connections.
        let send = raw_h2::connect(app.addr, 0).await;
        for _ in 0..40 {
            let mut send = send.clone();
            let request = raw_h2::request(
                app.addr,
                "/csp.commerce.v1.CatalogService/WatchCatalogChanges",
                Some(&token),
                raw_h2::full(request.clone()),
            );
            // Ends when the stream ends, however; data through a zero window is a failure.
            streams.spawn(async move {
                send.ready().await?;
                let response = send.send_request(request).await?;
                assert!(response.headers().get("grpc-status").is_none());
                let mut body = response.into_body();
                while let Some(frame) = body.frame().await {
                    let frame = frame?;
                    assert!(!frame.is_data(), "data arrived through a zero window");
                }
                Ok::<_, hyper::Error>(())
            });
        }
    }
    honest_read(&app).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        let mut ended = 0;
        while let Some(stream) = streams.join_next().await {
            // The connection was closed under it.
            assert!(stream.unwrap().is_err(), "a stream ended cleanly");
            ended += 1;
        }
        ended
    })
    .await
    .expect("a subscriber granting no window was never ended");
    assert_eq!(ended, 80);
    assert!(started.elapsed() < Duration::from_secs(10));
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped_per_user_per_partner_and_in_all() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.watch_streams_per_user = 3;
        s.watch_streams_per_partner = 5;
        s.watch_streams_total = 7;
    })
    .await
    .unwrap();
    let open = |bearer: common::Bearer| {
        let mut client = app.catalog_with(bearer);
        async move {
            client
                .watch_catalog_changes(from_now())
                .await
                .map(|r| r.into_inner())
        }
    };
    let assert_refused = |result: Result<Streaming<_>, tonic::Status>, subject: &str| {
        let Err(status) = result else {
            panic!("a stream over the cap was admitted");
        };
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        let details = common::details(&status);
        assert_eq!(details.error_info().unwrap().reason, "TOO_MANY_STREAMS");
        assert!(details.retry_info().is_some(), "no RetryInfo");
        let violations = &details.quota_failure().expect("no QuotaFailure").violations;
        assert!(
            violations.iter().any(|v| v.subject.starts_with(subject)),
            "{violations:?}"
        );
    };
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(open(bearer_for(&app, "alice", "us")).await.unwrap());
    }
    assert_refused(open(bearer_for(&app, "alice", "us")).await, "users/alice");
    // Another user of the partner, up to the partner's cap.
    let mut bob = Vec::new();
    for _ in 0..2 {
        bob.push(open(bearer_for(&app, "bob", "us")).await.unwrap());
    }
    assert_refused(open(bearer_for(&app, "bob", "us")).await, "partners/");
    // Another partner, up to the server's cap.
    let mut carol = Vec::new();
    for _ in 0..2 {
        carol.push(open(bearer_for(&app, "carol", "de")).await.unwrap());
    }
    assert_refused(open(bearer_for(&app, "dave", "sk")).await, "server");
    honest_read(&app).await;
    // A stream that ends gives its place back.
    drop(alice.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match open(bearer_for(&app, "alice", "us")).await {
            Ok(stream) => {
                alice.push(stream);
                break;
            }
            Err(status) if Instant::now() < deadline => {
                assert_eq!(status.code(), Code::ResourceExhausted);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("the place of an ended stream was not given back: {status:?}"),
        }
    }
    drop((alice, bob, carol));
    app.stop().await;
}

/// 100 streams replay the whole log from the database (the memory keeps only the newest
/// batch) while another partner creates customers and lists orders. On PostgreSQL the log is
/// locked meanwhile, so every replay read that has a connection holds it: unbounded, they
/// would hold the whole pool and checkout would wait for it.
async fn replays_beside_checkout(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.watch_recent_changes = 1;
        s.db_acquire_timeout_ms = 3_000;
    })
    .await
    else {
        return;
    };
    let last = publish_december(&app).await;
    let lock = if backend == Backend::Postgres {
        use sea_orm::{ConnectionTrait, Database, TransactionTrait};
        let db = Database::connect(&app.database_url).await.unwrap();
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE catalog_changes IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        Some((db, txn))
    } else {
        None
    };
    let mut replays = tokio::task::JoinSet::new();
    for connection in 0..2 {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        for i in 0..50 {
            let token = app
                .keys
                .mint(
                    &format!("replayer-{connection}-{i}"),
                    Some(TestApp::partner_id("us")),
                    Role::HelpdeskAgent,
                    chrono::Duration::hours(1),
                )
                .unwrap();
            let mut client = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
                channel.clone(),
                TestApp::raw_bearer(Some(&format!("Bearer {token}"))),
            );
            replays.spawn(async move {
                let mut stream = client.watch_catalog_changes(after(0)).await?.into_inner();
                read_caught_up(&mut stream).await
            });
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another partner's checkout-side calls, while the replays run (or wait).
    let mut customers = app.customers("de", Role::AdminAgent);
    let mut orders = app.orders("de", Role::AdminAgent);
    for _ in 0..3 {
        tokio::time::timeout(
            Duration::from_secs(2),
            customers.create_customer(pb::CreateCustomerRequest {
                request_id: rid(),
                company_name: "Tailspin Toys".into(),
                country: "DE".into(),
                email: "it@tailspin.example.com".into(),
                domain: "tailspin.onmicrosoft.com".into(),
            }),
        )
        .await
        .expect("CreateCustomer was not served within 2 s during the replays")
        .unwrap();
        tokio::time::timeout(
            Duration::from_secs(2),
            orders.list_orders(pb::ListOrdersRequest {
                customer_id: TestApp::customer_id("de-tailspin"),
                ..Default::default()
            }),
        )
        .await
        .expect("ListOrders was not served within 2 s during the replays")
        .unwrap();
    }
    if let Some((_db, txn)) = lock {
        txn.rollback().await.unwrap();
    }
    let expected: Vec<u64> = (1..=last).collect();
    while let Some(replay) = replays.join_next().await {
        let revisions = replay.unwrap().expect("a replay failed");
        assert_eq!(
            revisions.len(),
            expected.len(),
            "a replay missed or repeated changes"
        );
        assert!(
            revisions == expected,
            "a replay's revisions are out of order"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_replays_leave_the_pool_to_other_partners_sqlite() {
    replays_beside_checkout(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_replays_leave_the_pool_to_other_partners_postgres() {
    replays_beside_checkout(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_within_the_recent_changes_reads_nothing_from_the_database() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.watch_recent_changes = 100).await
    else {
        return;
    };
    let last = publish_december(&app).await;
    assert!(
        last > 20,
        "the December diff is too small for this test: {last}"
    );
    // Nobody can read the log or the catalog state now.
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let db = Database::connect(&app.database_url).await.unwrap();
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE catalog_changes, catalog_state IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut stream = tokio::time::timeout(
        Duration::from_secs(2),
        app.catalog("us", Role::SalesAgent)
            .watch_catalog_changes(after(last - 10)),
    )
    .await
    .expect("a resume within the recent changes waited for the database")
    .unwrap()
    .into_inner();
    let revisions = tokio::time::timeout(Duration::from_secs(2), read_caught_up(&mut stream))
        .await
        .expect("a resume within the recent changes waited for the database")
        .unwrap();
    assert_eq!(revisions, (last - 9..=last).collect::<Vec<_>>());
    txn.rollback().await.unwrap();
    drop(stream);
    app.stop().await;
}
