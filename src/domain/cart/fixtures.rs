//! What the cart and order tests buy: the demo month at a chosen price, a reviewed cart of
//! Office 365 E3, and the cart behind a review.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::customer::{Agreement, Customer, Partner, Role};
use crate::domain::eligibility::{Buyer, Holdings};
use crate::domain::ids::{CountryCode, PartnerId};
use crate::domain::money::Currency;

/// When the cart tests run.
pub(in crate::domain) fn test_now() -> DateTime<Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 10, 12, 0, 0)
        .unwrap()
}

/// The demo month with every price set to `micros` a unit.
pub(in crate::domain) fn catalog_priced_at(micros: i64) -> Catalog {
    let (month, mut data) = crate::demo::catalog_data().unwrap();
    for availability in &mut data.availabilities {
        let mut terms = availability.terms.to_vec();
        for term in &mut terms {
            term.unit_price.micros = micros;
        }
        availability.terms = terms.into();
    }
    Catalog::build(Some(month), data)
}

/// Reviews `quantities` of Office 365 E3 (US, commercial, one year paid yearly), one
/// line each, for a US customer who accepted the agreement.
pub(in crate::domain) fn review_e3(catalog: &Catalog, quantities: &[i32]) -> Review {
    let us = CountryCode::parse("c", "US").unwrap();
    let partner = Partner {
        id: PartnerId::new(),
        name: "Contoso".into(),
        country: us,
        currency: Currency::parse("c", "USD").unwrap(),
        gcc: false,
    };
    let now = test_now();
    let customer = Customer {
        id: CustomerId::new(),
        partner_id: partner.id,
        company_name: "Fabrikam".into(),
        country: us,
        email: "it@fabrikam.example.com".into(),
        domain: "fabrikam.example.com".into(),
        qualifications: Vec::new(),
        agreement: Some(Agreement {
            contact_name: "Ana".into(),
            contact_email: "ana@fabrikam.example.com".into(),
            accepted_at: now,
        }),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let item = CatalogItemId::parse("item", "CFQ7TTC02ROY:0001:X").unwrap();
    let availability = catalog
        .availability_for(
            &item.product,
            &item.sku,
            us,
            crate::domain::catalog::Segment::Commercial,
        )
        .unwrap()
        .id
        .clone();
    let lines: Vec<CartLine> = quantities
        .iter()
        .map(|&quantity| CartLine {
            id: uuid::Uuid::now_v7(),
            input: LineInput {
                item: CatalogItemId {
                    availability: availability.clone(),
                    ..item.clone()
                },
                quantity,
                term: Term::P1Y,
                billing_cycle: BillingCycle::Annual,
                provisioning: ProvisioningContext::default(),
            },
        })
        .collect();
    let holdings = Holdings::default();
    let buyer = Buyer {
        catalog,
        partner: &partner,
        customer: &customer,
        role: Role::SalesAgent,
        holdings: &holdings,
        now,
    };
    review(&buyer, &Parents::new(), &lines)
}

/// An active cart of the lines of `review`, at version 1, created at `test_now()`.
pub(in crate::domain) fn cart_of(review: &Review) -> Cart {
    let now = test_now();
    Cart {
        id: CartId::new(),
        customer_id: CustomerId::new(),
        status: CartStatus::Active,
        lines: review.lines.iter().map(|l| l.line.clone()).collect(),
        created_at: now,
        expires_at: now + CART_LIFETIME,
        version: 1,
        order_id: None,
    }
}
