//! Issue 19: the buying flow and catalog reads through HAProxy (`deploy/haproxy/haproxy.cfg`)
//! in front of 1 and then 3 release replicas on one PostgreSQL database.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use csp_commerce::grpc::pb;
use tonic::transport::Channel;

use crate::flow::{flow, prepare_fixture};
use crate::support::{
    Backend, Database, Server, connect, free_port, histogram, load_average, ms, record,
};
use crate::{Api, Args, CALL_TIMEOUT, SECRET, bench_settings, sales_agent};

/// HAProxy running `deploy/haproxy/haproxy.cfg` in front of `replicas` (one address may
/// fill several of its server lines); killed when dropped.
struct Haproxy {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    fn start(replicas: &[SocketAddr]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy/haproxy.cfg");
        let mut config = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .replace("{{FRONT}}", &addr.to_string())
            .replace("{{RUN_DIR}}", &dir.path().display().to_string());
        for n in 1..=3 {
            let replica = replicas[(n - 1) % replicas.len()];
            config = config.replace(&format!("{{{{REPLICA_{n}}}}}"), &replica.to_string());
        }
        let cfg = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg, config)?;
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting haproxy (apt-get install -y haproxy)")?;
        Ok(Self {
            child,
            addr,
            _dir: dir,
        })
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Catalog reads (GetProduct, ListProducts of 20 in turn) from `concurrency` tasks over
/// `channels`: (req/s, p50 ms, p99 ms, errors).
async fn reads(
    channels: &[Channel],
    concurrency: usize,
    args: &Args,
) -> Result<(f64, f64, f64, u64)> {
    let agent = sales_agent()?;
    let start = Instant::now() + Duration::from_secs_f64(args.warmup);
    let until = start + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut api = Api::new(channels[w % channels.len()].clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram()?;
            let (mut errors, mut i) = (0u64, 0u64);
            while Instant::now() < until {
                i += 1;
                let sent = Instant::now();
                let ok = match i % 2 {
                    0 => api
                        .catalog
                        .get_product(pb::GetProductRequest {
                            month: String::new(),
                            product_id: "CFQ7TTC0RDXR".into(),
                        })
                        .await
                        .is_ok(),
                    _ => api
                        .catalog
                        .list_products(pb::ListProductsRequest {
                            page_size: 20,
                            ..Default::default()
                        })
                        .await
                        .is_ok(),
                };
                if sent >= start && Instant::now() <= until {
                    match ok {
                        true => record(&mut h, sent.elapsed()),
                        false => errors += 1,
                    }
                }
            }
            anyhow::Ok((h, errors))
        }));
    }
    let mut all = histogram()?;
    let mut errors = 0;
    for task in tasks {
        let (h, e) = task.await??;
        all.add(&h)?;
        errors += e;
    }
    let per_s = all.len() as f64 / args.seconds;
    Ok((per_s, ms(&all, 0.5), ms(&all, 0.99), errors))
}

/// The flow and the reads through HAProxy, against 1 replica and then 3, each set on a fresh
/// PostgreSQL database.
pub(crate) async fn fleet(bin: &Path, args: &Args) -> Result<()> {
    for replicas in [1usize, 3] {
        eprintln!("== fleet: {replicas} replica(s) behind HAProxy");
        let db = Database::fresh(Backend::Postgres, &args.postgres)?;
        let env = bench_settings();
        // The first replica seeds the empty database alone.
        let mut servers = vec![Server::start(bin, &db.url, SECRET, &env).await?];
        for _ in 1..replicas {
            servers.push(Server::start(bin, &db.url, SECRET, &env).await?);
        }
        let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
        let haproxy = Haproxy::start(&addrs)?;
        // Its first health checks (every 500 ms, two passes to be UP once seen DOWN).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let channels = {
            let mut channels = Vec::new();
            for _ in 0..args.connections.max(1) {
                channels.push(connect(haproxy.addr, Some(CALL_TIMEOUT)).await?);
            }
            channels
        };
        let api = Api::new(channels[0].clone(), sales_agent()?);
        let fixture = Arc::new(prepare_fixture(&api, args.customers).await?);
        for &concurrency in &args.concurrency {
            let load = load_average();
            let r = flow(
                &channels,
                &sales_agent()?,
                &fixture,
                Backend::Postgres,
                concurrency,
                args,
                servers[0].pid(),
            )
            .await?;
            let (reads_per_s, p50, p99, read_errors) = reads(&channels, concurrency, args).await?;
            println!(
                "fleet     replicas={replicas} c={concurrency:<3} flow {:>7.1} orders/s  checkout p99 {:>6.1} ms  \
                 flow p99 {:>6.1} ms  errors {} | reads {reads_per_s:>8.0} req/s  p50 {p50:>5.2} ms  \
                 p99 {p99:>6.2} ms  errors {read_errors} | load {load}",
                r.orders_per_s, r.checkout_p99, r.flow_p99, r.errors
            );
            if r.errors + read_errors > 0 {
                bail!("{} flow and {read_errors} read errors", r.errors);
            }
        }
        drop(haproxy);
        for server in &mut servers {
            server.stop()?;
        }
        drop(db);
    }
    Ok(())
}
