//! Several replicas behind a load balancer, for real: a private PostgreSQL cluster, 3 replicas
//! of the server binary and HAProxy 2.6 in front (`deploy/`), every scenario through HAProxy.
//! Its own binary: it starts processes and restarts its PostgreSQL, and runs after the `api`
//! suite. The scenarios take turns (one fleet at a time on the machine).
//!
//! Needs haproxy, pgbouncer and PostgreSQL's initdb; without them it says so loudly and passes,
//! except under CI (`CI` set), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The `api` suite's harness; this binary uses only part of it.
#[allow(dead_code)]
#[path = "api/common.rs"]
mod common;
#[path = "fleet/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::rid;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use harness::{Fleet, Options, REPLICAS, bearer};
use pb::watch_catalog_changes_request::Start;
use pb::watch_catalog_changes_response::Event;
use sea_orm::ConnectionTrait;
use tonic::Code;
use tonic::transport::Channel;

/// One fleet at a time: each is 3 servers, a PostgreSQL and HAProxy on a small machine.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

const CUSTOMERS: [&str; 3] = [
    "us-fabrikam",
    "us-northwind-foundation",
    "us-bellows-college",
];

fn carts(channel: &Channel, user: &str) -> common::CartClient {
    pb::cart_service_client::CartServiceClient::with_interceptor(
        channel.clone(),
        bearer(user, Some("us"), Role::SalesAgent),
    )
}

fn catalog(channel: &Channel, user: &str) -> common::CatalogClient {
    pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel.clone(),
        bearer(user, Some("us"), Role::SalesAgent),
    )
}

fn admin(channel: &Channel) -> common::AdminClient {
    pb::catalog_admin_service_client::CatalogAdminServiceClient::with_interceptor(
        channel.clone(),
        bearer("operator", None, Role::CatalogAdmin),
    )
}

/// A cart of `customer` with one annual seat of Microsoft 365 E3's first SKU.
async fn new_cart(carts: &mut common::CartClient, customer: &str, item: &str) -> pb::Cart {
    carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: common::TestApp::customer_id(customer),
            lines: vec![pb::CartLineInput {
                catalog_item_id: item.into(),
                quantity: 1,
                term: pb::TermDuration::P1y.into(),
                billing_cycle: pb::BillingCycle::Annual.into(),
                provisioning_context: None,
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

async fn us_item(channel: &Channel) -> String {
    common::commercial_availability(
        &mut catalog(channel, "fleet"),
        ("CFQ7TTC0RDXR", "0001"),
        "US",
    )
    .await
    .catalog_item_id
}

async fn count(fleet: &Fleet, sql: &str) -> i64 {
    let db = fleet.database().await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get_by_index(0).unwrap();
    let _ = db.close().await;
    n
}

/// The calls HAProxy sent to each replica since `before` (its `stot` figures).
async fn calls_since(fleet: &Fleet, before: &[(String, u64, u64)]) -> Vec<u64> {
    let after = fleet.stats().await;
    after.iter().zip(before).map(|(a, b)| a.2 - b.2).collect()
}

/// 30 checkouts of one cart at once under one request id, and 30 carts each checked out twice
/// at once under its own request id, all through HAProxy (so on every replica): one order per
/// cart, each caller answered with it, the tables whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_spread_over_the_replicas_make_one_order_per_cart() {
    let _turn = turn().await;
    exactly_once(Options::default()).await;
}

/// The same through pgbouncer in transaction mode (the listener straight to PostgreSQL).
/// Ignored: the replicas do not start behind pgbouncer 1.18 (Debian 12's): sqlx prepares
/// every statement under a name (`sqlx_s_1`, ...) and a name made by one replica's
/// connection is found on the server connection pgbouncer lends to another ("prepared
/// statement \"sqlx_s_1\" already exists"). No setting of ours avoids it: sqlx-postgres
/// 0.9 names a statement whenever its query is `persistent` (the default), whatever
/// `statement_cache_capacity` says (0 only skips the cache, and the named statement is never
/// closed); only `Query::persistent(false)` uses the unnamed statement, and SeaORM 2.0 builds
/// its queries without exposing it. Even unnamed, sqlx sends Parse+Describe, then Sync, then
/// Bind+Execute: outside a transaction pgbouncer may lend another server connection after that
/// Sync, where the Bind finds no statement. pgbouncer 1.21+ with `max_prepared_statements`
/// tracks them: run it there with `cargo test --test fleet -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "pgbouncer 1.18 does not track sqlx's named prepared statements; SeaORM cannot make them unnamed (README)"]
async fn checkouts_through_pgbouncer_in_transaction_mode_make_one_order_per_cart() {
    let _turn = turn().await;
    exactly_once(Options {
        through_pgbouncer: true,
        ..Options::default()
    })
    .await;
}

async fn exactly_once(options: Options) {
    let Some(fleet) = Fleet::start(options).await else {
        return;
    };
    let channel = fleet.channel().await;
    let item = us_item(&channel).await;
    let mut client = carts(&channel, "fleet");
    let one = new_cart(&mut client, "us-fabrikam", &item).await;
    let mut many = Vec::new();
    for i in 0..30 {
        many.push(new_cart(&mut client, CUSTOMERS[i % CUSTOMERS.len()], &item).await);
    }
    let before = fleet.stats().await;

    let mut tasks = Vec::new();
    let request = common::checkout_request(&one);
    for _ in 0..30 {
        let (mut client, request) = (client.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            (request.cart_id.clone(), client.checkout(request).await)
        }));
    }
    for cart in &many {
        let request = common::checkout_request(cart);
        for _ in 0..2 {
            let (mut client, request) = (client.clone(), request.clone());
            tasks.push(tokio::spawn(async move {
                (request.cart_id.clone(), client.checkout(request).await)
            }));
        }
    }
    let mut orders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for task in tasks {
        let (cart, answer) = task.await.unwrap();
        match answer {
            Ok(answer) => {
                orders
                    .entry(cart)
                    .or_default()
                    .insert(answer.into_inner().order.unwrap().id);
            }
            // A retry that meets its first attempt still writing is told to try again.
            Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
        }
    }
    assert_eq!(orders.len(), 31, "every cart was ordered by some caller");
    for (cart, ids) in &orders {
        assert_eq!(ids.len(), 1, "cart {cart}: every caller got the same order");
    }
    let spread = calls_since(&fleet, &before).await;
    assert!(
        spread.iter().all(|&n| n >= 10),
        "HAProxy spread the 90 checkouts over the {REPLICAS} replicas: {spread:?}"
    );
    assert_eq!(count(&fleet, "SELECT COUNT(*) FROM orders").await, 31);
    for (cart, ids) in &orders {
        let order = ids.iter().next().unwrap();
        let sql = format!(
            "SELECT COUNT(*) FROM orders WHERE id::text = '{order}' AND cart_id::text = '{cart}'"
        );
        assert_eq!(count(&fleet, &sql).await, 1, "order {order} of cart {cart}");
    }
    common::assert_orders_whole(&fleet.database_url).await;
}

/// Quotas are divided, not shared: with `quota_replicas = 3` each replica allows a third of
/// the limit, so quick calls through an even balancer pass about the limit in all, where
/// each replica counting the whole limit would pass three times as many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_quota_holds_across_the_replicas_divided_among_them() {
    const LIMIT: u64 = 30;
    const CALLS: u64 = 3 * LIMIT;
    let _turn = turn().await;
    let Some(fleet) = Fleet::start(Options {
        env: vec![("CSP_CATALOG_USER_REQUESTS_PER_MINUTE", LIMIT.to_string())],
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let channel = fleet.channel().await;
    let mut client = catalog(&channel, "quota");
    let before = fleet.stats().await;
    let started = Instant::now();
    let mut passed = 0;
    for _ in 0..CALLS {
        match client
            .get_product(pb::GetProductRequest {
                month: String::new(),
                product_id: "CFQ7TTC0RDXR".into(),
            })
            .await
        {
            Ok(_) => passed += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert!(common::details(&status).retry_info().is_some());
            }
        }
    }
    let elapsed = started.elapsed();
    let spread = calls_since(&fleet, &before).await;
    assert_eq!(spread, vec![CALLS / 3; REPLICAS], "round robin, per call");
    // Each replica allows a burst of LIMIT / 3, then one more call every 60 s / (LIMIT / 3):
    // within `elapsed`, at most LIMIT / 3 + that refill each. LIMIT is a multiple of 3 here;
    // otherwise the division rounds down and the set allows a little less than LIMIT.
    let per_replica = LIMIT / REPLICAS as u64;
    let refill = (elapsed.as_secs_f64() * per_replica as f64 / 60.0).ceil() as u64;
    let most = LIMIT + REPLICAS as u64 * refill;
    println!("{passed} of {CALLS} quick calls passed a limit of {LIMIT} a minute in {elapsed:?}");
    assert!(
        (LIMIT..=most).contains(&passed),
        "{passed} calls passed; between {LIMIT} and {most} expected"
    );
}

fn helpdesk(channel: &Channel) -> common::CatalogClient {
    pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel.clone(),
        bearer("watcher", Some("us"), Role::HelpdeskAgent),
    )
}

fn after(revision: u64) -> pb::WatchCatalogChangesRequest {
    pb::WatchCatalogChangesRequest {
        start: Some(Start::AfterRevision(revision)),
        ..Default::default()
    }
}

/// Reads `stream` into `seen` until it fails or ends (`false`), or has delivered or announced
/// revision `until` (`true`).
async fn read_into(
    stream: &mut tonic::Streaming<pb::WatchCatalogChangesResponse>,
    seen: &mut Vec<u64>,
    until: u64,
) -> bool {
    loop {
        if seen.last().is_some_and(|&r| r >= until) {
            return true;
        }
        let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the stream stalled");
        match message {
            Ok(Some(m)) => match m.event.unwrap() {
                Event::Changes(batch) => seen.extend(batch.changes.iter().map(|c| c.revision)),
                Event::Progress(p) if p.current_revision >= until => return true,
                Event::Progress(_) => {}
            },
            Ok(None) | Err(_) => return false,
        }
    }
}

/// A subscriber through HAProxy whose replica is SIGKILLed while a month is published: it
/// reconnects through HAProxy (to another replica) after the last revision it saw and gets
/// every change of the month, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_whose_replica_is_killed_resumes_through_haproxy_without_loss_or_duplicate() {
    let _turn = turn().await;
    let Some(mut fleet) = Fleet::start(Options::default()).await else {
        return;
    };
    let channel = fleet.channel().await;
    let december = common::month_request("2026-12", &common::demo_dir("2026-12"));
    common::upload(&mut admin(&channel), &december)
        .await
        .unwrap();

    let mut watcher = helpdesk(&channel);
    let mut stream = watcher
        .watch_catalog_changes(after(0))
        .await
        .unwrap()
        .into_inner();
    // The replay of the months published so far, up to the progress message that follows it.
    let mut seen: Vec<u64> = Vec::new();
    let head = loop {
        match stream.message().await.unwrap().unwrap().event.unwrap() {
            Event::Changes(batch) => seen.extend(batch.changes.iter().map(|c| c.revision)),
            Event::Progress(p) => break p.current_revision,
        }
    };
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    let stats = fleet.stats().await;
    let carriers: Vec<usize> = (0..REPLICAS).filter(|&i| stats[i].1 > 0).collect();
    assert_eq!(
        carriers.len(),
        1,
        "one replica carries the stream: {stats:?}"
    );
    let carrier = carriers[0];

    // December is published on another replica while the subscriber's is killed.
    let publisher = fleet.replica_channel((carrier + 1) % REPLICAS).await;
    let publish = tokio::spawn(async move {
        admin(&publisher)
            .publish_month(pb::PublishMonthRequest {
                request_id: rid(),
                month: "2026-12".into(),
            })
            .await
    });
    fleet.kill(carrier).await;
    let published = publish.await.unwrap().unwrap().into_inner();
    assert_eq!(published.first_revision, head + 1);

    let mut done = read_into(&mut stream, &mut seen, published.last_revision).await;
    assert!(!done, "the killed replica's stream ended the month");
    let mut reconnects = 0;
    while !done {
        reconnects += 1;
        assert!(reconnects <= 20, "no replica took the subscriber back");
        let from = seen.last().copied().unwrap_or(0);
        match watcher.watch_catalog_changes(after(from)).await {
            Ok(answer) => {
                done =
                    read_into(&mut answer.into_inner(), &mut seen, published.last_revision).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    assert_eq!(
        seen,
        (1..=published.last_revision).collect::<Vec<_>>(),
        "every change once, in order"
    );
    println!(
        "resumed after {reconnects} reconnect(s); revisions {}..={} delivered once each",
        published.first_revision, published.last_revision
    );
}

/// What callers saw during a scenario: answers, and failures by code.
#[derive(Default)]
struct Tally {
    ok: u64,
    /// UNAVAILABLE with RetryInfo: the database is away, come back in a moment.
    unavailable: u64,
    other: Vec<tonic::Status>,
}

/// One replica drained with SIGTERM while calls flow through HAProxy without a pause: it
/// reports NOT_SERVING, HAProxy stops sending it calls, it finishes those it has and exits;
/// not one call fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_drained_with_sigterm_under_steady_calls_fails_none() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let _turn = turn().await;
    let Some(mut fleet) = Fleet::start(Options {
        // Longer than HAProxy's check interval x fall + a check's timeout (1.5 s).
        env: vec![("CSP_DRAIN_GRACE_MS", "2500".into())],
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let channel = fleet.channel().await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (mut catalog, mut carts) = (catalog(&channel, "steady"), carts(&channel, "steady"));
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let customer = common::TestApp::customer_id(CUSTOMERS[w % CUSTOMERS.len()]);
            while !stop.load(Ordering::Relaxed) {
                // A read served from memory, then one from the database.
                let read = catalog
                    .list_products(pb::ListProductsRequest {
                        page_size: 5,
                        ..Default::default()
                    })
                    .await
                    .map(|_| ());
                let listed = carts
                    .list_carts(pb::ListCartsRequest {
                        customer_id: customer.clone(),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ());
                for answer in [read, listed] {
                    match answer {
                        Ok(()) => tally.ok += 1,
                        Err(status) => tally.other.push(status),
                    }
                }
            }
            tally
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = fleet.stats().await;
    let exit = fleet.terminate(1).await;
    let during = calls_since(&fleet, &before).await;
    fleet.wait_up(&[true, false, true]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for worker in workers {
        let t = worker.await.unwrap();
        tally.ok += t.ok;
        tally.other.extend(t.other);
    }
    println!(
        "{} calls answered, {} failed; calls per replica while replica 2 drained: {during:?}",
        tally.ok,
        tally.other.len()
    );
    assert!(exit.success(), "the drained replica exited with {exit}");
    assert!(
        during[1] > 0,
        "replica 2 served calls after its SIGTERM (during its grace): {during:?}"
    );
    assert!(tally.other.is_empty(), "failed calls: {:?}", tally.other);
}

/// PostgreSQL restarted (`pg_ctl restart -m fast`) under a steady flow of checkouts through
/// HAProxy: while it is away calls fail only with UNAVAILABLE carrying RetryInfo (never
/// INTERNAL), checkouts succeed again once it is back, and every acknowledged order is stored
/// exactly once, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_costs_unavailable_with_retry_info_and_no_order() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let _turn = turn().await;
    let Some(fleet) = Fleet::start(Options::default()).await else {
        return;
    };
    let channel = fleet.channel().await;
    let item = us_item(&channel).await;
    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let mut carts = carts(&channel, "restart");
        let (stop, restarted, item) = (stop.clone(), restarted.clone(), item.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut acknowledged = Vec::new();
            let mut after_restart = 0;
            let judge = |status: tonic::Status, tally: &mut Tally| {
                if status.code() == Code::Unavailable
                    && common::details(&status).retry_info().is_some()
                {
                    tally.unavailable += 1;
                } else {
                    tally.other.push(status);
                }
            };
            while !stop.load(Ordering::Relaxed) {
                let customer = common::TestApp::customer_id(CUSTOMERS[w % CUSTOMERS.len()]);
                let created = carts
                    .create_cart(pb::CreateCartRequest {
                        request_id: rid(),
                        customer_id: customer,
                        lines: vec![pb::CartLineInput {
                            catalog_item_id: item.clone(),
                            quantity: 1,
                            term: pb::TermDuration::P1y.into(),
                            billing_cycle: pb::BillingCycle::Annual.into(),
                            provisioning_context: None,
                        }],
                    })
                    .await;
                let cart = match created {
                    Ok(answer) => answer.into_inner().cart.unwrap(),
                    Err(status) => {
                        judge(status, &mut tally);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                match carts.checkout(common::checkout_request(&cart)).await {
                    Ok(answer) => {
                        tally.ok += 1;
                        acknowledged.push((cart.id, answer.into_inner().order.unwrap().id));
                        if restarted.load(Ordering::Relaxed) {
                            after_restart += 1;
                        }
                    }
                    Err(status) => judge(status, &mut tally),
                }
            }
            (tally, acknowledged, after_restart)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let outage = Instant::now();
    fleet.restart_postgres().await;
    restarted.store(true, Ordering::Relaxed);
    let restart_took = outage.elapsed();
    // Checkouts go on for a while after PostgreSQL is back.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut tally, mut acknowledged, mut after_restart) = (Tally::default(), Vec::new(), 0);
    for worker in workers {
        let (t, a, r) = worker.await.unwrap();
        tally.ok += t.ok;
        tally.unavailable += t.unavailable;
        tally.other.extend(t.other);
        acknowledged.extend(a);
        after_restart += r;
    }
    println!(
        "restart took {restart_took:?}; {} orders acknowledged ({after_restart} after it), \
         {} calls UNAVAILABLE with RetryInfo, {} other failures",
        tally.ok,
        tally.unavailable,
        tally.other.len()
    );
    assert!(tally.other.is_empty(), "other failures: {:?}", tally.other);
    assert!(after_restart > 0, "no checkout succeeded after the restart");
    for (cart, order) in &acknowledged {
        let sql = format!(
            "SELECT COUNT(*) FROM orders WHERE id::text = '{order}' AND cart_id::text = '{cart}'"
        );
        assert_eq!(count(&fleet, &sql).await, 1, "order {order} of cart {cart}");
    }
    common::assert_orders_whole(&fleet.database_url).await;
}
