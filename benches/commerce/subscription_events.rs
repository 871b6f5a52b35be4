//! Issue 22: subscription-event fan-out. One partner's `--event-subscribers` streams
//! (WatchSubscriptionEvents from now, multiplexed over `--event-connections` connections), then
//! `--event-changes` quantity changes of one subscription, one after the other; each event's
//! delivery latency to each subscriber (from the change's call to the event's arrival), and the
//! server's RSS before and after subscribing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use csp_commerce::grpc::pb;
use pb::order_service_client::OrderServiceClient;
use pb::subscription_event_service_client::SubscriptionEventServiceClient;
use pb::watch_subscription_events_response::Event;

use crate::flow::{create_customers, line_for};
use crate::support::{Database, Server, connect, cpu_sample, histogram, ms, record, rid};
use crate::watch::wait_subscribed;
use crate::{Api, Args, INTUNE, SECRET, bench_settings, sales_agent};

/// How long the subscriptions may take at most.
const SUBSCRIBE_LIMIT: Duration = Duration::from_secs(120);

pub(crate) async fn subscription_events(bin: &Path, args: &Args) -> Result<()> {
    let (n, changes, connections) = (
        args.event_subscribers,
        args.event_changes,
        args.event_connections.max(1),
    );
    eprintln!(
        "== subscription events: {n} subscribers over {connections} connections, {changes} \
         changes ({})",
        args.subscriber_backend.label()
    );
    let db = Database::fresh(args.subscriber_backend, &args.postgres)?;
    let mut server = Server::start(bin, &db.url, SECRET, &bench_settings()).await?;
    let agent = sales_agent()?;
    let mut api = Api::new(connect(server.addr, None).await?, agent.clone());
    let customer = create_customers(&api, 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow!("no customer"))?;
    let sku = api
        .catalog
        .get_sku(pb::GetSkuRequest {
            product_id: INTUNE.0.into(),
            sku_id: INTUNE.1.into(),
            month: String::new(),
        })
        .await?
        .into_inner()
        .sku
        .ok_or_else(|| anyhow!("no Intune"))?;
    let line = line_for(&mut api, &sku, &customer)
        .await?
        .ok_or_else(|| anyhow!("Intune is not purchasable"))?;
    let cart = api
        .carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer.clone(),
            lines: vec![line],
        })
        .await?
        .into_inner()
        .cart
        .ok_or_else(|| anyhow!("no cart"))?;
    let order = api
        .carts
        .checkout(pb::CheckoutRequest {
            request_id: rid(),
            cart_id: cart.id.clone(),
            etag: cart.etag.clone(),
        })
        .await?
        .into_inner()
        .order
        .ok_or_else(|| anyhow!("no order"))?;
    let subscription = order.lines[0].subscription_id.clone();
    let start_quantity = order.lines[0].quantity;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server.status_kib("VmRSS")?;

    // Subscriber i reports (revision, when) for every event.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let ready = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let head = Arc::new(AtomicU64::new(0));
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(connect(server.addr, None).await?);
    }
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let mut client = SubscriptionEventServiceClient::with_interceptor(
            channels[i % connections].clone(),
            agent.clone(),
        );
        let (tx, ready, errors, head) = (tx.clone(), ready.clone(), errors.clone(), head.clone());
        tasks.push(tokio::spawn(async move {
            let result: Result<(), tonic::Status> = async {
                let mut stream = client
                    .watch_subscription_events(pb::WatchSubscriptionEventsRequest {
                        start: Some(pb::watch_subscription_events_request::Start::FromNow(true)),
                        customer_id: String::new(),
                    })
                    .await?
                    .into_inner();
                let mut first = true;
                while let Some(message) = stream.message().await? {
                    match message.event {
                        Some(Event::Progress(p)) if first => {
                            first = false;
                            head.fetch_max(p.current_revision, Ordering::Relaxed);
                            ready.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(Event::Events(batch)) => {
                            let when = Instant::now();
                            for e in batch.events {
                                let _ = tx.send((e.revision, when));
                            }
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            .await;
            if result.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    drop(tx);
    wait_subscribed(&ready, &errors, n, SUBSCRIBE_LIMIT).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = server.status_kib("VmRSS")?;
    let head = head.load(Ordering::Relaxed);

    // The changes, one after the other: change k makes revision head + k.
    let mut orders = OrderServiceClient::with_interceptor(connect(server.addr, None).await?, agent);
    let cpu_before = cpu_sample(server.pid());
    let started = Instant::now();
    let mut sent = Vec::with_capacity(changes);
    let mut write = histogram()?;
    for k in 0..changes {
        let at = Instant::now();
        orders
            .change_subscription_quantity(pb::ChangeSubscriptionQuantityRequest {
                request_id: rid(),
                subscription_id: subscription.clone(),
                etag: String::new(),
                quantity: start_quantity + 1 + k as i32,
            })
            .await
            .context("ChangeSubscriptionQuantity")?;
        record(&mut write, at.elapsed());
        sent.push(at);
    }
    let mut latency = histogram()?;
    let expected = n * changes;
    let mut delivered = 0usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    while delivered < expected {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some((revision, when))) => {
                let Some(k) = revision.checked_sub(head + 1).map(|k| k as usize) else {
                    bail!("an event at {revision}, at or before the head {head}");
                };
                let Some(at) = sent.get(k) else {
                    bail!("an event at {revision}, after the last change made");
                };
                record(&mut latency, when.saturating_duration_since(*at));
                delivered += 1;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu_after = cpu_sample(server.pid());
    let server_cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => format!("{:.2} s", b.0 - a.0),
        _ => "-".to_owned(),
    };
    for task in &tasks {
        task.abort();
    }
    let peak = server.status_kib("VmHWM").unwrap_or(0);
    server.stop()?;
    drop(db);
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "events    {n} subscribers over {connections} conns ({}): {changes} changes in {wall:.1} s \
         (write p50 {:.1} ms); delivered {delivered}/{expected}: p50 {:.1} ms p99 {:.1} ms \
         max {:.1} ms; server RSS {rss_before_kib} -> {rss_after_kib} KiB ({:.1} KiB/subscriber, \
         peak {peak} KiB); server CPU {server_cpu}; errors {errors}",
        args.subscriber_backend.label(),
        ms(&write, 0.5),
        ms(&latency, 0.5),
        ms(&latency, 0.99),
        latency.max() as f64 / 1000.0,
        (rss_after_kib as f64 - rss_before_kib as f64) / n as f64,
    );
    if delivered < expected || errors > 0 {
        bail!("{delivered} of {expected} deliveries, {errors} stream errors");
    }
    Ok(())
}
