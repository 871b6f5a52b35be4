//! The summary printed at the end: a table per scenario, with the targets and verdicts.

use crate::checkout::CheckoutResult;
use crate::flow::FlowResult;
use crate::imports::ImportResult;
use crate::subscribers::SubscriberResult;
use crate::support::{Backend, verdict};

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) flows: Vec<FlowResult>,
    pub(crate) checkouts: Vec<CheckoutResult>,
    pub(crate) pgbench_tps: Option<f64>,
    pub(crate) imports: Vec<ImportResult>,
    pub(crate) subscribers: Vec<SubscriberResult>,
    pub(crate) failures: Vec<String>,
}

impl Report {
    pub(crate) fn print(&self) {
        println!("\n## Summary\n");
        if !self.flows.is_empty() {
            println!(
                "| backend | clients | orders/s | checkout p50 | checkout p99 | flow p50 | flow p99 | orders | errors | server CPU/order | bench CPU/order | busy cores | load avg |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for f in &self.flows {
                println!(
                    "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {:.2} ms | {:.2} ms | {:.2} | {} |",
                    f.backend.label(),
                    f.concurrency,
                    f.orders_per_s,
                    f.checkout_p50,
                    f.checkout_p99,
                    f.flow_p50,
                    f.flow_p99,
                    f.orders,
                    f.errors,
                    f.server_cpu_ms,
                    f.client_cpu_ms,
                    f.busy_cores,
                    f.load
                );
            }
            println!();
        }
        if !self.checkouts.is_empty() {
            println!(
                "| Checkout alone | clients | checkouts/s | p50 | p99 | n | errors | server CPU/checkout | bench CPU/checkout | rest of machine CPU/checkout |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|");
            for c in &self.checkouts {
                println!(
                    "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
                    c.backend.label(),
                    c.concurrency,
                    c.per_s,
                    c.p50,
                    c.p99,
                    c.checkouts,
                    c.errors,
                    c.cpu.server_ms,
                    c.cpu.client_ms,
                    c.cpu.rest_ms
                );
            }
            println!();
        }
        if let Some(tps) = self.pgbench_tps {
            println!("pgbench simple-update: {tps:.0} TPS\n");
        }
        for i in &self.imports {
            println!(
                "import {} rows on {}: import {:.2} s / {:.0} MiB, changes {:.2} s / {:.0} MiB ({})",
                i.rows,
                i.backend.label(),
                i.import_s,
                i.import_mib,
                i.changes_s,
                i.changes_mib,
                i.changes
            );
        }
        for s in &self.subscribers {
            println!(
                "{} subscribers over {} connections ({}): {:.1} KiB each; {} changes; \
                 delivered {}/{}: p50 {:.0} ms p99 {:.0} ms max {:.0} ms; errors {}",
                s.subscribers,
                s.connections,
                s.label,
                s.per_subscriber_kib,
                s.changes,
                s.delivered,
                s.subscribers,
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.errors
            );
        }

        println!("\n## Targets\n");
        for f in &self.flows {
            let target = match f.backend {
                Backend::Sqlite => 1000.0,
                Backend::Postgres => 300.0,
            };
            println!(
                "- flow {} c={}: {:.0} orders/s (target >= {target:.0}): {}; errors {}: {}",
                f.backend.label(),
                f.concurrency,
                f.orders_per_s,
                verdict(f.orders_per_s >= target),
                f.errors,
                verdict(f.errors == 0)
            );
            if f.concurrency == 16 {
                println!(
                    "- checkout p99 {} c=16: {:.1} ms (target < 50 ms): {}",
                    f.backend.label(),
                    f.checkout_p99,
                    verdict(f.checkout_p99 < 50.0)
                );
            }
        }
        if let Some(tps) = self.pgbench_tps {
            for c in self
                .checkouts
                .iter()
                .filter(|c| c.backend == Backend::Postgres)
            {
                let ratio = c.per_s / tps * 100.0;
                println!(
                    "- checkout alone / pgbench: {:.0} / {tps:.0} = {ratio:.0}% (target >= 50%): {}",
                    c.per_s,
                    verdict(ratio >= 50.0)
                );
            }
        }
        for i in &self.imports {
            let total = i.import_s + i.changes_s;
            let peak = i.import_mib.max(i.changes_mib);
            println!(
                "- import + diff {} ({} rows): {total:.2} s (target < 5 s): {}; peak {peak:.0} MiB (target < 500 MB): {}",
                i.backend.label(),
                i.rows,
                verdict(total < 5.0),
                verdict(peak * 1.048_576 < 500.0)
            );
        }
        for s in &self.subscribers {
            if s.label == "multiplexed" {
                println!(
                    "- idle subscriber memory (multiplexed): {:.1} KiB (target < 20 KiB): {} \
                     ({} KiB each of the second half)",
                    s.per_subscriber_kib,
                    verdict(s.per_subscriber_kib < 20.0),
                    s.second_half_kib
                        .map_or_else(|| "-".to_owned(), |k| format!("{k:.1}"))
                );
            }
            println!(
                "- publish-to-delivery p99 ({}): {:.0} ms (target < 1 s): {}; delivered {}/{}",
                s.label,
                s.p99_ms,
                verdict(s.p99_ms < 1000.0 && s.delivered == s.subscribers),
                s.delivered,
                s.subscribers
            );
        }
        for f in &self.failures {
            println!("- FAILED: {f}");
        }
    }
}
