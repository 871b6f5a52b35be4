//! Several replicas on one PostgreSQL: a replica whose LISTEN connection is cut forgets the
//! customer standings it caches (it may have missed their changes), so it never sells on a
//! stale one, and it caches and follows again once it listens again; and a checkout planned on
//! a stale cached profile is refused by its write's guard and judged again.

use std::time::{Duration, Instant};

use crate::common::{self, TestApp, rid};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, TransactionTrait};

/// The `application_name` of each replica's listener connection.
const LISTENER: &str = "csp-listener";

/// The process ids of the listener connections on this test's database that are listening.
async fn listeners(db: &DatabaseConnection) -> Vec<i32> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = '{LISTENER}' AND query LIKE 'LISTEN%' AND state = 'idle' \
                 ORDER BY pid"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<i32>("", "pid").unwrap())
        .collect()
}

/// The one listener that is not among `others`, once it is listening (or a panic after 10 s).
async fn new_listener(db: &DatabaseConnection, others: &[i32]) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fresh: Vec<i32> = listeners(db)
            .await
            .into_iter()
            .filter(|pid| !others.contains(pid))
            .collect();
        match fresh[..] {
            [pid] => return pid,
            _ if Instant::now() > deadline => panic!("no one new listener: {fresh:?}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Removes the customer's qualifications behind every replica's back: with triggers off, no
/// change is announced, exactly as when a replica's listener misses the announcement.
/// `as_a_profile_write`: also bump the customer's version, as every profile write does.
async fn remove_qualifications_unannounced(
    db: &DatabaseConnection,
    customer_id: &str,
    as_a_profile_write: bool,
) {
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL session_replication_role = replica")
        .await
        .unwrap();
    let removed = txn
        .execute_unprepared(&format!(
            "DELETE FROM customer_qualifications WHERE customer_id::text = '{customer_id}'"
        ))
        .await
        .unwrap();
    assert_eq!(removed.rows_affected(), 1, "the nonprofit qualification");
    if as_a_profile_write {
        let bumped = txn
            .execute_unprepared(&format!(
                "UPDATE customers SET version = version + 1 WHERE id::text = '{customer_id}'"
            ))
            .await
            .unwrap();
        assert_eq!(bumped.rows_affected(), 1, "the customer");
    }
    txn.commit().await.unwrap();
}

/// The US availability of Microsoft 365's `sku` in `segment`, as `partner` sees it.
async fn availability(
    app: &TestApp,
    partner: &str,
    sku: &str,
    segment: pb::Segment,
) -> pb::Availability {
    app.catalog(partner, Role::SalesAgent)
        .list_availabilities(pb::ListAvailabilitiesRequest {
            month: String::new(),
            product_id: "CFQ7TTC02ROY".into(),
            sku_id: sku.into(),
            country: "US".into(),
            segment: segment.into(),
            page_size: 0,
            page_token: String::new(),
            customer_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .availabilities
        .into_iter()
        .next()
        .expect("the availability")
}

/// Fabrikam's nonprofit availability of Microsoft 365 Business Basic.
async fn nonprofit(app: &TestApp) -> pb::Availability {
    availability(app, "us", "0002", pb::Segment::Nonprofit).await
}

async fn set_nonprofit(app: &TestApp, customer_id: &str, approved: bool) {
    common::set_nonprofit(app, customer_id, approved).await;
}

/// The problem codes of buying one of `item` for `customer_id` through `app`.
async fn codes(app: &TestApp, customer_id: &str, item: &pb::Availability) -> Vec<String> {
    codes_of(app, "us", customer_id, item).await
}

/// `codes`, for a customer of `partner`.
async fn codes_of(
    app: &TestApp,
    partner: &str,
    customer_id: &str,
    item: &pb::Availability,
) -> Vec<String> {
    app.catalog(partner, Role::SalesAgent)
        .check_purchasability(pb::CheckPurchasabilityRequest {
            month: String::new(),
            customer_id: customer_id.into(),
            catalog_item_id: item.catalog_item_id.clone(),
            quantity: 1,
            term: item.terms[0].term,
            billing_cycle: item.terms[0].billing_cycle,
        })
        .await
        .unwrap()
        .into_inner()
        .problems
        .into_iter()
        .map(|p| common::code(&p).to_owned())
        .collect()
}

/// The codes once they are `expected`, or what they still were after `within`.
async fn codes_become(
    app: &TestApp,
    customer_id: &str,
    item: &pb::Availability,
    expected: &[&str],
    within: Duration,
) -> Vec<String> {
    codes_of_become(app, "us", customer_id, item, expected, within).await
}

/// `codes_become`, for a customer of `partner`.
async fn codes_of_become(
    app: &TestApp,
    partner: &str,
    customer_id: &str,
    item: &pb::Availability,
    expected: &[&str],
    within: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let codes = codes_of(app, partner, customer_id, item).await;
        if codes == expected || Instant::now() > deadline {
            return codes;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A cart of Fabrikam's on `app` with one of `item`.
async fn cart_of(app: &TestApp, customer_id: &str, item: &pb::Availability) -> pb::Cart {
    app.carts("us", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer_id.into(),
            lines: vec![pb::CartLineInput {
                catalog_item_id: item.catalog_item_id.clone(),
                quantity: 1,
                term: item.terms[0].term,
                billing_cycle: item.terms[0].billing_cycle,
                provisioning_context: None,
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

/// Within this, a replica must have answered right: far below the standings' 30 s age limit,
/// so only forgetting on the cut (or hearing the change) can explain a right answer.
const PROMPTLY: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_listener_is_cut_does_not_sell_on_a_stale_standing() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let db = Database::connect(&a.database_url).await.unwrap();
    let a_listener = new_listener(&db, &[]).await;
    let b = a
        .replica(|s| s.metrics_listen = Some("127.0.0.1:0".into()))
        .await;
    let b_listener = new_listener(&db, &[a_listener]).await;

    let fabrikam = TestApp::customer_id("us-fabrikam");
    let item = nonprofit(&a).await;
    set_nonprofit(&a, &fabrikam, true).await;
    // B reads and caches Fabrikam as a nonprofit, and puts the nonprofit offer in a cart.
    assert_eq!(
        codes_become(&b, &fabrikam, &item, &[], PROMPTLY).await,
        Vec::<String>::new()
    );
    let mut b_carts = b.carts("us", Role::SalesAgent);
    let cart = cart_of(&b, &fabrikam, &item).await;

    // The qualification goes while B would not hear of it: B still believes its cache (the
    // test can fail: this is the stale standing the issue saw B sell on).
    remove_qualifications_unannounced(&db, &fabrikam, false).await;
    assert_eq!(codes(&b, &fabrikam, &item).await, Vec::<String>::new());

    // Cut B's listener connection, only B's.
    db.execute_unprepared(&format!("SELECT pg_terminate_backend({b_listener})"))
        .await
        .unwrap();
    assert_eq!(
        codes_become(&b, &fabrikam, &item, &["SEGMENT_NOT_ALLOWED"], PROMPTLY).await,
        ["SEGMENT_NOT_ALLOWED"],
        "B forgot what it cached when its listener was cut"
    );
    let refused = b_carts
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap_err();
    assert_eq!(
        common::violations(&refused)
            .iter()
            .map(|v| v.r#type.as_str())
            .collect::<Vec<_>>(),
        ["SEGMENT_NOT_ALLOWED"],
        "{refused:?}"
    );
    assert!(
        listeners(&db).await.contains(&a_listener),
        "A's listener was left alone"
    );

    // B listens again (a new connection), caches again, and hears A's changes again.
    let b_again = new_listener(&db, &[a_listener, b_listener]).await;
    assert_ne!(b_again, b_listener);
    set_nonprofit(&a, &fabrikam, true).await;
    assert_eq!(
        codes_become(&b, &fabrikam, &item, &[], PROMPTLY).await,
        Vec::<String>::new()
    );
    // The listener's connection shows its LISTEN a moment before B caches again (its
    // `csp.store.caching` gauge): a read in that moment is not kept. Read once more after it.
    caching_becomes(&b, 1).await;
    assert_eq!(codes(&b, &fabrikam, &item).await, Vec::<String>::new());
    remove_qualifications_unannounced(&db, &fabrikam, false).await;
    assert_eq!(
        codes(&b, &fabrikam, &item).await,
        Vec::<String>::new(),
        "B caches standings again once it listens"
    );
    set_nonprofit(&a, &fabrikam, false).await;
    assert_eq!(
        codes_become(&b, &fabrikam, &item, &["SEGMENT_NOT_ALLOWED"], PROMPTLY).await,
        ["SEGMENT_NOT_ALLOWED"],
        "B hears A's changes again"
    );
    let refused = b_carts
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap_err();
    assert_eq!(
        common::violations(&refused)[0].r#type,
        "SEGMENT_NOT_ALLOWED"
    );

    let _ = db.close().await;
    b.stop().await;
    a.stop().await;
}

/// A checkout plans on the standing its replica caches; if the customer's profile changed
/// since (here unannounced, so the cache cannot know), its write's guard on the customer's
/// version refuses, and the checkout judges the cart again on the profile as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_planned_on_a_stale_profile_is_refused() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let db = Database::connect(&a.database_url).await.unwrap();
    let a_listener = new_listener(&db, &[]).await;
    let b = a.replica(|_| {}).await;
    new_listener(&db, &[a_listener]).await;

    let fabrikam = TestApp::customer_id("us-fabrikam");
    let item = nonprofit(&a).await;
    set_nonprofit(&a, &fabrikam, true).await;
    assert_eq!(
        codes_become(&b, &fabrikam, &item, &[], PROMPTLY).await,
        Vec::<String>::new()
    );
    let cart = cart_of(&b, &fabrikam, &item).await;
    remove_qualifications_unannounced(&db, &fabrikam, true).await;
    // B still believes its cache: the plan is made on the stale profile.
    assert_eq!(codes(&b, &fabrikam, &item).await, Vec::<String>::new());

    let refused = b
        .carts("us", Role::SalesAgent)
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap_err();
    assert_eq!(
        common::violations(&refused)
            .iter()
            .map(|v| v.r#type.as_str())
            .collect::<Vec<_>>(),
        ["SEGMENT_NOT_ALLOWED"],
        "{refused:?}"
    );
    // The refused write also made B forget what it cached.
    assert_eq!(codes(&b, &fabrikam, &item).await, ["SEGMENT_NOT_ALLOWED"]);
    common::assert_orders_whole(&a.database_url).await;

    let _ = db.close().await;
    b.stop().await;
    a.stop().await;
}

/// The US government availability (GCC): only a GCC partner sells it.
async fn government(app: &TestApp) -> pb::Availability {
    availability(app, "gcc", "0006", pb::Segment::Government).await
}

/// Sets the GCC partner's status behind every replica's back (triggers off: unannounced).
async fn set_gcc_unannounced(db: &DatabaseConnection, gcc: bool) {
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL session_replication_role = replica")
        .await
        .unwrap();
    let changed = txn
        .execute_unprepared(&format!(
            "UPDATE partners SET gcc = {gcc} WHERE id = '{}'",
            TestApp::partner_id("gcc")
        ))
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1, "the GCC partner");
    txn.commit().await.unwrap();
}

/// Within this, a replica must see another's UpdatePartner: the change is announced when it
/// commits, so this only bounds the wait of a loaded machine (no age limit would explain it).
const AT_ONCE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_changed_on_one_replica_is_seen_at_once_on_another() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let db = Database::connect(&a.database_url).await.unwrap();
    let a_listener = new_listener(&db, &[]).await;
    let b = a.replica(|_| {}).await;
    let b_listener = new_listener(&db, &[a_listener]).await;

    let county = TestApp::customer_id("gcc-woodgrove-county");
    let item = government(&a).await;
    let sells = || codes_of(&b, "gcc", &county, &item);
    // B reads and caches the GCC partner.
    assert_eq!(sells().await, Vec::<String>::new());
    // A change nobody announces stays unseen by B: B does keep the partner (the test can fail).
    set_gcc_unannounced(&db, false).await;
    assert_eq!(sells().await, Vec::<String>::new(), "B caches the partner");
    set_gcc_unannounced(&db, true).await;

    // The operator's UpdatePartner on A: B sees it at once, both ways.
    common::set_partner_gcc(&a, "gcc", false).await;
    assert_eq!(
        codes_of_become(
            &b,
            "gcc",
            &county,
            &item,
            &["GCC_PARTNER_REQUIRED"],
            AT_ONCE
        )
        .await,
        ["GCC_PARTNER_REQUIRED"],
        "B heard A's UpdatePartner"
    );
    common::set_partner_gcc(&a, "gcc", true).await;
    assert_eq!(
        codes_of_become(&b, "gcc", &county, &item, &[], AT_ONCE).await,
        Vec::<String>::new()
    );

    // A cut of B's listener makes B forget the partner: a change it missed is seen.
    set_gcc_unannounced(&db, false).await;
    assert_eq!(sells().await, Vec::<String>::new(), "B caches the partner");
    db.execute_unprepared(&format!("SELECT pg_terminate_backend({b_listener})"))
        .await
        .unwrap();
    assert_eq!(
        codes_of_become(
            &b,
            "gcc",
            &county,
            &item,
            &["GCC_PARTNER_REQUIRED"],
            PROMPTLY
        )
        .await,
        ["GCC_PARTNER_REQUIRED"],
        "B forgot the partner when its listener was cut"
    );
    // Once it listens again, B caches and hears again.
    new_listener(&db, &[a_listener, b_listener]).await;
    common::set_partner_gcc(&a, "gcc", true).await;
    assert_eq!(
        codes_of_become(&b, "gcc", &county, &item, &[], AT_ONCE).await,
        Vec::<String>::new()
    );

    let _ = db.close().await;
    b.stop().await;
    a.stop().await;
}

/// Waits until the replica's `csp.store.caching` gauge reads `value` (its scrape endpoint).
async fn caching_becomes(app: &TestApp, value: u8) {
    let wanted = format!("\ncsp_store_caching {value}\n");
    let deadline = Instant::now() + PROMPTLY;
    loop {
        let (_, body) = common::scrape(app).await;
        if format!("\n{body}").contains(&wanted) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "csp_store_caching never read {value}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
