//! Issue 3's buying flow: customers and carts prepared through the API, then clients that each
//! create a cart, add three lines, review it (GetCart) and check out, for a fixed time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use csp_commerce::grpc::pb;
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use tonic::transport::Channel;

use crate::checkout::checkout_alone;
use crate::report::Report;
use crate::support::{
    Backend, Bearer, Database, Server, connect, cpu_sample, histogram, load_average, ms, record,
    rid,
};
use crate::{Api, Args, CALL_TIMEOUT, INTUNE, SECRET, Scenario, bench_settings, sales_agent};

/// What the buyers buy and who.
pub(crate) struct Fixture {
    /// Three non-seat-limited US commercial items.
    pub(crate) lines: Vec<pb::CartLineInput>,
    pub(crate) customers: Vec<String>,
}

pub(crate) async fn create_customers(api: &Api, n: usize) -> Result<Vec<String>> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let created = futures::stream::iter(0..n)
        .map(|i| {
            let mut api = api.clone();
            let run = run.clone();
            async move {
                let customer = api
                    .customers
                    .create_customer(pb::CreateCustomerRequest {
                        request_id: rid(),
                        company_name: format!("Bench Customer {i}"),
                        country: "US".into(),
                        email: format!("it{i}@bench-{run}.example.com"),
                        domain: format!("bench{i}x{}.onmicrosoft.com", &run[..8]),
                    })
                    .await?
                    .into_inner()
                    .customer
                    .ok_or_else(|| anyhow!("CreateCustomer answered no customer"))?;
                api.customers
                    .accept_agreement(pb::AcceptAgreementRequest {
                        request_id: rid(),
                        customer_id: customer.id.clone(),
                        etag: customer.etag.clone(),
                        contact_name: "Bench Contact".into(),
                        contact_email: format!("contact{i}@bench.example.com"),
                        accept_time: None,
                    })
                    .await?;
                anyhow::Ok(customer.id)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    created.into_iter().collect()
}

/// The cart line for a SKU's US commercial availability if `customer` may buy it.
pub(crate) async fn line_for(
    api: &mut Api,
    sku: &pb::Sku,
    customer: &str,
) -> Result<Option<pb::CartLineInput>> {
    let availabilities = api
        .catalog
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: sku.product_id.clone(),
            sku_id: sku.id.clone(),
            country: "US".into(),
            segment: pb::Segment::Commercial as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .availabilities;
    let Some(availability) = availabilities.iter().find(|a| a.end_of_sale.is_none()) else {
        return Ok(None);
    };
    let Some(term) = availability.terms.first() else {
        return Ok(None);
    };
    let line = pb::CartLineInput {
        catalog_item_id: availability.catalog_item_id.clone(),
        quantity: sku.min_quantity.max(1),
        term: term.term,
        billing_cycle: term.billing_cycle,
        provisioning_context: None,
    };
    let check = api
        .catalog
        .check_purchasability(pb::CheckPurchasabilityRequest {
            month: String::new(),
            customer_id: customer.into(),
            catalog_item_id: line.catalog_item_id.clone(),
            quantity: line.quantity,
            term: line.term,
            billing_cycle: line.billing_cycle,
        })
        .await?
        .into_inner();
    Ok(check.purchasable.then_some(line))
}

/// Creates the customers and picks Intune plus two other SKUs without any limit.
pub(crate) async fn prepare_fixture(api: &Api, customers: usize) -> Result<Fixture> {
    let started = Instant::now();
    let customers = create_customers(api, customers).await?;
    let first = customers
        .first()
        .ok_or_else(|| anyhow!("no customers"))?
        .clone();
    let mut api = api.clone();
    let skus = api
        .catalog
        .list_products(pb::ListProductsRequest {
            month: String::new(),
            filter: Some(pb::CatalogFilter {
                country: "US".into(),
                segment: pb::Segment::Commercial as i32,
                product_type: pb::ProductType::OnlineServices as i32,
                trial: pb::TrialFilter::NoTrials as i32,
                ..Default::default()
            }),
            view: pb::CatalogView::Sku as i32,
            page_size: 500,
            page_token: String::new(),
        })
        .await?
        .into_inner()
        .skus;
    let unlimited = |s: &&pb::Sku| {
        s.seat_limit.is_none()
            && s.seat_limit_type.is_empty()
            && !s.is_addon
            && !s.is_trial
            && s.provisioning_variables.is_empty()
            && s.prerequisites.is_empty()
    };
    let intune = skus
        .iter()
        .find(|s| (s.product_id.as_str(), s.id.as_str()) == INTUNE)
        .ok_or_else(|| anyhow!("Intune {INTUNE:?} is not sold in the US"))?;
    if !unlimited(&intune) {
        bail!("Intune has a limit: {intune:?}");
    }
    let mut lines = Vec::new();
    let mut chosen = Vec::new();
    let candidates = std::iter::once(intune).chain(
        skus.iter()
            .filter(unlimited)
            .filter(|s| s.product_id != INTUNE.0),
    );
    for sku in candidates {
        if lines.len() == 3 {
            break;
        }
        if chosen
            .iter()
            .any(|(p, _): &(String, String)| *p == sku.product_id)
        {
            continue;
        }
        if let Some(line) = line_for(&mut api, sku, &first).await? {
            chosen.push((sku.product_id.clone(), sku.id.clone()));
            eprintln!(
                "  line {}: {} {} x{} ({})",
                lines.len() + 1,
                line.catalog_item_id,
                sku.title,
                line.quantity,
                pb::TermDuration::try_from(line.term).map_or("?", |t| t.as_str_name())
            );
            lines.push(line);
        }
    }
    if lines.len() < 3 {
        bail!("found only {} purchasable non-limited SKUs", lines.len());
    }
    eprintln!(
        "  {} customers created and 3 SKUs chosen in {:.1} s",
        customers.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Fixture { lines, customers })
}

pub(crate) fn status(what: &str) -> impl Fn(tonic::Status) -> tonic::Status + '_ {
    move |s| tonic::Status::new(s.code(), format!("{what}: {}", s.message()))
}

fn missing(what: &str) -> tonic::Status {
    tonic::Status::internal(format!("{what} answered no cart"))
}

/// create cart, add 3 lines, GetCart review, Checkout: (whole flow, checkout) latencies.
async fn buy(
    api: &mut Api,
    customer: &str,
    lines: &[pb::CartLineInput],
) -> Result<(Duration, Duration), tonic::Status> {
    let started = Instant::now();
    let cart = api
        .carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer.into(),
            lines: Vec::new(),
        })
        .await
        .map_err(status("CreateCart"))?
        .into_inner()
        .cart
        .ok_or_else(|| missing("CreateCart"))?;
    let id = cart.id;
    let mut etag = cart.etag;
    for line in lines {
        etag = api
            .carts
            .add_cart_line(pb::AddCartLineRequest {
                request_id: rid(),
                cart_id: id.clone(),
                etag,
                line: Some(line.clone()),
            })
            .await
            .map_err(status("AddCartLine"))?
            .into_inner()
            .cart
            .ok_or_else(|| missing("AddCartLine"))?
            .etag;
    }
    let reviewed = api
        .carts
        .get_cart(pb::GetCartRequest {
            cart_id: id.clone(),
        })
        .await
        .map_err(status("GetCart"))?
        .into_inner()
        .cart
        .ok_or_else(|| missing("GetCart"))?;
    let problems: Vec<&str> = reviewed
        .problems
        .iter()
        .chain(reviewed.lines.iter().flat_map(|l| &l.problems))
        .map(|p| p.code().as_str_name())
        .collect();
    if !problems.is_empty() || reviewed.lines.len() != lines.len() {
        return Err(tonic::Status::failed_precondition(format!(
            "review: {} lines, problems {problems:?}",
            reviewed.lines.len()
        )));
    }
    let checkout = Instant::now();
    api.carts
        .checkout(pb::CheckoutRequest {
            request_id: rid(),
            cart_id: id,
            etag: reviewed.etag,
        })
        .await
        .map_err(status("Checkout"))?;
    Ok((started.elapsed(), checkout.elapsed()))
}

/// One task's results.
pub(crate) struct Tally {
    pub(crate) flow: Histogram<u64>,
    pub(crate) checkout: Histogram<u64>,
    pub(crate) done: u64,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
}

impl Tally {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            flow: histogram()?,
            checkout: histogram()?,
            done: 0,
            errors: 0,
            first_error: None,
        })
    }

    pub(crate) fn error(&mut self, e: tonic::Status) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{:?}: {}", e.code(), e.message()));
        }
    }

    pub(crate) fn merge(&mut self, other: Tally) -> Result<()> {
        self.flow.add(&other.flow)?;
        self.checkout.add(&other.checkout)?;
        self.done += other.done;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FlowResult {
    pub(crate) backend: Backend,
    pub(crate) concurrency: usize,
    pub(crate) orders_per_s: f64,
    pub(crate) checkout_p50: f64,
    pub(crate) checkout_p99: f64,
    pub(crate) flow_p50: f64,
    pub(crate) flow_p99: f64,
    pub(crate) orders: u64,
    pub(crate) errors: u64,
    pub(crate) load: String,
    /// Server and load-generator CPU milliseconds per order, and the machine's busy cores.
    pub(crate) server_cpu_ms: f64,
    pub(crate) client_cpu_ms: f64,
    pub(crate) busy_cores: f64,
}

/// The buying scenarios on one server of `backend`.
pub(crate) async fn buying(
    bin: &Path,
    args: &Args,
    backend: Backend,
    wants: &impl Fn(Scenario) -> bool,
    report: &mut Report,
) -> Result<()> {
    eprintln!("== buying on {}", backend.label());
    let db = Database::fresh(backend, &args.postgres)?;
    let mut server = Server::start(bin, &db.url, SECRET, &bench_settings()).await?;
    let agent = sales_agent()?;
    let api = Api::new(
        connect(server.addr, Some(CALL_TIMEOUT)).await?,
        agent.clone(),
    );
    let fixture = Arc::new(prepare_fixture(&api, args.customers).await?);
    let channels = {
        let mut channels = Vec::new();
        for _ in 0..args.connections.max(1) {
            channels.push(connect(server.addr, Some(CALL_TIMEOUT)).await?);
        }
        channels
    };
    if wants(Scenario::Flow) {
        for &concurrency in &args.concurrency {
            let pid = server.pid();
            let r = flow(&channels, &agent, &fixture, backend, concurrency, args, pid).await?;
            println!(
                "flow      {:<10} c={:<3} {:>7.1} orders/s  checkout p50 {:>6.1} ms p99 {:>6.1} ms  \
                 flow p50 {:>6.1} ms p99 {:>6.1} ms  orders {} errors {}",
                backend.label(),
                concurrency,
                r.orders_per_s,
                r.checkout_p50,
                r.checkout_p99,
                r.flow_p50,
                r.flow_p99,
                r.orders,
                r.errors
            );
            report.flows.push(r);
        }
    }
    if wants(Scenario::Checkout) {
        let pid = server.pid();
        let r = checkout_alone(&channels, &agent, &fixture, backend, args, pid).await?;
        println!(
            "checkout  {:<10} c={:<3} {:>7.1} checkouts/s  p50 {:>6.1} ms p99 {:>6.1} ms  n {} errors {}  \
             CPU/checkout: server {:.2} ms, bench {:.2} ms, rest of machine {:.2} ms",
            backend.label(),
            r.concurrency,
            r.per_s,
            r.p50,
            r.p99,
            r.checkouts,
            r.errors,
            r.cpu.server_ms,
            r.cpu.client_ms,
            r.cpu.rest_ms
        );
        report.checkouts.push(r);
    }
    server.stop()?;
    drop(db);
    Ok(())
}

pub(crate) async fn flow(
    channels: &[Channel],
    agent: &Bearer,
    fixture: &Arc<Fixture>,
    backend: Backend,
    concurrency: usize,
    args: &Args,
    server_pid: u32,
) -> Result<FlowResult> {
    let load = load_average();
    let measure_from = Instant::now() + Duration::from_secs_f64(args.warmup);
    let until = measure_from + Duration::from_secs_f64(args.seconds);
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let before = cpu_sample(server_pid);
        tokio::time::sleep_until(until.into()).await;
        let after = cpu_sample(server_pid);
        before.zip(after)
    });
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut api = Api::new(channels[w % channels.len()].clone(), agent.clone());
        let fixture = fixture.clone();
        // Each task has customers of its own: checkouts of one customer are serialized.
        let mine: Vec<String> = fixture
            .customers
            .iter()
            .skip(w % fixture.customers.len())
            .step_by(concurrency)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            for customer in mine.iter().cycle() {
                if Instant::now() >= until {
                    break;
                }
                let result = buy(&mut api, customer, &fixture.lines).await;
                let done = Instant::now();
                if done < measure_from || done > until {
                    continue;
                }
                match result {
                    Ok((whole, checkout)) => {
                        tally.done += 1;
                        record(&mut tally.flow, whole);
                        record(&mut tally.checkout, checkout);
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
    if let Some(e) = &total.first_error {
        eprintln!("  first error: {e}");
    }
    let orders = total.done.max(1) as f64;
    let (server_cpu_ms, client_cpu_ms, busy_cores) = match cpu.await? {
        Some((a, b)) => (
            (b.0 - a.0) * 1000.0 / orders,
            (b.1 - a.1) * 1000.0 / orders,
            (b.2 - a.2) / args.seconds,
        ),
        None => (f64::NAN, f64::NAN, f64::NAN),
    };
    eprintln!(
        "  CPU per order: server {server_cpu_ms:.2} ms, load generator {client_cpu_ms:.2} ms; \
         machine busy {busy_cores:.2} cores of {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(FlowResult {
        server_cpu_ms,
        client_cpu_ms,
        busy_cores,
        backend,
        concurrency,
        orders_per_s: total.done as f64 / args.seconds,
        checkout_p50: ms(&total.checkout, 0.5),
        checkout_p99: ms(&total.checkout, 0.99),
        flow_p50: ms(&total.flow, 0.5),
        flow_p99: ms(&total.flow, 0.99),
        orders: total.done,
        errors: total.errors,
        load,
    })
}
