//! A server process killed with SIGKILL in the middle of checkouts, then restarted on the same
//! database: every checkout is either a whole order or nothing, no cart is stuck half-ordered,
//! and every acknowledged order is there.

use crate::common::{self, Backend, TestApp, rid};
use csp_commerce::grpc::pb;
use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::transport::Channel;

async fn clients(
    addr: &str,
) -> (
    common::CartClient,
    common::OrderClient,
    common::CatalogClient,
) {
    let channel = Channel::from_shared(addr.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    (
        pb::cart_service_client::CartServiceClient::with_interceptor(
            channel.clone(),
            common::us_sales_agent("crash"),
        ),
        pb::order_service_client::OrderServiceClient::with_interceptor(
            channel.clone(),
            common::us_sales_agent("crash"),
        ),
        pb::catalog_service_client::CatalogServiceClient::with_interceptor(
            channel,
            common::us_sales_agent("crash"),
        ),
    )
}

async fn database_url(backend: Backend, dir: &std::path::Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", dir.join("crash.sqlite").display())),
        Backend::Postgres => {
            if common::postgres_skipped() {
                return None;
            }
            Some(common::fresh_postgres_database().await)
        }
    }
}

async fn killed_mid_checkout_then_restarted(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database_url(backend, dir.path()).await else {
        return;
    };
    let mut server = common::ServerProcess::start(&url, &[]).await;
    let (mut carts, _, mut catalog) = clients(&server.addr).await;
    let customers = [
        "us-fabrikam",
        "us-northwind-foundation",
        "us-bellows-college",
        "us-woodgrove-de",
    ];
    let mut items = Vec::new();
    for country in ["US", "US", "US", "DE"] {
        let a = common::commercial_availability(&mut catalog, ("CFQ7TTC0RDXR", "0001"), country);
        items.push(a.await.catalog_item_id);
    }
    // 60 carts over four customers, prepared before the storm.
    let mut prepared = Vec::new();
    for i in 0..60 {
        let c = i % customers.len();
        let cart = carts
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: TestApp::customer_id(customers[c]),
                lines: vec![pb::CartLineInput {
                    catalog_item_id: items[c].clone(),
                    quantity: 1 + (i as i32 % 3),
                    term: pb::TermDuration::P1y.into(),
                    billing_cycle: pb::BillingCycle::Annual.into(),
                    provisioning_context: None,
                }],
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        prepared.push(cart);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for cart in prepared.clone() {
        let mut carts = carts.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let result = carts.checkout(common::checkout_request(&cart)).await;
            let _ = tx.send((cart.id, result.map(|r| r.into_inner().order.unwrap().id)));
        });
    }
    drop(tx);
    // Kill as soon as a few checkouts were acknowledged: others are in flight.
    let mut acknowledged = Vec::new();
    while let Some((cart, result)) = rx.recv().await {
        if let Ok(order) = result {
            acknowledged.push((cart, order));
        }
        if acknowledged.len() >= 5 {
            break;
        }
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    while let Some((cart, result)) = rx.recv().await {
        if let Ok(order) = result {
            acknowledged.push((cart, order));
        }
    }
    assert!(acknowledged.len() >= 5);

    // Restart on the same database and look at every cart.
    let mut server = common::ServerProcess::start(&url, &[]).await;
    let (mut carts, mut orders, _) = clients(&server.addr).await;
    let mut ordered = 0;
    for cart in &prepared {
        let now = carts
            .get_cart(pb::GetCartRequest {
                cart_id: cart.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        if now.status == pb::CartStatus::Ordered as i32 {
            ordered += 1;
            let order = orders
                .get_order(pb::GetOrderRequest {
                    order_id: now.order_id.clone(),
                })
                .await
                .expect("an ordered cart has its order")
                .into_inner()
                .order
                .unwrap();
            assert_eq!(order.cart_id, cart.id);
            assert_eq!(order.lines.len(), cart.lines.len());
            for line in &order.lines {
                orders
                    .get_subscription(pb::GetSubscriptionRequest {
                        subscription_id: line.subscription_id.clone(),
                    })
                    .await
                    .expect("every order line has its subscription");
            }
        } else {
            assert_eq!(now.status, pb::CartStatus::Active as i32);
            assert!(now.order_id.is_empty());
        }
    }
    for (cart, order) in &acknowledged {
        let found = orders
            .get_order(pb::GetOrderRequest {
                order_id: order.clone(),
            })
            .await
            .expect("an acknowledged order survives the crash")
            .into_inner()
            .order
            .unwrap();
        assert_eq!(&found.cart_id, cart);
    }
    assert!(ordered >= acknowledged.len());
    assert!(
        ordered < prepared.len(),
        "the kill interrupted checkouts in flight"
    );

    // And in the tables themselves: every order whole, nothing half-written.
    common::assert_orders_whole(&url).await;
    let db = Database::connect(&url).await.unwrap();
    let count = |sql: &str| {
        let db = &db;
        let sql = sql.to_owned();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, ordered as i64);
    let _ = db.close().await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_checkout_on_sqlite_leaves_whole_orders_or_nothing() {
    killed_mid_checkout_then_restarted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_checkout_on_postgres_leaves_whole_orders_or_nothing() {
    killed_mid_checkout_then_restarted(Backend::Postgres).await;
}
