//! Issue 21: the full-size month (`fullsize.rs` generates it) on each backend: import, diff
//! (`changes`) and publish with the CLI under `/usr/bin/time`, then the same for the month
//! after it (some SKUs repriced, some ended, some new: its diff walks both full-size months and
//! its publish writes their changes; `--fullsize-first-only` skips it), then `serve` on it
//! twice: without a snapshot file (the month read from the store) and on the file that start
//! wrote, each with its time to ready and RSS; on the second, the catalog read mix at that size and on a demo-size server in the same run, and the first page of new
//! text filters.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use csp_commerce::grpc::pb;
use pb::catalog_service_client::CatalogServiceClient;
use prost::Message;

use crate::fullsize::{GeneratedMonth, MonthShape, NextMonth, generate, generate_next};
use crate::imports::timed;
use crate::support::{Backend, Database, Server, connect, histogram, ms, record};
use crate::{Args, CALL_TIMEOUT, SECRET, sales_agent};

/// Concurrent callers of the read mix, over `CONNECTIONS` connections.
const CALLERS: usize = 16;
const CONNECTIONS: usize = 4;
/// Text filters no earlier call used: each first page is a listing made for it.
const NEW_TEXTS: &[&str] = &[
    "e3",
    "premium",
    "plan",
    "for",
    "microsoft",
    "365 e5",
    "teams phone",
    "nonprofit",
    "frontline",
    "tier 3",
    "cfq7",
    "zzz",
];

/// The full-size month and the month after it.
pub(crate) struct Months {
    pub first: GeneratedMonth,
    pub next: GeneratedMonth,
}

/// Generates both months once for every backend (in `dir` and `dir/next`), or reuses what an
/// earlier run generated there for the same shape (`generated.txt` records it).
pub(crate) fn months(args: &Args, dir: &Path) -> Result<Months> {
    let shape = MonthShape {
        markets: args.fullsize_markets,
        rows_per_market: args.fullsize_rows,
        ..MonthShape::FULL
    };
    let next_dir = dir.join("next");
    std::fs::create_dir_all(&next_dir)?;
    let first = generated(dir, &format!("{shape:?}"), || generate(dir, &shape))?;
    let next = generated(
        &next_dir,
        &format!("{shape:?} {:?}", NextMonth::FULL),
        || generate_next(&next_dir, &shape, &NextMonth::FULL),
    )?;
    Ok(Months { first, next })
}

/// The month `make` writes into `dir`, or the one already there for the same `key`.
fn generated(
    dir: &Path,
    key: &str,
    make: impl FnOnce() -> std::io::Result<GeneratedMonth>,
) -> Result<GeneratedMonth> {
    let stamp = dir.join("generated.txt");
    if let Ok(text) = std::fs::read_to_string(&stamp)
        && let Some((recorded, counts)) = text.split_once('\n')
        && recorded == key
    {
        let n: Vec<u64> = counts
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if let [products, skus, rows, availabilities, bytes, markets] = n[..] {
            let markets: Vec<&'static str> = celes::Country::get_countries()
                .iter()
                .map(|c| c.alpha2)
                .take(markets as usize)
                .collect();
            eprintln!("== reusing the month generated in {}", dir.display());
            return Ok(GeneratedMonth {
                offer_matrix: dir.join("offer-matrix.csv"),
                price_lists: markets
                    .iter()
                    .map(|m| dir.join(format!("pricelist-{m}.csv")))
                    .collect(),
                markets,
                products: products as usize,
                skus: skus as usize,
                rows,
                availabilities,
                bytes,
            });
        }
    }
    let started = Instant::now();
    let month = make()?;
    eprintln!(
        "== generated {} markets, {} rows, {} availabilities, {} SKUs of {} products, {:.0} MiB in {:.1} s",
        month.markets.len(),
        month.rows,
        month.availabilities,
        month.skus,
        month.products,
        month.bytes as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    std::fs::write(
        &stamp,
        format!(
            "{key}\n{} {} {} {} {} {}\n",
            month.products,
            month.skus,
            month.rows,
            month.availabilities,
            month.bytes,
            month.markets.len()
        ),
    )?;
    Ok(month)
}

/// Import, changes and publish of `month` with the CLI: (seconds, peak MiB) of each.
type Steps = [(f64, f64); 3];

fn import_steps(bin: &Path, url: &str, name: &str, month: &GeneratedMonth) -> Result<Steps> {
    let mut import = vec![
        "import".to_owned(),
        "--month".to_owned(),
        name.to_owned(),
        "--offer-matrix".to_owned(),
        month.offer_matrix.display().to_string(),
    ];
    for list in &month.price_lists {
        import.push("--price-list".into());
        import.push(list.display().to_string());
    }
    let env = limits_for(month);
    let mut steps = [(0.0, 0.0); 3];
    let month_args = |verb: &str| vec![verb.to_owned(), "--month".to_owned(), name.to_owned()];
    for (i, cli) in [import, month_args("changes"), month_args("publish")]
        .iter()
        .enumerate()
    {
        let (s, mib, _) = timed(bin, url, cli, &env)?;
        eprintln!("  {name} {} {s:.1} s, {mib:.0} MiB", cli[0]);
        steps[i] = (s, mib);
    }
    Ok(steps)
}

pub(crate) async fn catalog_size(
    bin: &Path,
    args: &Args,
    backend: Backend,
    months: &Months,
) -> Result<()> {
    eprintln!("== full-size catalog on {}", backend.label());
    let db = Database::fresh(backend, &args.postgres)?;
    let (url, reused) = match &args.fullsize_sqlite {
        Some(file) if backend == Backend::Sqlite => {
            (format!("sqlite://{}", file.display()), file.exists())
        }
        _ => (db.url.clone(), false),
    };
    let (first, next) = if reused {
        eprintln!("  reusing {url}: import, changes and publish not measured");
        ([(0.0, 0.0); 3], [(0.0, 0.0); 3])
    } else {
        let first = import_steps(bin, &url, MonthShape::FULL.month, &months.first)?;
        match args.fullsize_first_only {
            true => (first, [(0.0, 0.0); 3]),
            false => (
                first,
                import_steps(bin, &url, NextMonth::FULL.month, &months.next)?,
            ),
        }
    };
    let steps = |name: &str, rows: u64, [import, changes, publish]: Steps| {
        format!(
            "{name} ({rows} rows): import {:.1} s / {:.0} MiB, changes {:.1} s / {:.0} MiB, \
             publish {:.1} s / {:.0} MiB, total {:.1} s",
            import.0,
            import.1,
            changes.0,
            changes.1,
            publish.0,
            publish.1,
            import.0 + changes.0 + publish.0,
        )
    };
    let months_done = format!(
        "{}, {} availabilities; {}",
        steps(MonthShape::FULL.month, months.first.rows, first),
        months.first.availabilities,
        steps(NextMonth::FULL.month, months.next.rows, next),
    );
    if args.fullsize_import_only {
        println!("fullsize  {:<10} {months_done}", backend.label());
        return Ok(());
    }

    // Cold: no snapshot file, the month read from the store (and the file written after).
    // Warm: a second start on that file.
    let snapshots = tempfile::tempdir()?;
    let snapshot_env = [(
        "CSP_CATALOG_SNAPSHOT_DIR",
        snapshots.path().display().to_string(),
    )];
    let file = snapshots.path().join("catalog-snapshot");
    let started = Instant::now();
    let mut server = Server::start(bin, &url, SECRET, &snapshot_env).await?;
    let cold_s = started.elapsed().as_secs_f64();
    let cold_rss_mib = server.status_kib("VmRSS")? as f64 / 1024.0;
    eprintln!("  serve, no snapshot file: ready in {cold_s:.1} s, RSS {cold_rss_mib:.0} MiB");
    let written = Instant::now();
    while !file.exists() {
        if written.elapsed() > Duration::from_secs(300) {
            bail!("no snapshot file written within 300 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let file_mib = std::fs::metadata(&file)?.len() as f64 / (1 << 20) as f64;
    eprintln!(
        "  snapshot file: {file_mib:.0} MiB, written {:.1} s after ready",
        written.elapsed().as_secs_f64()
    );
    server.stop()?;
    let started = Instant::now();
    let mut server = Server::start(bin, &url, SECRET, &snapshot_env).await?;
    let ready_s = started.elapsed().as_secs_f64();
    let rss_mib = server.status_kib("VmRSS")? as f64 / 1024.0;
    eprintln!("  serve on the snapshot file: ready in {ready_s:.1} s, RSS {rss_mib:.0} MiB");
    let full_reads = reads(&server, args).await?;
    let new_text_ms = new_texts(&server).await?;
    server.stop()?;
    drop(db);

    let demo_db = Database::fresh(backend, &args.postgres)?;
    let mut demo = Server::start(bin, &demo_db.url, SECRET, &[]).await?;
    let demo_reads = reads(&demo, args).await?;
    demo.stop()?;
    println!(
        "fullsize  {:<10} {months_done}; ready without a snapshot file {:.1} s, RSS {:.0} MiB; \
         snapshot file {:.0} MiB; ready on it {:.1} s, RSS {:.0} MiB; reads {:.0}/s p99 {:.2} ms \
         (demo size {:.0}/s p99 {:.2} ms: {:.0}%); new text filter first page median {:.1} ms, max {:.1} ms",
        backend.label(),
        cold_s,
        cold_rss_mib,
        file_mib,
        ready_s,
        rss_mib,
        full_reads.0,
        full_reads.1,
        demo_reads.0,
        demo_reads.1,
        100.0 * full_reads.0 / demo_reads.0.max(f64::MIN_POSITIVE),
        new_text_ms.0,
        new_text_ms.1,
    );
    Ok(())
}

/// The import caps raised to the generated month's size.
fn limits_for(month: &GeneratedMonth) -> Vec<(&'static str, String)> {
    let bytes = (month.bytes + (64 << 20)).max(1 << 30);
    vec![
        ("CSP_IMPORT_MAX_MONTH_BYTES", bytes.to_string()),
        ("CSP_IMPORT_MAX_FILE_BYTES", bytes.to_string()),
    ]
}

/// The country every read asks for: sold in the demo month and, normally, the generated one.
const COUNTRY: &str = "US";

fn read_request(i: usize) -> pb::ListProductsRequest {
    let (view, filter) = match i % 3 {
        0 => (pb::CatalogView::Product, pb::CatalogFilter::default()),
        1 => (pb::CatalogView::Sku, pb::CatalogFilter::default()),
        _ => (
            pb::CatalogView::Product,
            pb::CatalogFilter {
                segment: pb::Segment::Education.into(),
                ..Default::default()
            },
        ),
    };
    pb::ListProductsRequest {
        month: String::new(),
        filter: Some(pb::CatalogFilter {
            country: COUNTRY.into(),
            ..filter
        }),
        view: view.into(),
        page_size: 20,
        page_token: String::new(),
    }
}

/// The kinds of call in the read mix, in `read_request`'s order.
const KINDS: [&str; 3] = ["product view", "SKU view", "education, product view"];

/// The read mix (product view, SKU view, a segment, 20 rows a page) from `CALLERS` callers:
/// calls a second and p99 in ms over `--seconds` after `--warmup`; each kind's p50 and mean
/// answer size are printed.
async fn reads(server: &Server, args: &Args) -> Result<(f64, f64)> {
    let bearer = sales_agent()?;
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let channel = connect(server.addr, Some(CALL_TIMEOUT)).await?;
        clients.push(CatalogServiceClient::with_interceptor(
            channel,
            bearer.clone(),
        ));
    }
    let recording = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for caller in 0..CALLERS {
        let mut client = clients[caller % CONNECTIONS].clone();
        let (recording, stop) = (recording.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut kinds = [histogram()?, histogram()?, histogram()?];
            let mut bytes = [0usize; KINDS.len()];
            let mut i = caller;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answer = client.list_products(read_request(i)).await?;
                if recording.load(Ordering::Relaxed) {
                    record(&mut kinds[i % KINDS.len()], started.elapsed());
                    bytes[i % KINDS.len()] += answer.get_ref().encoded_len();
                }
                i += 1;
            }
            anyhow::Ok((kinds, bytes))
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    recording.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    recording.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = histogram()?;
    let mut kinds = [histogram()?, histogram()?, histogram()?];
    let mut bytes = [0usize; KINDS.len()];
    for task in tasks {
        let (k, b) = task.await??;
        for i in 0..KINDS.len() {
            all.add(&k[i])?;
            kinds[i].add(&k[i])?;
            bytes[i] += b[i];
        }
    }
    if all.is_empty() {
        bail!("no read completed");
    }
    for (i, kind) in KINDS.iter().enumerate() {
        eprintln!(
            "  {kind}: p50 {:.2} ms, p99 {:.2} ms, answer {} B",
            ms(&kinds[i], 0.5),
            ms(&kinds[i], 0.99),
            bytes[i] / (kinds[i].len() as usize).max(1)
        );
    }
    Ok((all.len() as f64 / elapsed, ms(&all, 0.99)))
}

/// The first page of each of `NEW_TEXTS`, one at a time: median and max ms.
async fn new_texts(server: &Server) -> Result<(f64, f64)> {
    let channel = connect(server.addr, Some(CALL_TIMEOUT)).await?;
    let mut client = CatalogServiceClient::with_interceptor(channel, sales_agent()?);
    let mut took = Vec::new();
    for text in NEW_TEXTS {
        let started = Instant::now();
        let page = client
            .list_products(pb::ListProductsRequest {
                month: String::new(),
                filter: Some(pb::CatalogFilter {
                    text: (*text).into(),
                    ..Default::default()
                }),
                view: pb::CatalogView::Product.into(),
                page_size: 20,
                page_token: String::new(),
            })
            .await?
            .into_inner();
        let t = started.elapsed().as_secs_f64() * 1000.0;
        eprintln!(
            "  text {text:?}: {} products, first page {t:.1} ms",
            page.total_size
        );
        took.push(t);
    }
    took.sort_by(f64::total_cmp);
    Ok((took[took.len() / 2], took[took.len() - 1]))
}

/// Where the month is written: `--fullsize-dir`, or a temp folder.
pub(crate) fn month_dir(args: &Args) -> Result<(Option<tempfile::TempDir>, PathBuf)> {
    match &args.fullsize_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            Ok((None, dir.clone()))
        }
        None => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().to_owned();
            Ok((Some(dir), path))
        }
    }
}
