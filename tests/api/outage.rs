//! A running server whose database goes away and comes back (PostgreSQL behind a TCP proxy
//! the test cuts: live connections dropped, new ones refused), and the server's connections'
//! maximum age.

use std::time::{Duration, Instant};

use crate::common::{self, Backend, CuttableProxy, TestApp, health_becomes, rid};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::watch_catalog_changes_response::Event;
use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

/// Asserts the answer a caller gets while the database is away: UNAVAILABLE (which clients
/// and proxies retry), with an ErrorInfo and a RetryInfo.
fn assert_database_away(status: &tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let details = common::details(status);
    let reason = &details.error_info().expect("an ErrorInfo").reason;
    assert!(
        reason == "DATABASE_UNAVAILABLE" || reason == "DATABASE_BUSY",
        "{status:?}"
    );
    assert!(details.retry_info().is_some(), "no RetryInfo in {status:?}");
}

/// A new cart of Fabrikam's with one of `item`.
fn new_cart(item: &str) -> pb::CreateCartRequest {
    pb::CreateCartRequest {
        request_id: rid(),
        customer_id: TestApp::customer_id("us-fabrikam"),
        lines: vec![pb::CartLineInput {
            catalog_item_id: item.into(),
            quantity: 1,
            term: pb::TermDuration::P1y.into(),
            billing_cycle: pb::BillingCycle::Annual.into(),
            provisioning_context: None,
        }],
    }
}

/// Retries `request` as a client following its RetryInfo would, until it is answered with an
/// order (within 30 s); the order's id.
async fn placed(carts: &mut common::CartClient, request: &pb::CheckoutRequest) -> String {
    let since = Instant::now();
    loop {
        match carts.checkout(request.clone()).await {
            Ok(placed) => return placed.into_inner().order.unwrap().id,
            Err(status) => {
                assert_database_away(&status);
                assert!(since.elapsed() < Duration::from_secs(30), "{status:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_answered_unavailable_and_the_server_follows_again_after_it() {
    if common::postgres_skipped() {
        return;
    }
    let admin_url = std::env::var("CSP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| common::DEFAULT_PG_ADMIN_URL.to_owned());
    let proxy = CuttableProxy::start(CuttableProxy::upstream_of(&admin_url)).await;
    // Replica A reaches the database through the proxy; B directly, and publishes.
    let a = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database_url = proxy.url(&s.database_url);
        s.db_acquire_timeout_ms = 1_000;
        // Only the listener (and the pump's retries) can bring B's publish to A.
        s.change_poll_interval_ms = 60_000;
    })
    .await
    .unwrap();
    let b = a.replica(|_| {}).await;

    let mut catalog = a.catalog("us", Role::SalesAgent);
    let item = common::commercial_availability(&mut catalog, ("CFQ7TTC0RDXR", "0001"), "US")
        .await
        .catalog_item_id;
    let mut carts = a.carts("us", Role::SalesAgent);
    let create = || new_cart(&item);
    // Nine carts: one checked out during the outage, eight while it begins.
    let mut prepared = Vec::new();
    for _ in 0..9 {
        let cart = carts.create_cart(create()).await.unwrap().into_inner();
        prepared.push(common::checkout_request(&cart.cart.unwrap()));
    }
    let (mut stream, _) = common::watch_from_now(&mut a.catalog("us", Role::HelpdeskAgent)).await;
    health_becomes(&a.channel, "", ServingStatus::Serving).await;

    let racing: Vec<_> = prepared[1..]
        .iter()
        .map(|request| {
            let (mut carts, request) = (carts.clone(), request.clone());
            tokio::spawn(async move { carts.checkout(request).await })
        })
        .collect();
    // Cut once the first is answered: the others are on their way or in the database.
    while !racing.iter().any(|c| c.is_finished()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    proxy.cut();
    let mut refused_by_the_cut = 0;
    for checkout in racing {
        // Placed before the cut, or refused by it: never INTERNAL.
        if let Err(status) = checkout.await.unwrap() {
            assert_database_away(&status);
            refused_by_the_cut += 1;
        }
    }
    eprintln!("{refused_by_the_cut} of 8 checkouts racing the cut were refused by it");
    let refused = carts.checkout(prepared[0].clone()).await.unwrap_err();
    assert_database_away(&refused);
    assert_database_away(&carts.create_cart(create()).await.unwrap_err());
    for service in [
        "",
        "csp.commerce.v1.CartService",
        "csp.commerce.v1.OrderService",
    ] {
        health_becomes(&a.channel, service, ServingStatus::NotServing).await;
    }

    proxy.restore();
    let back = Instant::now();
    health_becomes(&a.channel, "", ServingStatus::Serving).await;
    health_becomes(
        &a.channel,
        "csp.commerce.v1.CartService",
        ServingStatus::Serving,
    )
    .await;
    eprintln!(
        "SERVING again {:?} after the database returned",
        back.elapsed()
    );
    // Every checkout, retried with its request id as its RetryInfo says, gives one order,
    // placed by the retry or before the cut: never two.
    let db = Database::connect(&a.database_url).await.unwrap();
    for request in &prepared {
        let order = placed(&mut carts, request).await;
        let again = carts.checkout(request.clone()).await.unwrap().into_inner();
        assert_eq!(again.order.unwrap().id, order);
        let orders: i64 = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM orders WHERE cart_id = $1",
                [request.cart_id.clone().into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        assert_eq!(orders, 1, "one order for cart {}", request.cart_id);
    }
    let _ = db.close().await;
    common::assert_orders_whole(&a.database_url).await;

    // A month published on B after the return reaches A's subscriber, which stayed open.
    let mut admin = b.admin(None, Role::CatalogAdmin);
    common::upload(
        &mut admin,
        &common::month_request("2026-12", &common::demo_dir("2026-12")),
    )
    .await
    .unwrap();
    let published = admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: "2026-12".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let publish_answered = Instant::now();
    let mut last = 0;
    while last < published.last_revision {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the stream on A received nothing after the outage")
            .unwrap()
            .expect("the stream on A ended");
        if let Some(Event::Changes(batch)) = message.event {
            if last == 0 {
                assert_eq!(batch.changes[0].revision, published.first_revision);
            }
            last = batch.changes.last().map_or(last, |c| c.revision);
        }
    }
    eprintln!(
        "the month published on B reached A's subscriber {:?} after its publish answered",
        publish_answered.elapsed()
    );
    drop(stream);
    b.stop().await;
    a.stop().await;
}

/// A connection older than `max_connection_age_ms` is sent a GOAWAY: an idle raw HTTP/2
/// client sees the server end it (long before the grace, the idle and the keepalive limits
/// would), and a channel's calls go on, on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_past_its_maximum_age_is_sent_away_and_calls_go_on() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.max_connection_age_ms = 1_000;
        s.max_connection_age_grace_ms = 600_000;
    })
    .await
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (_sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake::<_, http_body_util::Empty<bytes::Bytes>>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    let opened = Instant::now();
    tokio::time::timeout(Duration::from_secs(60), connection)
        .await
        .expect("the server never ended a connection past its maximum age")
        .expect("the connection was ended gracefully (GOAWAY), not cut");
    eprintln!(
        "the server sent its idle connection away after {:?}",
        opened.elapsed()
    );

    // The channel's connection ages too: calls across its age are all answered. A call the
    // channel starts in the instant between the server's GOAWAY and the connection's end is
    // refused by the client's own h2 layer before it is sent (hyperium/hyper#2500: tonic
    // reports it as INTERNAL "GoAway(NO_ERROR, Remote)"), or by hyper's dispatcher when the
    // connection closed first (CANCELLED "connection was not ready" or "connection closed",
    // the request handed back unsent). Such a stream was never processed, so it is safe to send again: grpc-go,
    // grpc-java and grpc-js do that transparently; here it is done by hand, only for those.
    let mut catalog = app.catalog("us", Role::SalesAgent);
    let mut refused_by_goaway = 0;
    for _ in 0..4 {
        let list = pb::ListProductsRequest {
            page_size: 1,
            ..Default::default()
        };
        match catalog.list_products(list.clone()).await {
            Ok(_) => {}
            Err(status) if never_sent_for_goaway(&status) => {
                refused_by_goaway += 1;
                catalog.list_products(list).await.unwrap();
            }
            Err(status) => panic!("a call across the connection's age failed: {status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    eprintln!("{refused_by_goaway} of 4 calls met the GOAWAY in flight and were sent again");
    app.stop().await;
}

/// The client-side refusal of a stream opened after the server's graceful GOAWAY arrived:
/// h2's own (`GoAway(NO_ERROR, Remote)`), or hyper's when the connection closed before its
/// dispatcher took the request (`Canceled`, "connection was not ready" or "connection closed":
/// hyper hands such a request back unsent).
fn never_sent_for_goaway(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        let text = format!("{error:?}");
        if text.contains("GoAway(") && text.contains("NO_ERROR, Remote") {
            return true;
        }
        // hyper's dispatcher: not ready, or closed with the request still queued in it
        // (its `Envelope` dropped unsent, the request handed back).
        if text.contains("Canceled")
            && (text.contains("connection was not ready") || text.contains("connection closed"))
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// PostgreSQL ending the server's connections (`pg_terminate_backend`, as a restart or an
/// operator does: SQLSTATE 57P01 on the next statement, or a closed socket): the calls that
/// meet a dead connection are answered UNAVAILABLE, never INTERNAL, and the next ones are
/// served on new connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_by_postgresql_are_answered_unavailable_then_replaced() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let mut catalog = app.catalog("us", Role::SalesAgent);
    let item = common::commercial_availability(&mut catalog, ("CFQ7TTC0RDXR", "0001"), "US")
        .await
        .catalog_item_id;
    let mut carts = app.carts("us", Role::SalesAgent);
    let create = || new_cart(&item);
    // Connections opened and left idle, on the direct path and the pool's.
    for _ in 0..4 {
        let cart = carts.create_cart(create()).await.unwrap().into_inner();
        carts
            .get_cart(pb::GetCartRequest {
                cart_id: cart.cart.unwrap().id,
            })
            .await
            .unwrap();
    }
    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
    .unwrap();
    let _ = db.close().await;
    let (mut served, mut refused) = (0, 0);
    let since = Instant::now();
    while served < 5 {
        match carts.create_cart(create()).await {
            Ok(_) => served += 1,
            Err(status) => {
                assert_database_away(&status);
                refused += 1;
            }
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "never served again"
        );
    }
    eprintln!("{refused} calls met a terminated connection before 5 were served");
    app.stop().await;
}
