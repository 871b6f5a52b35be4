//! The demo catalog and partners, embedded so `serve` works from any directory on a fresh
//! machine. Derived from real Partner Center data by `scripts/gen_demo_catalog.py`.

use serde::Deserialize;

use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::customer::{Agreement, Partner, QualificationKind, VettingStatus};
use crate::domain::customer::{NewCustomer, QualificationChange};
use crate::domain::ids::{CountryCode, CustomerId, PartnerId, RequestId};
use crate::domain::money::Currency;
use crate::import::Source;
use crate::service::catalog::{CatalogService, ImportError};
use crate::store::Store;

pub const MONTH: &str = "2026-11";

const OFFER_MATRIX: &str = include_str!("../data/demo/2026-11/offer-matrix.csv");
const PRICE_LISTS: &[(&str, &str)] = &[
    (
        "pricelist-DE.csv",
        include_str!("../data/demo/2026-11/pricelist-DE.csv"),
    ),
    (
        "pricelist-FR.csv",
        include_str!("../data/demo/2026-11/pricelist-FR.csv"),
    ),
    (
        "pricelist-GB.csv",
        include_str!("../data/demo/2026-11/pricelist-GB.csv"),
    ),
    (
        "pricelist-IE.csv",
        include_str!("../data/demo/2026-11/pricelist-IE.csv"),
    ),
    (
        "pricelist-JP.csv",
        include_str!("../data/demo/2026-11/pricelist-JP.csv"),
    ),
    (
        "pricelist-SK.csv",
        include_str!("../data/demo/2026-11/pricelist-SK.csv"),
    ),
    (
        "pricelist-US.csv",
        include_str!("../data/demo/2026-11/pricelist-US.csv"),
    ),
];
const SEED: &str = include_str!("../data/demo/seed.json");

#[derive(Debug, Deserialize)]
pub struct Seed {
    pub partners: Vec<SeedPartner>,
    pub customers: Vec<SeedCustomer>,
}

#[derive(Debug, Deserialize)]
pub struct SeedPartner {
    pub key: String,
    pub id: uuid::Uuid,
    pub name: String,
    pub country: String,
    pub currency: String,
    pub gcc: bool,
}

#[derive(Debug, Deserialize)]
pub struct SeedCustomer {
    pub key: String,
    pub id: uuid::Uuid,
    pub partner: String,
    pub company_name: String,
    pub country: String,
    pub email: String,
    pub domain: String,
    pub qualifications: Vec<SeedQualification>,
    pub agreement: Option<SeedAgreement>,
}

#[derive(Debug, Deserialize)]
pub struct SeedQualification {
    pub kind: String,
    pub vetting: String,
}

#[derive(Debug, Deserialize)]
pub struct SeedAgreement {
    pub contact_name: String,
    pub contact_email: String,
    pub accepted_at: chrono::DateTime<chrono::Utc>,
}

pub fn seed() -> Result<Seed, DomainError> {
    serde_json::from_str(SEED)
        .map_err(|e| DomainError::Internal(format!("embedded seed.json: {e}")))
}

/// The embedded demo month's files.
fn sources() -> (Source<&'static [u8]>, Vec<Source<&'static [u8]>>) {
    let price_lists = PRICE_LISTS
        .iter()
        .map(|(name, text)| Source {
            name: format!("data/demo/{MONTH}/{name}"),
            reader: text.as_bytes(),
        })
        .collect();
    let matrix = Source {
        name: format!("data/demo/{MONTH}/offer-matrix.csv"),
        reader: OFFER_MATRIX.as_bytes(),
    };
    (matrix, price_lists)
}

/// The demo month as a snapshot, without a database (for tests of what reads snapshots).
pub fn catalog() -> Result<crate::domain::catalog::Catalog, DomainError> {
    let (month, data) = catalog_data()?;
    Ok(crate::domain::catalog::Catalog::build(Some(month), data))
}

/// The demo month's data, to be changed before it is built (for tests of extreme catalogs).
pub fn catalog_data() -> Result<(Month, crate::domain::catalog::CatalogData), DomainError> {
    let month = Month::parse("month", MONTH)?;
    let (matrix, price_lists) = sources();
    let data = crate::import::import_month(
        month,
        matrix,
        price_lists,
        &crate::import::ImportLimits::default(),
    )
    .map_err(|report| DomainError::Internal(format!("embedded demo catalog: {report}")))?;
    Ok((month, data))
}

/// Imports and publishes the embedded demo month.
pub async fn load_catalog(catalog: &CatalogService) -> Result<(), DomainError> {
    let month = Month::parse("month", MONTH)?;
    let (matrix, sources) = sources();
    match catalog.import_and_publish(month, matrix, sources).await {
        Ok(_) => Ok(()),
        Err(ImportError::Files(report)) => Err(DomainError::Internal(format!(
            "embedded demo catalog: {report}"
        ))),
        Err(ImportError::Store(e)) => Err(e),
    }
}

/// Creates the demo partners and customers, with their qualifications and agreements.
pub async fn load_partners(store: &Store) -> Result<(), DomainError> {
    let seed = seed()?;
    let bad = |what: &str| DomainError::Internal(format!("embedded seed.json: bad {what}"));
    for p in &seed.partners {
        let partner = Partner {
            id: PartnerId::from_uuid(p.id),
            name: p.name.clone(),
            country: CountryCode::parse("country", &p.country)
                .map_err(|_| bad("partner country"))?,
            currency: Currency::parse("currency", &p.currency)
                .map_err(|_| bad("partner currency"))?,
            gcc: p.gcc,
        };
        store.insert_partner(&p.key, &partner).await?;
    }
    for c in &seed.customers {
        let partner = seed
            .partners
            .iter()
            .find(|p| p.key == c.partner)
            .map(|p| PartnerId::from_uuid(p.id))
            .ok_or_else(|| bad("customer partner"))?;
        let id = CustomerId::from_uuid(c.id);
        let now = chrono::Utc::now();
        let new = NewCustomer {
            company_name: c.company_name.clone(),
            country: CountryCode::parse("country", &c.country)
                .map_err(|_| bad("customer country"))?,
            email: c.email.clone(),
            domain: c.domain.clone(),
        };
        let request = RequestId::parse("request_id", &format!("demo-seed-{}", c.key))?;
        let customer = store
            .create_customer(partner, &request, &new, id, now)
            .await?;
        let changes = c
            .qualifications
            .iter()
            .map(|q| {
                Ok(QualificationChange {
                    kind: QualificationKind::parse(&q.kind).ok_or_else(|| bad("qualification"))?,
                    vetting: VettingStatus::parse(&q.vetting).ok_or_else(|| bad("vetting"))?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let customer = if changes.is_empty() {
            customer
        } else {
            store
                .set_qualifications(partner, None, id, None, &changes, now)
                .await?
        };
        if let Some(a) = &c.agreement {
            let agreement = Agreement {
                contact_name: a.contact_name.clone(),
                contact_email: a.contact_email.clone(),
                accepted_at: a.accepted_at,
            };
            store
                .accept_agreement(partner, None, customer.id, None, &agreement, now)
                .await?;
        }
    }
    Ok(())
}
