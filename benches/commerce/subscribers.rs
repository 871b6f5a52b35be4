//! Issue 4: idle change-stream subscribers (memory per subscriber) and publish-to-delivery
//! latency when a repriced month is imported under them.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Endpoint;

use crate::imports::repriced_month;
use crate::support::{Database, Server, bearer, connect, cpu_sample, histogram, ms, record, rid};
use crate::watch::{WatchCodec, lean_connection, lean_watch, wait_subscribed};
use crate::{
    Api, Args, NEXT_MONTH, SECRET, SUBSCRIBER_FRAME_SIZE, SubscriberClient, SubscriberEncoding,
    bench_settings, sales_agent,
};

/// How long the subscriptions may take at most.
const SUBSCRIBE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub(crate) struct SubscriberResult {
    pub(crate) label: &'static str,
    pub(crate) subscribers: usize,
    pub(crate) connections: usize,
    pub(crate) rss_before_kib: u64,
    /// What each subscriber of the second half added.
    pub(crate) second_half_kib: Option<f64>,
    pub(crate) rss_after_kib: u64,
    pub(crate) per_subscriber_kib: f64,
    pub(crate) changes: u64,
    pub(crate) delivered: usize,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) publish_ms: f64,
    pub(crate) errors: u64,
}

/// The catalog admin's clients on `addr`, once the repriced next month is imported there (the
/// subscribers then measure publishing only).
pub(crate) async fn import_repriced(addr: std::net::SocketAddr, args: &Args) -> Result<Api> {
    let admin_token = bearer(SECRET, None, Role::CatalogAdmin)?;
    let mut admin = Api::new(
        connect(addr, Some(Duration::from_secs(120))).await?,
        admin_token,
    );
    let month_dir = tempfile::tempdir()?;
    let (matrix, lists) = repriced_month(month_dir.path(), args.repriced)?;
    let imported = admin
        .admin
        .import_month(pb::ImportMonthRequest {
            request_id: rid(),
            month: NEXT_MONTH.into(),
            offer_matrix_path: matrix.display().to_string(),
            price_list_paths: lists.iter().map(|l| l.display().to_string()).collect(),
        })
        .await
        .context("ImportMonth")?
        .into_inner();
    eprintln!(
        "  imported {NEXT_MONTH} on {addr}: {} availabilities, {} prices",
        imported.availabilities, imported.prices
    );
    Ok(admin)
}

pub(crate) async fn subscribers(
    bin: &Path,
    args: &Args,
    n: usize,
    connections: usize,
    label: &'static str,
) -> Result<SubscriberResult> {
    eprintln!(
        "== {n} subscribers over {connections} connections ({}, {:?} client accepting {:?}, \
         inflating {:?})",
        args.subscriber_backend.label(),
        args.subscriber_client,
        args.subscriber_encoding,
        args.subscriber_inflate
    );
    let db = Database::fresh(args.subscriber_backend, &args.postgres)?;
    let mut server = Server::start(bin, &db.url, SECRET, &bench_settings()).await?;
    let agent = sales_agent()?;
    let mut admin = import_repriced(server.addr, args).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server.status_kib("VmRSS")?;

    // Subscriber i reports (i, highest revision so far, when) for every batch.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u64, Instant)>();
    let ready = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    // A subscriber's connection takes DATA frames of up to 1 MiB (HTTP/2's default is 16 KiB):
    // a batch of changes then crosses in one or two frames instead of seven, each of which
    // wakes the stream's reader.
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(
            Endpoint::from_shared(format!("http://{}", server.addr))?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .max_frame_size(SUBSCRIBER_FRAME_SIZE)
                .connect()
                .await?,
        );
    }
    let mut lean_connections = Vec::new();
    if args.subscriber_client == SubscriberClient::Lean {
        for _ in 0..connections {
            lean_connections.push(lean_connection(server.addr).await?);
        }
    }
    let authorization = http::HeaderValue::from_bytes(agent.0.as_encoded_bytes())?;
    let uri: http::Uri = format!(
        "http://{}/csp.commerce.v1.CatalogService/WatchCatalogChanges",
        server.addr
    )
    .parse()?;
    let (encoding, inflate) = (args.subscriber_encoding, args.subscriber_inflate);
    let mut tasks = Vec::with_capacity(n);
    // The RSS once the first half is subscribed too: what the second half adds is what a
    // subscriber costs once the allocator's free memory left from start-up and the import is
    // used up (the whole difference swings with how much of it there was).
    let half = n / 2;
    let mut rss_half_kib = None;
    for i in 0..n {
        if i == half && half > 0 {
            wait_subscribed(&ready, &errors, half, SUBSCRIBE_LIMIT).await?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            rss_half_kib = Some(server.status_kib("VmRSS")?);
        }
        let mut client = tonic::client::Grpc::new(InterceptedService::new(
            channels[i % connections].clone(),
            agent.clone(),
        ));
        if args.subscriber_encoding == SubscriberEncoding::Zstd {
            client = client.accept_compressed(tonic::codec::CompressionEncoding::Zstd);
        }
        let (tx, ready, errors, first_error) = (
            tx.clone(),
            ready.clone(),
            errors.clone(),
            first_error.clone(),
        );
        if let Some(send) = lean_connections.get(i % connections.max(1)) {
            let (send, uri, authorization) = (send.clone(), uri.clone(), authorization.clone());
            tasks.push(tokio::spawn(async move {
                let tops = |top| {
                    let _ = tx.send((i, top, Instant::now()));
                };
                if let Err(e) =
                    lean_watch(send, uri, authorization, (encoding, inflate), &ready, tops).await
                {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert(e);
                    }
                }
            }));
            continue;
        }
        tasks.push(tokio::spawn(async move {
            let result: Result<(), tonic::Status> = async {
                client.ready().await.map_err(|e| {
                    tonic::Status::unavailable(format!("connection not ready: {e}"))
                })?;
                let mut stream = client
                    .server_streaming(
                        tonic::Request::new(pb::WatchCatalogChangesRequest {
                            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
                            ..Default::default()
                        }),
                        PathAndQuery::from_static(
                            "/csp.commerce.v1.CatalogService/WatchCatalogChanges",
                        ),
                        WatchCodec,
                    )
                    .await?
                    .into_inner();
                ready.fetch_add(1, Ordering::Relaxed);
                while let Some(top) = stream.message().await? {
                    if let Some(top) = top {
                        let _ = tx.send((i, top, Instant::now()));
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = first_error.lock() {
                    first.get_or_insert_with(|| format!("{:?}: {}", e.code(), e.message()));
                }
            }
        }));
    }
    drop(tx);
    wait_subscribed(&ready, &errors, n, SUBSCRIBE_LIMIT).await?;
    let subscribed = ready.load(Ordering::Relaxed);
    // Idle for a while, then the memory they hold.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = server.status_kib("VmRSS")?;
    let per_subscriber_kib = (rss_after_kib as f64 - rss_before_kib as f64) / n as f64;
    let second_half_kib =
        rss_half_kib.map(|h| (rss_after_kib as f64 - h as f64) / (n - half) as f64);
    eprintln!(
        "  {subscribed} subscribed; server RSS {rss_before_kib} KiB -> {} KiB (half) -> \
         {rss_after_kib} KiB: {per_subscriber_kib:.1} KiB per idle subscriber, {} KiB each \
         of the second half",
        rss_half_kib.map_or_else(|| "-".to_owned(), |h| h.to_string()),
        second_half_kib.map_or_else(|| "-".to_owned(), |k| format!("{k:.1}")),
    );

    let cpu_before = cpu_sample(server.pid());
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
    let mut seen: Vec<Option<(u64, Instant)>> = vec![None; n];
    let mut delivered = 0usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    while delivered < subscribed as usize {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some((i, top, when))) => {
                let before = seen[i].is_some_and(|(t, _)| t >= last);
                if seen[i].is_none_or(|(t, _)| top > t) {
                    seen[i] = Some((top, when));
                }
                if !before && top >= last {
                    delivered += 1;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // The CPU the delivery took (to the last subscriber's last batch): server, load generator.
    let cpu_after = cpu_sample(server.pid());
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        let wall = sent.elapsed().as_secs_f64();
        eprintln!(
            "  delivery CPU: server {:.2} s, load generator {:.2} s, machine {:.2} s of {:.2} s x {} cores",
            b.0 - a.0,
            b.1 - a.1,
            b.2 - a.2,
            wall,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    let mut latency = histogram()?;
    for (_, when) in seen.iter().flatten().filter(|(t, _)| *t >= last) {
        record(&mut latency, when.saturating_duration_since(sent));
    }
    eprintln!(
        "  first subscriber through the last change after {:.0} ms",
        latency.min() as f64 / 1000.0
    );
    for task in &tasks {
        task.abort();
    }
    drop(channels);
    let errors = errors.load(Ordering::Relaxed);
    if let Ok(first) = first_error.lock()
        && let Some(e) = first.as_ref()
    {
        eprintln!("  first error: {e}");
    }
    let peak = server.status_kib("VmHWM").unwrap_or(0);
    server.stop()?;
    drop(db);
    let r = SubscriberResult {
        label,
        subscribers: n,
        connections,
        rss_before_kib,
        second_half_kib,
        rss_after_kib,
        per_subscriber_kib,
        changes,
        delivered,
        p50_ms: ms(&latency, 0.5),
        p99_ms: ms(&latency, 0.99),
        max_ms: latency.max() as f64 / 1000.0,
        publish_ms,
        errors,
    };
    println!(
        "subs      {n} over {connections} conns ({label}): {:.1} KiB/idle subscriber \
         (RSS {} -> {} KiB, peak {peak} KiB); publish of {changes} changes answered in {:.0} ms; \
         delivered to {delivered}/{n}: p50 {:.0} ms p99 {:.0} ms max {:.0} ms; errors {errors}",
        r.per_subscriber_kib,
        r.rss_before_kib,
        r.rss_after_kib,
        r.publish_ms,
        r.p50_ms,
        r.p99_ms,
        r.max_ms
    );
    Ok(r)
}
