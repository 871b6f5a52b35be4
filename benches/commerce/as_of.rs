//! Issue 22: catalog reads as of a past month against the current month's. The demo's 2026-11
//! is current at start; 2026-12 is imported and published, so 2026-11 becomes a past month.
//! Cold: the first read of 2026-11 after a start (its load from the store and the snapshot's
//! build), on several starts. Warm: the same read mix (GetSku, ListProducts SKU view US p20,
//! ListAvailabilities US, ResolveCatalogItem) with `month` = 2026-11 and with no month (the
//! current), in interleaved rounds of equal length; the figure is the past month's throughput
//! as a share of the current's (target: warm within 10%).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use csp_commerce::grpc::pb;
use hdrhistogram::Histogram;

use crate::subscribers::import_repriced;
use crate::support::{Database, Server, connect, histogram, ms, record, rid, verdict};
use crate::{Api, Args, CALL_TIMEOUT, DEMO_MONTH, INTUNE, NEXT_MONTH, SECRET, bench_settings};

/// Starts of the server on the populated database, each timing its first past-month read.
const COLD_STARTS: usize = 3;
const ROUNDS: usize = 4;

/// One call of the read mix, as of `month` ("" for the current month).
async fn call(api: &mut Api, i: usize, month: &str, item: &str) -> Result<(), tonic::Status> {
    let catalog = &mut api.catalog;
    match i % 4 {
        0 => catalog
            .get_sku(pb::GetSkuRequest {
                product_id: INTUNE.0.into(),
                sku_id: INTUNE.1.into(),
                month: month.into(),
            })
            .await
            .map(drop),
        1 => catalog
            .list_products(pb::ListProductsRequest {
                filter: Some(pb::CatalogFilter {
                    country: "US".into(),
                    ..Default::default()
                }),
                view: pb::CatalogView::Sku.into(),
                page_size: 20,
                month: month.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        2 => catalog
            .list_availabilities(pb::ListAvailabilitiesRequest {
                product_id: INTUNE.0.into(),
                sku_id: INTUNE.1.into(),
                country: "US".into(),
                month: month.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        _ => catalog
            .resolve_catalog_item(pb::ResolveCatalogItemRequest {
                catalog_item_id: item.into(),
                month: month.into(),
            })
            .await
            .map(drop),
    }
}

/// Requests per second and the latency histogram of `concurrency` callers for `seconds`.
async fn run(
    apis: &[Api],
    concurrency: usize,
    seconds: f64,
    month: &'static str,
    item: &Arc<str>,
) -> Result<(f64, Histogram<u64>)> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut api = apis[w % apis.len()].clone();
        let item = item.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = histogram()?;
            let mut i = w;
            while Instant::now() < until {
                let started = Instant::now();
                tokio::time::timeout(CALL_TIMEOUT, call(&mut api, i, month, &item))
                    .await
                    .context("a call timed out")?
                    .context("a call failed")?;
                record(&mut h, started.elapsed());
                i += 1;
            }
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut all = histogram()?;
    for t in tasks {
        all.add(t.await??)?;
    }
    Ok((all.len() as f64 / seconds, all))
}

pub(crate) async fn as_of(bin: &std::path::Path, args: &Args) -> Result<()> {
    eprintln!("== reads as of a past month ({DEMO_MONTH}) against the current ({NEXT_MONTH})");
    let db = Database::fresh(crate::support::Backend::Sqlite, &args.postgres)?;
    let mut server = Server::start(bin, &db.url, SECRET, &bench_settings()).await?;
    let mut admin = import_repriced(server.addr, args).await?;
    admin
        .admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: NEXT_MONTH.into(),
        })
        .await
        .context("PublishMonth")?;
    let mut cold = Vec::new();
    for start in 0..COLD_STARTS {
        if start > 0 {
            server.stop()?;
            server = Server::start(bin, &db.url, SECRET, &bench_settings()).await?;
        }
        let mut api = Api::new(connect(server.addr, None).await?, crate::sales_agent()?);
        let started = Instant::now();
        call(&mut api, 0, DEMO_MONTH, "").await?;
        cold.push(started.elapsed());
        let started = Instant::now();
        call(&mut api, 0, DEMO_MONTH, "").await?;
        eprintln!(
            "  start {}: first {DEMO_MONTH} GetSku {:.1} ms (the month loaded), the next {:.2} ms",
            start + 1,
            cold[start].as_secs_f64() * 1000.0,
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    let mut apis = Vec::new();
    for _ in 0..args.connections.max(1) {
        apis.push(Api::new(
            connect(server.addr, None).await?,
            crate::sales_agent()?,
        ));
    }
    // A US item of both months (the same in each: only prices and limits moved).
    let item: Arc<str> = apis[0]
        .catalog
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: INTUNE.0.into(),
            sku_id: INTUNE.1.into(),
            country: "US".into(),
            month: DEMO_MONTH.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .availabilities
        .first()
        .map(|a| a.catalog_item_id.as_str().into())
        .context("Intune has no US availability in 2026-11")?;
    let concurrency = args.concurrency.first().copied().unwrap_or(16);
    let seconds = args.seconds.min(5.0);
    // Warm both (and the listings), then alternate.
    run(&apis, concurrency, args.warmup, "", &item).await?;
    run(&apis, concurrency, args.warmup, DEMO_MONTH, &item).await?;
    let (mut current, mut past) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let order: [&'static str; 2] = if round % 2 == 0 {
            ["", DEMO_MONTH]
        } else {
            [DEMO_MONTH, ""]
        };
        for month in order {
            let (rate, h) = run(&apis, concurrency, seconds, month, &item).await?;
            let line = (rate, ms(&h, 0.5), ms(&h, 0.99));
            if month.is_empty() {
                current.push(line);
            } else {
                past.push(line);
            }
        }
    }
    server.stop()?;
    let median = |v: &mut Vec<(f64, f64, f64)>, f: fn(&(f64, f64, f64)) -> f64| {
        let mut xs: Vec<f64> = v.iter().map(f).collect();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let (cr, cp50, cp99) = (
        median(&mut current, |l| l.0),
        median(&mut current, |l| l.1),
        median(&mut current, |l| l.2),
    );
    let (pr, pp50, pp99) = (
        median(&mut past, |l| l.0),
        median(&mut past, |l| l.1),
        median(&mut past, |l| l.2),
    );
    let mut cold_ms: Vec<f64> = cold.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    cold_ms.sort_by(f64::total_cmp);
    let share = pr / cr;
    println!(
        "\n## Reads as of a past month (issue 22), SQLite, {concurrency} callers over {} \
         connections, {ROUNDS} interleaved rounds of {seconds} s\n",
        apis.len()
    );
    println!("| read | req/s (median) | p50 ms | p99 ms |\n| --- | --- | --- | --- |");
    println!("| current month ({NEXT_MONTH}) | {cr:.0} | {cp50:.2} | {cp99:.2} |");
    println!("| past month ({DEMO_MONTH}), warm | {pr:.0} | {pp50:.2} | {pp99:.2} |");
    println!(
        "\nCold (first read of {DEMO_MONTH} after a start, {COLD_STARTS} starts): median {:.1} ms, \
         max {:.1} ms. Warm past month at {:.1}% of the current month's throughput: {} \
         (target: within 10%).",
        cold_ms[cold_ms.len() / 2],
        cold_ms[cold_ms.len() - 1],
        share * 100.0,
        verdict(share >= 0.9)
    );
    if !share.is_finite() {
        bail!("no call completed");
    }
    Ok(())
}
