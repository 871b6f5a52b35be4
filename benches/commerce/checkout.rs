//! Checkout alone on prepared carts, and PostgreSQL's own ceiling on the same machine
//! (`pgbench -b simple-update`).

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use csp_commerce::grpc::pb;
use futures::StreamExt as _;
use tonic::transport::Channel;

use crate::flow::{Fixture, Tally};
use crate::support::{Backend, Bearer, cpu_sample, load_average, ms, psql, record, rid};
use crate::{Api, Args};

#[derive(Debug, Clone)]
pub(crate) struct CheckoutResult {
    pub(crate) backend: Backend,
    pub(crate) concurrency: usize,
    pub(crate) per_s: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) checkouts: u64,
    pub(crate) errors: u64,
    pub(crate) cpu: CpuPerCall,
}

/// CPU milliseconds per call: the server's, the load generator's, and the rest of the
/// machine's (PostgreSQL's backends, mostly, on that backend).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuPerCall {
    pub(crate) server_ms: f64,
    pub(crate) client_ms: f64,
    pub(crate) rest_ms: f64,
}

impl CpuPerCall {
    pub(crate) fn between(
        before: Option<(f64, f64, f64)>,
        after: Option<(f64, f64, f64)>,
        calls: u64,
    ) -> Self {
        let calls = calls.max(1) as f64;
        match before.zip(after) {
            Some((a, b)) => {
                let (server, client, busy) = (b.0 - a.0, b.1 - a.1, b.2 - a.2);
                Self {
                    server_ms: server * 1000.0 / calls,
                    client_ms: client * 1000.0 / calls,
                    rest_ms: (busy - server - client).max(0.0) * 1000.0 / calls,
                }
            }
            None => Self {
                server_ms: f64::NAN,
                client_ms: f64::NAN,
                rest_ms: f64::NAN,
            },
        }
    }
}

/// Checkout alone: `--carts` carts of the fixture's lines prepared first, then checked out by
/// `--checkout-concurrency` tasks, each on its own customers.
pub(crate) async fn checkout_alone(
    channels: &[Channel],
    agent: &Bearer,
    fixture: &Arc<Fixture>,
    backend: Backend,
    args: &Args,
    server_pid: u32,
) -> Result<CheckoutResult> {
    let concurrency = args.checkout_concurrency.max(1);
    let started = Instant::now();
    // Prepare the carts (3 lines each), at 16 in flight.
    let n_customers = fixture.customers.len();
    let prepared = futures::stream::iter(0..args.carts)
        .map(|i| {
            let mut api = Api::new(channels[i % channels.len()].clone(), agent.clone());
            let customer = i % n_customers;
            let request = pb::CreateCartRequest {
                request_id: rid(),
                customer_id: fixture.customers[customer].clone(),
                lines: fixture.lines.clone(),
            };
            async move {
                let cart = api
                    .carts
                    .create_cart(request)
                    .await?
                    .into_inner()
                    .cart
                    .ok_or_else(|| anyhow!("CreateCart answered no cart"))?;
                anyhow::Ok((customer, cart.id, cart.etag))
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "  {} carts prepared in {:.1} s",
        prepared.len(),
        started.elapsed().as_secs_f64()
    );
    // Each task checks out the carts of its own customers, customers interleaved.
    let mut queues: Vec<Vec<(String, String)>> = vec![Vec::new(); concurrency];
    for (customer, id, etag) in prepared {
        queues[customer % concurrency].push((id, etag));
    }
    let load = load_average();
    let cpu_before = cpu_sample(server_pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, queue) in queues.into_iter().enumerate() {
        let mut api = Api::new(channels[w % channels.len()].clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            for (cart_id, etag) in queue {
                let t = Instant::now();
                match api
                    .carts
                    .checkout(pb::CheckoutRequest {
                        request_id: rid(),
                        cart_id,
                        etag,
                    })
                    .await
                {
                    Ok(_) => {
                        tally.done += 1;
                        record(&mut tally.checkout, t.elapsed());
                    }
                    Err(e) => tally.error(e),
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await??)?;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = CpuPerCall::between(cpu_before, cpu_sample(server_pid), total.done);
    if let Some(e) = &total.first_error {
        eprintln!("  first error: {e}");
    }
    eprintln!("  load average before the checkouts: {load}");
    Ok(CheckoutResult {
        backend,
        concurrency,
        per_s: total.done as f64 / wall,
        p50: ms(&total.checkout, 0.5),
        p99: ms(&total.checkout, 0.99),
        checkouts: total.done,
        errors: total.errors,
        cpu,
    })
}

/// `pgbench -i -s 10` then `pgbench -b simple-update -c 8 -j 2 -T <s>`: transactions/s.
pub(crate) fn pgbench(args: &Args) -> Result<f64> {
    eprintln!("== pgbench");
    let name = format!("bench_pgb_{}", uuid::Uuid::new_v4().simple());
    psql(&args.postgres, &format!("CREATE DATABASE {name}"))?;
    let run = |extra: &[&str]| -> Result<String> {
        let out = Command::new("pgbench")
            .args(extra)
            .args(["-h", "127.0.0.1", "-U", "postgres", &name])
            .output()
            .context("running pgbench")?;
        if !out.status.success() {
            bail!("pgbench: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let result = run(&["-i", "-s", "10", "-q"]).and_then(|_| {
        run(&[
            "-b",
            "simple-update",
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            &args.pgbench_seconds.to_string(),
        ])
    });
    let _ = psql(
        &args.postgres,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    let out = result?;
    let tps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("no `tps = ` line in pgbench's output:\n{out}"))?;
    println!(
        "pgbench   simple-update -c 8 -j 2 -T {}: {tps:.0} TPS",
        args.pgbench_seconds
    );
    Ok(tps)
}
