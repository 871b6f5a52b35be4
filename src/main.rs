//! Wiring only: arguments -> settings -> telemetry -> application -> run until a signal.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use csp_commerce::config::{Overrides, Settings};
use csp_commerce::domain::catalog::Month;
use csp_commerce::domain::customer::Role;
use csp_commerce::import::Source;
use csp_commerce::import::files::open_regular;
use csp_commerce::service::SystemClock;
use csp_commerce::service::catalog::{CatalogService, ImportError};
use csp_commerce::service::customers::CustomerService;
use csp_commerce::service::paging::PageTokens;
/// mimalloc: many small short-lived allocations per call, and long-lived per-stream state
/// between them; glibc's malloc spent more time and fragmented more (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use csp_commerce::startup::{Application, drain_signal};
use csp_commerce::store::Store;
use csp_commerce::{auth::TokenKeys, demo, telemetry};

#[derive(Parser)]
#[command(
    name = "csp-commerce",
    version,
    about = "Catalog, cart and order service of a CSP reseller (gRPC)"
)]
struct Cli {
    /// A TOML config file (also `CSP_CONFIG`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: `sqlite://path` (default `sqlite://csp-commerce.sqlite`) or `postgres://...` (also `CSP_DATABASE_URL`).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve gRPC (the default).
    Serve {
        /// Listen address (default 127.0.0.1:50051; also `CSP_LISTEN`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run the database migrations and exit.
    Migrate,
    /// Import a month's price lists and offer matrix (not yet published unless --publish).
    Import {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        #[arg(long)]
        offer_matrix: PathBuf,
        /// One NCE license-based price list per market; repeat the flag.
        #[arg(long = "price-list", required = true)]
        price_lists: Vec<PathBuf>,
        /// Publish the month right after importing it.
        #[arg(long)]
        publish: bool,
    },
    /// List what publishing an imported month would change.
    Changes {
        #[arg(long)]
        month: String,
    },
    /// Make an imported month current and write its change events.
    Publish {
        #[arg(long)]
        month: String,
    },
    /// Mint a development bearer token.
    Token {
        /// A demo partner key (us, de, sk, gcc) or a partner UUID; omit for catalog_admin.
        #[arg(long)]
        partner: Option<String>,
        /// global_admin, admin_agent, sales_agent, helpdesk_agent or catalog_admin.
        #[arg(long, default_value = "sales_agent")]
        role: String,
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
}

fn parse_month(text: &str) -> anyhow::Result<Month> {
    Month::parse("--month", text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The catalog service on the configured database, for the offline subcommands.
async fn cli_catalog(settings: &Settings) -> anyhow::Result<CatalogService> {
    let store = Store::connect(&settings.database_url, 2).await?;
    store.migrate().await?;
    let clock = Arc::new(SystemClock);
    let tokens = PageTokens::new(settings.jwt_secret.as_bytes());
    let customers = CustomerService::new(store.clone(), tokens.clone(), clock.clone());
    let catalog = CatalogService::new(store, customers, tokens, clock, settings.change_log_months);
    catalog.reload().await?;
    Ok(catalog)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Some(Command::Serve { listen }) => *listen,
        _ => None,
    };
    let overrides = Overrides {
        listen,
        database_url: cli.database_url.clone(),
    };
    let settings =
        Settings::load(cli.config.clone(), &overrides).context("reading the configuration")?;
    let _telemetry = telemetry::init(&settings.log, settings.otlp_endpoint.as_deref())?;

    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { .. } => {
            let app = Application::build(settings, Arc::new(SystemClock)).await?;
            app.run_until(drain_signal()).await?;
        }
        Command::Migrate => {
            let store = Store::connect(&settings.database_url, 1).await?;
            store.migrate().await?;
            eprintln!("migrated {}", settings.database_url);
        }
        Command::Import {
            month,
            offer_matrix,
            price_lists,
            publish,
        } => {
            let month = parse_month(&month)?;
            let limits = csp_commerce::startup::import_limits(&settings);
            let catalog = cli_catalog(&settings).await?.with_import_limits(limits);
            // Local files, read under the same caps as the server's imports.
            let mut total: u64 = 0;
            let mut open =
                |path: &PathBuf| -> anyhow::Result<Source<std::io::BufReader<std::fs::File>>> {
                    let file = open_regular(path, &limits)
                        .with_context(|| format!("opening {}", path.display()))?;
                    total = total.saturating_add(file.metadata()?.len());
                    anyhow::ensure!(
                        total <= limits.max_month_bytes,
                        "the month's files together are larger than import_max_month_bytes ({})",
                        limits.max_month_bytes
                    );
                    Ok(Source {
                        name: path.display().to_string(),
                        reader: std::io::BufReader::new(file),
                    })
                };
            let lists = price_lists
                .iter()
                .map(&mut open)
                .collect::<anyhow::Result<Vec<_>>>()?;
            let matrix = open(&offer_matrix)?;
            let result = if publish {
                catalog.import_and_publish(month, matrix, lists).await
            } else {
                catalog.import_month(month, matrix, lists).await
            };
            match result {
                Ok(s) => eprintln!(
                    "{} {month}: {} products, {} SKUs, {} availabilities, {} prices",
                    if publish { "published" } else { "imported" },
                    s.products,
                    s.skus,
                    s.availabilities,
                    s.prices
                ),
                Err(ImportError::Files(report)) => {
                    eprint!("{report}");
                    std::process::exit(1);
                }
                Err(ImportError::Store(e)) => return Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Changes { month } => {
            let catalog = cli_catalog(&settings).await?;
            let changes = catalog
                .month_changes(parse_month(&month)?)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for c in changes.iter() {
                let fields: Vec<String> = c
                    .fields
                    .iter()
                    .map(|f| format!("{}: {:?} -> {:?}", f.field, f.before, f.after))
                    .collect();
                println!(
                    "{:<7} {}:{}:{} {} {} {}",
                    c.kind.as_str(),
                    c.product_id,
                    c.sku_id,
                    c.availability_id,
                    c.country,
                    c.segment.map(|s| s.as_str()).unwrap_or(""),
                    fields.join("; ")
                );
            }
            eprintln!("{} changes", changes.len());
        }
        Command::Publish { month } => {
            let catalog = cli_catalog(&settings).await?;
            let month = parse_month(&month)?;
            let published = catalog
                .publish(month)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "published {month}: revisions {}..={}{}",
                published.first_revision,
                published.last_revision,
                if published.newly {
                    ""
                } else {
                    " (already published: nothing changed)"
                }
            );
        }
        Command::Token {
            partner,
            role,
            user,
            hours,
        } => {
            let role =
                Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role:?}"))?;
            let partner = match partner {
                None => None,
                Some(p) => Some(match uuid::Uuid::parse_str(&p) {
                    Ok(id) => csp_commerce::domain::ids::PartnerId::from_uuid(id),
                    Err(_) => {
                        let seed = demo::seed().map_err(|e| anyhow::anyhow!("{e}"))?;
                        let found = seed.partners.iter().find(|s| s.key == p).ok_or_else(|| {
                            anyhow::anyhow!("no demo partner {p:?} (us, de, sk, gcc)")
                        })?;
                        csp_commerce::domain::ids::PartnerId::from_uuid(found.id)
                    }
                }),
            };
            // The configured issuer, audience and maximum lifetime apply.
            let keys = TokenKeys::from_settings(&settings).map_err(anyhow::Error::msg)?;
            let token = keys
                .mint(&user, partner, role, chrono::Duration::hours(hours))
                .map_err(anyhow::Error::msg)?;
            println!("{token}");
        }
    }
    Ok(())
}
