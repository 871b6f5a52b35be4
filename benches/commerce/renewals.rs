//! Issue 22: one renewal pass over 100,000 due subscriptions, on SQLite and PostgreSQL. One
//! subscription is bought through the wire (Intune, P1M billed monthly, for a demo customer);
//! the server is stopped and the book is filled up with copies of its row (a multi-row INSERT
//! ... SELECT, 1,000 rows a statement: all due at the same instant); the server starts again
//! and OperatorService.RunRenewals renews them all (500 a transaction). Reported: the pass's
//! wall time (target: under 20 s) and the server's peak RSS (VmHWM) before and after it.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::operator_service_client::OperatorServiceClient;
use sea_orm::{ConnectionTrait, Database as Db};

use crate::support::{Backend, Database, Server, bearer, connect, rid, verdict};
use crate::{Api, Args, INTUNE, SECRET, bench_settings};

/// The target of a pass over 100,000 due subscriptions.
const TARGET_SECONDS: f64 = 20.0;

const CLONED_COLUMNS: &str = "partner_id, customer_id, order_id, product_id, sku_id, \
    availability_id, quantity, term, billing_cycle, status, is_trial, parent_subscription_id, \
    start_at, commitment_end_at, auto_renew, created_at, updated_at, version, \
    unit_price_micros, currency";

fn settings() -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = bench_settings().into_iter().collect();
    // The pass runs on demand here, not in the background; one call holds it whole.
    env.push(("CSP_RENEWAL_INTERVAL_MS", "0".into()));
    env.push(("CSP_REQUEST_TIMEOUT_MS", "600000".into()));
    env
}

/// Buys the template subscription; its id and commitment end.
async fn buy_one(server: &Server) -> Result<(String, prost_types::Timestamp)> {
    let mut api = Api::new(connect(server.addr, None).await?, crate::sales_agent()?);
    let seed = csp_commerce::demo::seed().map_err(|e| anyhow::anyhow!("{e}"))?;
    let customer = seed
        .customers
        .iter()
        .find(|c| c.key == "us-fabrikam")
        .context("no demo customer us-fabrikam")?
        .id
        .to_string();
    let item = api
        .catalog
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: INTUNE.0.into(),
            sku_id: INTUNE.1.into(),
            country: "US".into(),
            segment: pb::Segment::Commercial.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .availabilities
        .first()
        .map(|a| a.catalog_item_id.clone())
        .context("Intune has no US commercial availability")?;
    let cart = api
        .carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer,
            lines: vec![pb::CartLineInput {
                catalog_item_id: item,
                quantity: 1,
                term: pb::TermDuration::P1m.into(),
                billing_cycle: pb::BillingCycle::Monthly.into(),
                provisioning_context: None,
            }],
        })
        .await?
        .into_inner()
        .cart
        .context("no cart")?;
    let order = api
        .carts
        .checkout(pb::CheckoutRequest {
            request_id: rid(),
            cart_id: cart.id,
            etag: cart.etag,
        })
        .await?
        .into_inner()
        .order
        .context("no order")?;
    let line = order.lines.first().context("an order without lines")?;
    let mut orders = pb::order_service_client::OrderServiceClient::with_interceptor(
        connect(server.addr, None).await?,
        crate::sales_agent()?,
    );
    let sub = orders
        .get_subscription(pb::GetSubscriptionRequest {
            subscription_id: line.subscription_id.clone(),
        })
        .await?
        .into_inner()
        .subscription
        .context("no subscription")?;
    Ok((
        sub.id,
        sub.commitment_end_time.context("no commitment end")?,
    ))
}

/// One pass over `args.renewal_subscriptions` due subscriptions on `backend`.
pub(crate) async fn renewals(bin: &std::path::Path, args: &Args, backend: Backend) -> Result<()> {
    let total = args.renewal_subscriptions.max(1);
    eprintln!(
        "== renewal pass over {total} due subscriptions on {}",
        backend.label()
    );
    let db = Database::fresh(backend, &args.postgres)?;
    let mut server = Server::start(bin, &db.url, SECRET, &settings()).await?;
    let (template, end) = buy_one(&server).await?;
    server.stop()?;
    let started = Instant::now();
    let conn = Db::connect(&db.url).await?;
    let copies: Vec<String> = (1..total).map(|_| rid()).collect();
    for chunk in copies.chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|id| format!("('{id}')")).collect();
        conn.execute_unprepared(&format!(
            "WITH v(id) AS (VALUES {}) INSERT INTO subscriptions (id, {CLONED_COLUMNS}) \
             SELECT v.id, {CLONED_COLUMNS} FROM v, subscriptions s WHERE s.id = '{template}'",
            values.join(",")
        ))
        .await?;
    }
    if backend == Backend::Postgres {
        // A book a month old has statistics (autovacuum's analyze); a table copied a moment
        // ago has none, and the planner would scan it for every batch's lookups.
        conn.execute_unprepared("ANALYZE subscriptions").await?;
    }
    let _ = conn.close().await;
    eprintln!(
        "  {} subscriptions written in {:.1} s",
        copies.len(),
        started.elapsed().as_secs_f64()
    );
    let server = Server::start(bin, &db.url, SECRET, &settings()).await?;
    let rss_before = server.status_kib("VmHWM")?;
    let mut operator = OperatorServiceClient::with_interceptor(
        connect(server.addr, None).await?,
        bearer(SECRET, None, Role::Operator)?,
    );
    let until = prost_types::Timestamp {
        seconds: end.seconds + 1,
        nanos: 0,
    };
    let started = Instant::now();
    let done = operator
        .run_renewals(pb::RunRenewalsRequest { until: Some(until) })
        .await
        .context("RunRenewals")?
        .into_inner();
    let seconds = started.elapsed().as_secs_f64();
    let rss_after = server.status_kib("VmHWM")?;
    if done.renewed != total as i64 {
        bail!(
            "renewed {} of {total} (expired {})",
            done.renewed,
            done.expired
        );
    }
    println!(
        "renewals  {:<10} {total} due: pass {seconds:.1} s ({:.0}/s)  peak RSS {} MiB before, {} MiB after  [{}: target < {TARGET_SECONDS} s]",
        backend.label(),
        total as f64 / seconds,
        rss_before / 1024,
        rss_after / 1024,
        verdict(seconds < TARGET_SECONDS)
    );
    // Run again: nothing is due any more.
    let again = operator
        .run_renewals(pb::RunRenewalsRequest { until: Some(until) })
        .await?
        .into_inner();
    if (again.renewed, again.expired) != (0, 0) {
        bail!("a second pass renewed {} more", again.renewed);
    }
    Ok(())
}
