//! Wiring only: arguments -> settings -> telemetry -> application -> run until a signal.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use csp_commerce::config::{Overrides, Settings};
use csp_commerce::domain::DomainError;
use csp_commerce::domain::catalog::Month;
use csp_commerce::domain::customer::{
    Caller, NewPartner, PartnerRecord, PartnerUpdate, Role, parse_partner_key,
};
use csp_commerce::domain::ids::{CountryCode, PartnerId, RequestId, parse_text};
use csp_commerce::domain::money::Currency;
use csp_commerce::import::Source;
use csp_commerce::import::files::open_regular;
use csp_commerce::service::SystemClock;
use csp_commerce::service::catalog::{CatalogService, ImportError};
use csp_commerce::service::customers::CustomerService;
use csp_commerce::service::orders::OrderService;
use csp_commerce::service::paging::PageTokens;
use csp_commerce::service::partners::PartnerService;
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
    /// Renew or expire every subscription term that ends at or before --until: the pass the
    /// server runs every `renewal_interval_ms` (and OperatorService.RunRenewals), priced from
    /// the current catalog month. Safe beside running servers on PostgreSQL and to rerun.
    Renew {
        /// An RFC 3339 time, e.g. 2027-01-01T00:00:00Z (default: now).
        #[arg(long)]
        until: Option<String>,
    },
    /// Register, list and change partners on the configured database (what OperatorService
    /// does over the wire).
    Partner {
        #[command(subcommand)]
        action: PartnerCommand,
    },
    /// Mint a bearer token, signed with `jwt_secret`.
    Token {
        /// A partner's key (a registered one, or a demo one: us, de, sk, gcc) or UUID; omit for
        /// catalog_admin and operator.
        #[arg(long)]
        partner: Option<String>,
        /// global_admin, admin_agent, sales_agent, helpdesk_agent, catalog_admin or operator.
        #[arg(long, default_value = "sales_agent")]
        role: String,
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
}

#[derive(Subcommand)]
enum PartnerCommand {
    /// Register a partner; prints its id.
    Register {
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 tenant country.
        #[arg(long)]
        country: String,
        /// ISO 4217 currency.
        #[arg(long)]
        currency: String,
        /// The partner holds the GCC qualification.
        #[arg(long)]
        gcc: bool,
        /// A short unique handle (a-z, 0-9, '-', '_'), for `token --partner <key>`.
        #[arg(long)]
        key: Option<String>,
    },
    /// Every partner: id, key, country, currency, GCC, name.
    List,
    /// Change a partner's name or GCC status (country and currency are fixed).
    Update {
        /// The partner's key or UUID.
        #[arg(long)]
        partner: String,
        #[arg(long)]
        name: Option<String>,
        /// true or false.
        #[arg(long)]
        gcc: Option<bool>,
    },
}

fn parse_month(text: &str) -> anyhow::Result<Month> {
    Month::parse("--month", text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The command line's connections for `import`, `changes` and `publish`: two tables of each
/// of two months read at once (the big tables on connections of their own), and a publish's
/// transaction.
const PUBLISH_CONNECTIONS: u32 = 5;

/// The catalog service on the configured database, for the offline subcommands.
async fn cli_catalog(settings: &Settings) -> anyhow::Result<CatalogService> {
    let store = Store::connect(&settings.database_url, PUBLISH_CONNECTIONS).await?;
    store.migrate().await?;
    let clock = Arc::new(SystemClock);
    let tokens = PageTokens::new(settings.jwt_secret.as_bytes());
    let customers = CustomerService::new(store.clone(), tokens.clone(), clock.clone());
    // No snapshot: import, changes and publish read and write the store only.
    Ok(CatalogService::new(
        store,
        customers,
        tokens,
        clock,
        settings.change_log_months,
    ))
}

/// The operator's partner use cases on the configured database, for `partner`.
async fn cli_partners(settings: &Settings) -> anyhow::Result<(PartnerService, Store)> {
    let store = Store::connect(&settings.database_url, 2).await?;
    store.migrate().await?;
    let clock = Arc::new(SystemClock);
    let tokens = PageTokens::new(settings.jwt_secret.as_bytes());
    let partners = PartnerService::new(store.clone(), tokens, clock, None);
    Ok((partners, store))
}

/// The partner a `--partner` names: a UUID as it is; a key as the configured database has it,
/// else (the database has no such key, or a running SQLite server holds the file) a demo key.
async fn resolve_partner(settings: &Settings, given: &str) -> anyhow::Result<PartnerId> {
    if let Ok(id) = uuid::Uuid::parse_str(given) {
        return Ok(PartnerId::from_uuid(id));
    }
    let stored = match Store::connect(&settings.database_url, 1).await {
        Ok(store) => store.partner_by_key(given).await.ok().flatten(),
        Err(_) => None,
    };
    if let Some(found) = stored {
        return Ok(found.partner.id);
    }
    let seed = demo::seed().map_err(|e| anyhow::anyhow!("{e}"))?;
    let found = seed.partners.iter().find(|s| s.key == given).ok_or_else(|| {
        anyhow::anyhow!(
            "no partner with key {given:?} in {} (nor a demo one: us, de, sk, gcc); pass its UUID if a running server holds the database",
            settings.database_url
        )
    })?;
    Ok(PartnerId::from_uuid(found.id))
}

fn print_partner(p: &PartnerRecord) {
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        p.partner.id,
        p.key,
        p.partner.country,
        p.partner.currency.code(),
        if p.partner.gcc { "gcc" } else { "-" },
        p.partner.name
    );
}

/// The `partner` subcommand: the operator's use cases, offline.
async fn partner_command(settings: &Settings, action: PartnerCommand) -> anyhow::Result<()> {
    let (partners, store) = cli_partners(settings).await?;
    let operator = Caller {
        partner: None,
        role: Role::Operator,
    };
    let request_id = RequestId::parse("request_id", &uuid::Uuid::new_v4().to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fail = |e: DomainError| anyhow::anyhow!("{e}");
    match action {
        PartnerCommand::Register {
            name,
            country,
            currency,
            gcc,
            key,
        } => {
            let new = NewPartner {
                key: key
                    .map(|k| parse_partner_key("--key", &k))
                    .transpose()
                    .map_err(fail)?,
                name: parse_text("--name", &name, true).map_err(fail)?,
                country: CountryCode::parse("--country", &country).map_err(fail)?,
                currency: Currency::parse("--currency", &currency).map_err(fail)?,
                gcc,
            };
            let p = partners
                .register(&operator, &request_id, new)
                .await
                .map_err(fail)?;
            print_partner(&p);
        }
        PartnerCommand::List => {
            let mut token = String::new();
            loop {
                let page = partners.list(&operator, 500, &token).await.map_err(fail)?;
                page.items.iter().for_each(print_partner);
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        PartnerCommand::Update { partner, name, gcc } => {
            let id = match uuid::Uuid::parse_str(&partner) {
                Ok(id) => PartnerId::from_uuid(id),
                Err(_) => {
                    store
                        .partner_by_key(&partner)
                        .await
                        .map_err(fail)?
                        .ok_or_else(|| anyhow::anyhow!("no partner with key {partner:?}"))?
                        .partner
                        .id
                }
            };
            let update = PartnerUpdate {
                name: name
                    .map(|n| parse_text("--name", &n, true))
                    .transpose()
                    .map_err(fail)?,
                gcc,
            };
            let p = partners
                .update(&operator, &request_id, id, None, update)
                .await
                .map_err(fail)?;
            print_partner(&p);
        }
    }
    Ok(())
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
            let mut result = catalog.import_month(month, matrix, lists).await;
            if publish && let Ok(summary) = result {
                result = catalog
                    .publish_stored(month)
                    .await
                    .map(|_| summary)
                    .map_err(ImportError::Store);
            }
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
            let count = catalog
                .each_month_change(parse_month(&month)?, |c| {
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
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("{count} changes");
        }
        Command::Publish { month } => {
            let catalog = cli_catalog(&settings).await?;
            let month = parse_month(&month)?;
            let published = catalog
                .publish_stored(month)
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
        Command::Renew { until } => {
            let until = until
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|d| d.to_utc())
                        .with_context(|| format!("--until {t:?} is not an RFC 3339 time"))
                })
                .transpose()?;
            let store = Store::connect(&settings.database_url, 2).await?;
            store.migrate().await?;
            let clock = Arc::new(SystemClock);
            let tokens = PageTokens::new(settings.jwt_secret.as_bytes());
            let customers = CustomerService::new(store.clone(), tokens.clone(), clock.clone());
            let catalog = CatalogService::new(
                store.clone(),
                customers.clone(),
                tokens.clone(),
                clock.clone(),
                settings.change_log_months,
            );
            // Renewals are priced from the current month's snapshot.
            catalog.reload().await?;
            let orders = OrderService::new(store, catalog, customers, tokens, clock);
            let counts = orders
                .run_renewals(until)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("renewed {}, expired {}", counts.renewed, counts.expired);
        }
        Command::Partner { action } => partner_command(&settings, action).await?,
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
                Some(p) => Some(resolve_partner(&settings, &p).await?),
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
