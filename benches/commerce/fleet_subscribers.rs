//! Issue 19: catalog-change subscribers spread over 3 release replicas on one PostgreSQL
//! database, receiving a repriced month published on one of them: each replica hears of the
//! publish by LISTEN/NOTIFY and delivers to its own subscribers. Publish-to-delivery latency
//! over all of them, and the RSS of every replica.
//!
//! The subscribers connect straight to the replicas, `--fleet-connections` HTTP/2 connections
//! spread evenly over them, each multiplexing its share of the streams (the lean client of
//! `watch.rs`): HAProxy would put a third process copying every byte on the same two cores, and
//! HAProxy 2.6 takes 100 streams per client connection (`tune.h2.max-concurrent-streams`), so
//! 100,000 subscribers would need 1,000 client connections through it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use csp_commerce::grpc::pb;

use crate::subscribers::import_repriced;
use crate::support::{Backend, Database, Server, histogram, load_average, ms, record, rid};
use crate::watch::{lean_connection, lean_watch, wait_subscribed};
use crate::{Args, NEXT_MONTH, SECRET, bench_settings, sales_agent};

/// Replicas of the fleet.
const REPLICAS: usize = 3;
/// How long the subscriptions, and then the delivery, may take at most.
const PHASE_LIMIT: Duration = Duration::from_secs(600);

/// What one replica's memory and subscribers came to.
struct ReplicaFigures {
    subscribers: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
    peak_kib: u64,
}

pub(crate) async fn fleet_subscribers(bin: &Path, args: &Args) -> Result<()> {
    let n = args.fleet_subscribers;
    let connections = args.fleet_connections.max(REPLICAS);
    eprintln!(
        "== fleet subscribers: {n} over {connections} connections straight to {REPLICAS} \
         replicas (PostgreSQL, lean client accepting {:?}, inflating {:?})",
        args.subscriber_encoding, args.subscriber_inflate
    );
    let db = Database::fresh(Backend::Postgres, &args.postgres)?;
    let env = bench_settings();
    // The first replica seeds the empty database alone.
    let mut servers = Vec::with_capacity(REPLICAS);
    for _ in 0..REPLICAS {
        servers.push(Server::start(bin, &db.url, SECRET, &env).await?);
    }
    let mut admin = import_repriced(servers[0].addr, args).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut figures = Vec::with_capacity(REPLICAS);
    for server in &servers {
        figures.push(ReplicaFigures {
            subscribers: 0,
            rss_before_kib: server.status_kib("VmRSS")?,
            rss_after_kib: 0,
            peak_kib: 0,
        });
    }

    // Connection c goes to replica c % REPLICAS; subscriber i rides connection i % connections.
    let mut sends = Vec::with_capacity(connections);
    for c in 0..connections {
        sends.push(lean_connection(servers[c % REPLICAS].addr).await?);
    }
    let authorization = http::HeaderValue::from_bytes(sales_agent()?.0.as_encoded_bytes())?;
    let uris: Vec<http::Uri> = servers
        .iter()
        .map(|s| {
            format!(
                "http://{}/csp.commerce.v1.CatalogService/WatchCatalogChanges",
                s.addr
            )
            .parse()
        })
        .collect::<Result<_, _>>()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u64, Instant)>();
    let ready = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let replica_of = |i: usize| (i % connections) % REPLICAS;
    let subscribing = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % connections;
        figures[c % REPLICAS].subscribers += 1;
        let (send, uri, authorization) = (
            sends[c].clone(),
            uris[c % REPLICAS].clone(),
            authorization.clone(),
        );
        let (tx, ready, errors, first_error) = (
            tx.clone(),
            ready.clone(),
            errors.clone(),
            first_error.clone(),
        );
        let how = (args.subscriber_encoding, args.subscriber_inflate);
        tasks.push(tokio::spawn(async move {
            let tops = |top| {
                let _ = tx.send((i, top, Instant::now()));
            };
            if let Err(e) = lean_watch(send, uri, authorization, how, &ready, tops).await {
                errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = first_error.lock() {
                    first.get_or_insert(e);
                }
            }
        }));
    }
    drop(tx);
    wait_subscribed(&ready, &errors, n, PHASE_LIMIT).await?;
    let subscribed = ready.load(Ordering::Relaxed) as usize;
    eprintln!(
        "  {subscribed} subscribed in {:.1} s ({} errors)",
        subscribing.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed)
    );
    // Idle for a while, then the memory they hold.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (server, f) in servers.iter().zip(&mut figures) {
        f.rss_after_kib = server.status_kib("VmRSS")?;
    }

    let load = load_average();
    let sent = Instant::now();
    let published = admin
        .admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: NEXT_MONTH.into(),
        })
        .await
        .context("PublishMonth")?
        .into_inner();
    let publish_ms = sent.elapsed().as_secs_f64() * 1000.0;
    let last = published.last_revision;
    let changes = last.saturating_sub(published.first_revision) + 1;
    // When each subscriber got the batch holding the last revision.
    let mut through: Vec<Option<Instant>> = vec![None; n];
    let mut delivered = 0usize;
    let deadline = Instant::now() + PHASE_LIMIT;
    while delivered < subscribed {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some((i, top, when))) => {
                if top >= last && through[i].is_none() {
                    through[i] = Some(when);
                    delivered += 1;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut all = histogram()?;
    let mut per_replica = Vec::with_capacity(REPLICAS);
    for _ in 0..REPLICAS {
        per_replica.push(histogram()?);
    }
    for (i, when) in through.iter().enumerate() {
        if let Some(when) = when {
            let took = when.saturating_duration_since(sent);
            record(&mut all, took);
            record(&mut per_replica[replica_of(i)], took);
        }
    }
    for task in &tasks {
        task.abort();
    }
    drop(sends);
    let errors = errors.load(Ordering::Relaxed);
    if let Ok(first) = first_error.lock()
        && let Some(e) = first.as_ref()
    {
        eprintln!("  first error: {e}");
    }
    for (server, f) in servers.iter().zip(&mut figures) {
        f.peak_kib = server.status_kib("VmHWM").unwrap_or(0);
    }
    for (r, (f, h)) in figures.iter().zip(&per_replica).enumerate() {
        println!(
            "fleet-subs replica {}: {} subscribers over {} connections; RSS {} -> {} KiB \
             ({:.1} KiB per idle subscriber), peak {} KiB; delivered to {}: p50 {:.0} ms \
             p99 {:.0} ms max {:.0} ms",
            r + 1,
            f.subscribers,
            (r..connections).step_by(REPLICAS).count(),
            f.rss_before_kib,
            f.rss_after_kib,
            (f.rss_after_kib as f64 - f.rss_before_kib as f64) / f.subscribers.max(1) as f64,
            f.peak_kib,
            h.len(),
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "fleet-subs {n} subscribers over {connections} connections to {REPLICAS} replicas: \
         publish of {changes} changes answered in {publish_ms:.0} ms; delivered to \
         {delivered}/{n}: p50 {:.0} ms p99 {:.0} ms max {:.0} ms; errors {errors} | load {load}",
        ms(&all, 0.5),
        ms(&all, 0.99),
        all.max() as f64 / 1000.0
    );
    for server in &mut servers {
        server.stop()?;
    }
    drop(db);
    if errors > 0 || delivered < n {
        bail!("{errors} subscriber errors; {delivered} of {n} delivered");
    }
    Ok(())
}
