//! Who may buy what (DOMAIN.md section 3) through the wire: CheckPurchasability rule by rule,
//! rules failing together, a purchasable item with its prices, and the catalog's
//! "purchasable by" filter agreeing with the check.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{self, TestApp, rid, set_qualifications};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use futures::StreamExt;
use tonic::Code;

/// The codes of the rules about the offer itself (country, segment, add-on base, price list):
/// what the catalog's "purchasable by" filter applies.
const OFFER_CODES: &[&str] = &[
    "COUNTRY_NOT_SOLD_TO_PARTNER",
    "COUNTRY_NOT_SOLD_TO_CUSTOMER",
    "AVAILABILITY_COUNTRY_MISMATCH",
    "SEGMENT_NOT_ALLOWED",
    "GCC_PARTNER_REQUIRED",
    "ADDON_BASE_MISSING",
    "NOT_IN_CURRENT_PRICE_LIST",
    "END_OF_SALE",
];

/// The one availability of `product:sku` in `country` for `segment`, found through the catalog.
async fn availability(
    app: &TestApp,
    product: &str,
    sku: &str,
    country: &str,
    segment: pb::Segment,
) -> pb::Availability {
    let mut client = app.catalog("us", Role::SalesAgent);
    let list = client
        .list_availabilities(pb::ListAvailabilitiesRequest {
            product_id: product.into(),
            sku_id: sku.into(),
            country: country.into(),
            segment: segment.into(),
            page_size: 0,
            page_token: String::new(),
            customer_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.availabilities.len(),
        1,
        "{product}:{sku} in {country} {segment:?}: {:?}",
        list.availabilities
    );
    let a = list.availabilities.into_iter().next().unwrap();
    assert_eq!(a.country, country);
    assert_eq!(a.segment, segment as i32);
    assert_eq!(
        a.catalog_item_id,
        format!("{product}:{sku}:{}", a.id),
        "catalog item id is product:sku:availability"
    );
    assert!(!a.terms.is_empty(), "{product}:{sku} has terms");
    a
}

async fn sku(app: &TestApp, product: &str, sku: &str) -> pb::Sku {
    app.catalog("us", Role::SalesAgent)
        .get_sku(pb::GetSkuRequest {
            product_id: product.into(),
            sku_id: sku.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .sku
        .unwrap()
}

/// One CheckPurchasability question, built up from a purchasable default.
#[derive(Debug, Clone)]
struct Ask {
    partner: &'static str,
    role: Role,
    customer_id: String,
    item: String,
    quantity: i32,
    term: i32,
    cycle: i32,
}

impl Ask {
    /// `customer` (a demo key) of `partner` buying one unit of `a` on its first term and cycle.
    fn new(partner: &'static str, customer: &str, a: &pb::Availability) -> Self {
        Self::for_id(partner, TestApp::customer_id(customer), a)
    }

    fn for_id(partner: &'static str, customer_id: String, a: &pb::Availability) -> Self {
        Self {
            partner,
            role: Role::SalesAgent,
            customer_id,
            item: a.catalog_item_id.clone(),
            quantity: 1,
            term: a.terms[0].term,
            cycle: a.terms[0].billing_cycle,
        }
    }

    fn quantity(mut self, quantity: i32) -> Self {
        self.quantity = quantity;
        self
    }

    fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    fn term(mut self, term: pb::TermDuration, cycle: pb::BillingCycle) -> Self {
        self.term = term.into();
        self.cycle = cycle.into();
        self
    }

    async fn try_send(
        &self,
        app: &TestApp,
    ) -> Result<pb::CheckPurchasabilityResponse, tonic::Status> {
        app.catalog(self.partner, self.role)
            .check_purchasability(pb::CheckPurchasabilityRequest {
                customer_id: self.customer_id.clone(),
                catalog_item_id: self.item.clone(),
                quantity: self.quantity,
                term: self.term,
                billing_cycle: self.cycle,
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn send(&self, app: &TestApp) -> pb::CheckPurchasabilityResponse {
        let response = self
            .try_send(app)
            .await
            .unwrap_or_else(|e| panic!("{self:?}: {e:?}"));
        // The verdict and the problem list always agree.
        assert_eq!(
            response.purchasable,
            response.problems.is_empty(),
            "{self:?}: {response:?}"
        );
        response
    }

    /// Sends the question; asserts `code` is the only problem and returns it.
    async fn only_problem(&self, app: &TestApp, code: &str) -> pb::PurchaseProblem {
        let response = self.send(app).await;
        assert_eq!(codes(&response), [code], "{self:?}");
        problem(&response, code).clone()
    }

    /// The problem codes, in the order the service gave them.
    async fn codes(&self, app: &TestApp) -> Vec<String> {
        codes(&self.send(app).await)
    }
}

fn codes(response: &pb::CheckPurchasabilityResponse) -> Vec<String> {
    response
        .problems
        .iter()
        .map(|p| common::code(p).to_owned())
        .collect()
}

fn problem<'a>(
    response: &'a pb::CheckPurchasabilityResponse,
    code: &str,
) -> &'a pb::PurchaseProblem {
    response
        .problems
        .iter()
        .find(|p| common::code(p) == code)
        .unwrap_or_else(|| panic!("no {code} in {response:?}"))
}

fn figure<'a>(p: &'a pb::PurchaseProblem, name: &str) -> &'a str {
    p.figures
        .get(name)
        .unwrap_or_else(|| panic!("no figure {name} in {p:?}"))
}

/// Asserts the figures `expected` (name, value) of `p`.
fn assert_figures(p: &pb::PurchaseProblem, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(figure(p, name), *value, "{name} of {p:?}");
    }
}

fn nanos(m: &pb::Money) -> i128 {
    i128::from(m.units) * 1_000_000_000 + i128::from(m.nanos)
}

/// Asserts a clean verdict priced from `a`'s term and cycle of `ask`.
fn assert_purchasable(response: &pb::CheckPurchasabilityResponse, a: &pb::Availability, ask: &Ask) {
    assert!(response.purchasable, "{ask:?}: {response:?}");
    assert!(response.problems.is_empty(), "{response:?}");
    let term = a
        .terms
        .iter()
        .find(|t| t.term == ask.term && t.billing_cycle == ask.cycle)
        .expect("the asked term is offered");
    let unit = response.unit_term_price.as_ref().expect("unit price");
    let extended = response.term_price.as_ref().expect("extended price");
    assert_eq!(Some(unit), term.term_price.as_ref());
    assert_eq!(unit.currency_code, a.currency_code);
    assert_eq!(extended.currency_code, a.currency_code);
    assert_eq!(nanos(extended), nanos(unit) * i128::from(ask.quantity));
    assert!(nanos(unit) >= 0);
}

async fn accept_agreement(app: &TestApp, partner: &str, customer_id: &str) -> pb::Customer {
    app.customers(partner, Role::GlobalAdmin)
        .accept_agreement(pb::AcceptAgreementRequest {
            request_id: rid(),
            customer_id: customer_id.into(),
            etag: String::new(),
            contact_name: "Ana Contact".into(),
            contact_email: "ana@example.com".into(),
            accept_time: None,
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
}

async fn create_customer(app: &TestApp, partner: &str, country: &str) -> String {
    app.customers(partner, Role::SalesAgent)
        .create_customer(pb::CreateCustomerRequest {
            request_id: rid(),
            company_name: format!("Test customer in {country}"),
            country: country.into(),
            email: "it@test-customer.example.com".into(),
            domain: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .id
}

const COMMERCIAL: pb::Segment = pb::Segment::Commercial;

on_both_backends!(
    a_purchasable_item_has_no_problems_and_is_priced_per_unit,
    async |app: &TestApp| {
        let us = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        assert_eq!(us.currency_code, "USD");
        // Every offered term and cycle, several quantities.
        for (i, t) in us.terms.iter().enumerate() {
            let ask = Ask::new("us", "us-fabrikam", &us)
                .term(t.term(), t.billing_cycle())
                .quantity([1, 7, 300][i % 3]);
            let response = ask.send(app).await;
            assert_purchasable(&response, &us, &ask);
        }
        // Each role that may buy.
        for role in [Role::GlobalAdmin, Role::AdminAgent, Role::SalesAgent] {
            let ask = Ask::new("us", "us-fabrikam", &us).role(role).quantity(3);
            assert_purchasable(&ask.send(app).await, &us, &ask);
        }
        // A German customer of the German partner pays the German price in EUR.
        let de = availability(app, "CFQ7TTC0LH18", "0001", "DE", COMMERCIAL).await;
        assert_eq!(de.currency_code, "EUR");
        let ask = Ask::new("de", "de-tailspin", &de).quantity(12);
        assert_purchasable(&ask.send(app).await, &de, &ask);
        // The item resolves to the same availability.
        let resolved = app
            .catalog("de", Role::SalesAgent)
            .resolve_catalog_item(pb::ResolveCatalogItemRequest {
                catalog_item_id: de.catalog_item_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resolved.availability.as_ref(), Some(&de));
        assert_eq!(resolved.sku.unwrap().id, "0001");
        assert_eq!(resolved.product.unwrap().id, "CFQ7TTC0LH18");
    }
);

on_both_backends!(
    a_slovak_partner_cannot_sell_what_slovakia_does_not_list,
    async |app: &TestApp| {
        for (product, sku_id) in [
            // The seed's own example: Dynamics 365 Business Central Premium itself.
            ("CFQ7TTC0CS5N", "0001"),
            ("CFQ7TTC06457", "0001"),
            ("CFQ7TTC06GNK", "0001"),
            ("CFQ7TTC09MID", "0001"),
            ("CFQ7TTC0CS5N", "0003"),
            ("CFQ7TTC0DNKH", "0001"),
        ] {
            let s = sku(app, product, sku_id).await;
            assert!(!s.countries.contains(&"SK".to_owned()), "{s:?}");
            assert!(s.countries.contains(&"DE".to_owned()), "{s:?}");
            let de = availability(app, product, sku_id, "DE", COMMERCIAL).await;
            // Litware (SK) selling to its German customer Lamna.
            let response = Ask::new("sk", "sk-lamna-de", &de).send(app).await;
            let mut expected = vec!["COUNTRY_NOT_SOLD_TO_PARTNER"];
            if s.is_addon {
                expected.push("ADDON_BASE_MISSING");
            }
            assert_eq!(codes(&response), expected, "{product}:{sku_id}");
            let p = problem(&response, "COUNTRY_NOT_SOLD_TO_PARTNER");
            assert_eq!(figure(p, "partner_country"), "SK");
            assert_eq!(p.field, "catalog_item_id");
            assert!(!p.message.is_empty());
            // Prices are still quoted for an offered term.
            assert!(response.unit_term_price.is_some());

            // The US partner may sell the same item to its German customer.
            let mut expected: Vec<&str> = Vec::new();
            if s.is_addon {
                expected.push("ADDON_BASE_MISSING");
            }
            assert_eq!(
                Ask::new("us", "us-woodgrove-de", &de).codes(app).await,
                expected,
                "{product}:{sku_id}"
            );
        }
    }
);

on_both_backends!(
    an_item_not_sold_in_the_customers_country,
    async |app: &TestApp| {
        // Microsoft PowerApps Plan 2 is not sold in JP.
        let s = sku(app, "CFQ7TTC01D2T", "0001").await;
        assert!(!s.is_addon);
        assert!(!s.countries.contains(&"JP".to_owned()));
        let us = availability(app, "CFQ7TTC01D2T", "0001", "US", COMMERCIAL).await;
        let customer = create_customer(app, "us", "JP").await;
        accept_agreement(app, "us", &customer).await;
        let p = &Ask::for_id("us", customer.clone(), &us)
            .only_problem(app, "COUNTRY_NOT_SOLD_TO_CUSTOMER")
            .await;
        assert_eq!(figure(p, "customer_country"), "JP");
        assert_eq!(p.field, "catalog_item_id");
        // A SKU sold in JP is fine for the same customer.
        let jp = availability(app, "CFQ7TTC0LH18", "0001", "JP", COMMERCIAL).await;
        assert_eq!(jp.currency_code, "JPY");
        let ask = Ask::for_id("us", customer, &jp).quantity(2);
        assert_purchasable(&ask.send(app).await, &jp, &ask);
    }
);

on_both_backends!(
    the_availability_of_another_country_is_a_mismatch_with_a_suggestion,
    async |app: &TestApp| {
        let us = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        let de = availability(app, "CFQ7TTC0LH18", "0001", "DE", COMMERCIAL).await;
        assert_ne!(us.id, de.id);
        // Woodgrove Deutschland (DE), a customer of the US partner, offered the US availability.
        let p = &Ask::new("us", "us-woodgrove-de", &us)
            .only_problem(app, "AVAILABILITY_COUNTRY_MISMATCH")
            .await;
        assert_figures(
            p,
            &[("availability_country", "US"), ("customer_country", "DE")],
        );
        assert_eq!(figure(p, "suggested_catalog_item_id"), de.catalog_item_id);
        // Following the suggestion works.
        let ask = Ask::new("us", "us-woodgrove-de", &de);
        assert_purchasable(&ask.send(app).await, &de, &ask);
        // And the other way round: a US customer offered the German availability.
        let p = Ask::new("us", "us-fabrikam", &de)
            .only_problem(app, "AVAILABILITY_COUNTRY_MISMATCH")
            .await;
        assert_eq!(figure(&p, "suggested_catalog_item_id"), us.catalog_item_id);
    }
);

on_both_backends!(
    nonprofit_offers_need_an_approved_nonprofit_qualification,
    async |app: &TestApp| {
        use pb::QualificationKind::Nonprofit;
        use pb::VettingStatus::{Approved, Denied};
        let nonprofit =
            availability(app, "CFQ7TTC02ROY", "0002", "US", pb::Segment::Nonprofit).await;
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let ask = Ask::new("us", "us-fabrikam", &nonprofit);

        // No qualification.
        let p = &ask.only_problem(app, "SEGMENT_NOT_ALLOWED").await;
        assert_figures(
            p,
            &[("segment", "nonprofit"), ("allowed_segments", "commercial")],
        );
        // Nonprofit is never in review (the operator grants it); a revoked one is denied.
        for vetting in [Denied] {
            set_qualifications(app, "us", &fabrikam, &[(Nonprofit, vetting)]).await;
            let response = ask.send(app).await;
            assert_eq!(codes(&response), ["SEGMENT_NOT_ALLOWED"], "{vetting:?}");
            assert_eq!(
                figure(
                    problem(&response, "SEGMENT_NOT_ALLOWED"),
                    "allowed_segments"
                ),
                "commercial"
            );
        }
        set_qualifications(app, "us", &fabrikam, &[(Nonprofit, Approved)]).await;
        assert_purchasable(&ask.send(app).await, &nonprofit, &ask);
        // Approved nonprofit keeps commercial open, but not education.
        let commercial = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
        assert!(
            Ask::new("us", "us-fabrikam", &commercial)
                .codes(app)
                .await
                .is_empty()
        );
        let education =
            availability(app, "CFQ7TTC02ROY", "0005", "US", pb::Segment::Education).await;
        assert_eq!(
            Ask::new("us", "us-fabrikam", &education).codes(app).await,
            ["SEGMENT_NOT_ALLOWED"]
        );
        // Taking the qualification away closes the segment again.
        set_qualifications(app, "us", &fabrikam, &[]).await;
        assert_eq!(ask.codes(app).await, ["SEGMENT_NOT_ALLOWED"]);

        // The seeded customers: Northwind (approved) may, Coho (denied, DE) may not.
        let ask = Ask::new("us", "us-northwind-foundation", &nonprofit);
        assert_purchasable(&ask.send(app).await, &nonprofit, &ask);
        let de_nonprofit =
            availability(app, "CFQ7TTC02ROY", "0002", "DE", pb::Segment::Nonprofit).await;
        assert_eq!(
            Ask::new("de", "de-coho-stiftung", &de_nonprofit)
                .codes(app)
                .await,
            ["SEGMENT_NOT_ALLOWED"]
        );
    }
);

on_both_backends!(
    education_offers_need_an_approved_education_qualification,
    async |app: &TestApp| {
        use pb::QualificationKind::Education;
        use pb::VettingStatus::{Approved, Denied, InReview};
        let education =
            availability(app, "CFQ7TTC02ROY", "0005", "US", pb::Segment::Education).await;
        // No qualification at all.
        let p = Ask::new("us", "us-fabrikam", &education)
            .only_problem(app, "SEGMENT_NOT_ALLOWED")
            .await;
        assert_eq!(figure(&p, "segment"), "education");
        // Bellows College is seeded in review.
        let bellows = TestApp::customer_id("us-bellows-college");
        let ask = Ask::new("us", "us-bellows-college", &education);
        assert_eq!(ask.codes(app).await, ["SEGMENT_NOT_ALLOWED"]);
        let response = ask.send(app).await;
        let msg = &problem(&response, "SEGMENT_NOT_ALLOWED").message;
        assert!(msg.contains("in_review"), "{msg}");
        set_qualifications(app, "us", &bellows, &[(Education, Denied)]).await;
        assert_eq!(ask.codes(app).await, ["SEGMENT_NOT_ALLOWED"]);
        set_qualifications(app, "us", &bellows, &[(Education, InReview)]).await;
        assert_eq!(ask.codes(app).await, ["SEGMENT_NOT_ALLOWED"]);
        let customer = set_qualifications(app, "us", &bellows, &[(Education, Approved)]).await;
        assert_eq!(customer.qualifications.len(), 1);
        let ask = ask.quantity(40);
        let response = ask.send(app).await;
        assert_purchasable(&response, &education, &ask);
        // Approved education opens commercial and education, not nonprofit.
        let nonprofit =
            availability(app, "CFQ7TTC02ROY", "0002", "US", pb::Segment::Nonprofit).await;
        let p = Ask::new("us", "us-bellows-college", &nonprofit)
            .only_problem(app, "SEGMENT_NOT_ALLOWED")
            .await;
        assert_eq!(figure(&p, "allowed_segments"), "commercial,education");
    }
);

on_both_backends!(
    government_offers_need_a_gcc_customer_and_a_gcc_partner,
    async |app: &TestApp| {
        let gov = availability(app, "CFQ7TTC02ROY", "0006", "US", pb::Segment::Government).await;
        let commercial = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;

        // A GCC customer of the GCC partner buys government offers...
        let ask = Ask::new("gcc", "gcc-woodgrove-county", &gov).quantity(20);
        assert_purchasable(&ask.send(app).await, &gov, &ask);
        // ...and only those.
        let p = &Ask::new("gcc", "gcc-woodgrove-county", &commercial)
            .only_problem(app, "SEGMENT_NOT_ALLOWED")
            .await;
        assert_figures(
            p,
            &[
                ("segment", "commercial"),
                ("allowed_segments", "government"),
            ],
        );
        // A GCC qualification in review does not count.
        assert_eq!(
            Ask::new("gcc", "gcc-blue-yonder", &gov).codes(app).await,
            ["SEGMENT_NOT_ALLOWED"]
        );
        assert!(
            Ask::new("gcc", "gcc-blue-yonder", &commercial)
                .codes(app)
                .await
                .is_empty()
        );

        // A non-GCC partner cannot sell government offers, even to a GCC-approved customer.
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let ask = Ask::new("us", "us-fabrikam", &gov);
        assert_eq!(
            ask.codes(app).await,
            ["SEGMENT_NOT_ALLOWED", "GCC_PARTNER_REQUIRED"]
        );
        common::approved_gcc_of_a_partner_without_gcc(app, "us", &fabrikam).await;
        let response = ask.send(app).await;
        assert_eq!(codes(&response), ["GCC_PARTNER_REQUIRED"]);
        assert_eq!(
            problem(&response, "GCC_PARTNER_REQUIRED").field,
            "catalog_item_id"
        );
    }
);

on_both_backends!(
    other_qualifications_open_no_special_segment,
    async |app: &TestApp| {
        use pb::QualificationKind::{Education, Gcc, Nonprofit, StateOwnedEntity};
        use pb::VettingStatus::Approved;
        // City Power & Light, an approved state-owned entity, buys commercial offers.
        let sk = availability(app, "CFQ7TTC02ROY", "0001", "SK", COMMERCIAL).await;
        assert_eq!(sk.currency_code, "EUR");
        let ask = Ask::new("sk", "sk-city-power", &sk).quantity(10);
        assert_purchasable(&ask.send(app).await, &sk, &ask);
        // A state-owned entity opens nothing beyond commercial.
        let fabrikam = TestApp::customer_id("us-fabrikam");
        set_qualifications(app, "us", &fabrikam, &[(StateOwnedEntity, Approved)]).await;
        let nonprofit =
            availability(app, "CFQ7TTC02ROY", "0002", "US", pb::Segment::Nonprofit).await;
        let p = Ask::new("us", "us-fabrikam", &nonprofit)
            .only_problem(app, "SEGMENT_NOT_ALLOWED")
            .await;
        assert_eq!(figure(&p, "allowed_segments"), "commercial");
        let commercial = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
        assert!(
            Ask::new("us", "us-fabrikam", &commercial)
                .codes(app)
                .await
                .is_empty()
        );
        // Nonprofit and education together open both.
        set_qualifications(
            app,
            "us",
            &fabrikam,
            &[(Nonprofit, Approved), (Education, Approved)],
        )
        .await;
        let education =
            availability(app, "CFQ7TTC02ROY", "0005", "US", pb::Segment::Education).await;
        for a in [&nonprofit, &education, &commercial] {
            assert!(
                Ask::new("us", "us-fabrikam", a).codes(app).await.is_empty(),
                "{a:?}"
            );
        }
        // An approved GCC qualification means government only, whatever else is approved.
        let county = TestApp::customer_id("gcc-woodgrove-county");
        set_qualifications(
            app,
            "gcc",
            &county,
            &[(Gcc, Approved), (Education, Approved)],
        )
        .await;
        let p = Ask::new("gcc", "gcc-woodgrove-county", &education)
            .only_problem(app, "SEGMENT_NOT_ALLOWED")
            .await;
        assert_eq!(figure(&p, "allowed_segments"), "government");
        let gov = availability(app, "CFQ7TTC02ROY", "0006", "US", pb::Segment::Government).await;
        assert!(
            Ask::new("gcc", "gcc-woodgrove-county", &gov)
                .codes(app)
                .await
                .is_empty()
        );
    }
);

on_both_backends!(
    an_add_on_needs_a_base_subscription,
    async |app: &TestApp| {
        let s = sku(app, "CFQ7TTC0O3H3", "0001").await;
        assert!(s.is_addon);
        assert_eq!(
            s.prerequisites,
            [pb::SkuRef {
                product_id: "CFQ7TTC0RDXR".into(),
                sku_id: "0001".into()
            }]
        );
        let us = availability(app, "CFQ7TTC0O3H3", "0001", "US", COMMERCIAL).await;
        let p = &Ask::new("us", "us-fabrikam", &us)
            .only_problem(app, "ADDON_BASE_MISSING")
            .await;
        assert_eq!(figure(p, "prerequisites"), "CFQ7TTC0RDXR/0001");
        assert_eq!(p.field, "catalog_item_id");
        // The base itself needs nothing.
        let base = availability(app, "CFQ7TTC0RDXR", "0001", "US", COMMERCIAL).await;
        assert!(
            Ask::new("us", "us-fabrikam", &base)
                .codes(app)
                .await
                .is_empty()
        );
    }
);

on_both_backends!(what_the_customer_owns_counts, async |app: &TestApp| {
    let intune = availability(app, "CFQ7TTC0RDXR", "0001", "US", COMMERCIAL).await;
    let storage = availability(app, "CFQ7TTC0O3H3", "0001", "US", COMMERCIAL).await;
    let e3 = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
    let audio = availability(app, "CFQ7TTC05WUF", "0001", "US", COMMERCIAL).await;
    let trial = availability(app, "CFQ7TTC02ROY", "0004", "US", COMMERCIAL).await;
    let fabrikam = TestApp::customer_id("us-fabrikam");
    assert_eq!(
        Ask::new("us", "us-fabrikam", &storage).codes(app).await,
        ["ADDON_BASE_MISSING"]
    );

    // Fabrikam buys an Intune base, 200 seats of E3 and the E3 trial.
    let line = |a: &pb::Availability, quantity: i32| pb::CartLineInput {
        catalog_item_id: a.catalog_item_id.clone(),
        quantity,
        term: a.terms[0].term,
        billing_cycle: a.terms[0].billing_cycle,
        provisioning_context: None,
    };
    let mut carts = app.carts("us", Role::SalesAgent);
    let cart = carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: fabrikam.clone(),
            lines: vec![line(&intune, 1), line(&e3, 200), line(&trial, 25)],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    carts
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap();

    // The add-on has its base now.
    let ask = Ask::new("us", "us-fabrikam", &storage).quantity(3);
    assert_purchasable(&ask.send(app).await, &storage, &ask);
    // 100 of the 300 seats are left.
    let p = &Ask::new("us", "us-fabrikam", &e3)
        .quantity(101)
        .only_problem(app, "SEAT_LIMIT_EXCEEDED")
        .await;
    assert_figures(
        p,
        &[
            ("seat_limit", "300"),
            ("seats_owned", "200"),
            ("seats_available", "100"),
        ],
    );
    let ask = Ask::new("us", "us-fabrikam", &e3).quantity(100);
    assert_purchasable(&ask.send(app).await, &e3, &ask);
    // A per-user add-on may not outnumber its bases' seats: E3 and its trial both are
    // bases of Audio Conferencing, 225 seats.
    let p = &Ask::new("us", "us-fabrikam", &audio)
        .quantity(226)
        .only_problem(app, "ADDON_QUANTITY_EXCEEDS_BASE")
        .await;
    assert_figures(
        p,
        &[
            ("base_seats", "225"),
            ("addon_seats_owned", "0"),
            ("seats_available", "225"),
        ],
    );
    let ask = Ask::new("us", "us-fabrikam", &audio).quantity(225);
    assert_purchasable(&ask.send(app).await, &audio, &ask);
    // One trial per customer.
    let p = Ask::new("us", "us-fabrikam", &trial)
        .quantity(25)
        .only_problem(app, "TRIAL_LIMIT_REACHED")
        .await;
    assert_eq!(figure(&p, "trial_limit"), "1");

    // The catalog's "purchasable by" listing follows: the add-on is offered now.
    let listed: BTreeSet<String> = list_skus(
        app,
        "us",
        pb::CatalogFilter {
            purchasable_by_customer_id: fabrikam.clone(),
            ..Default::default()
        },
        500,
    )
    .await
    .into_iter()
    .map(|s| format!("{}:{}", s.product_id, s.id))
    .collect();
    assert!(listed.contains("CFQ7TTC0O3H3:0001"));
    assert!(listed.contains("CFQ7TTC05WUF:0001"));
    // Another customer of the same partner still lacks the base.
    assert_eq!(
        Ask::new("us", "us-northwind-foundation", &storage)
            .codes(app)
            .await,
        ["ADDON_BASE_MISSING"]
    );
});

on_both_backends!(
    an_item_that_ends_mid_month_is_past_end_of_sale_afterwards,
    async |app: &TestApp| {
        let us = availability(app, "CFQ7TTC0DYGN", "0001", "US", COMMERCIAL).await;
        let end = us.end_of_sale.expect("ends inside the month");
        let end = chrono::DateTime::from_timestamp(end.seconds, end.nanos as u32).unwrap();
        assert_eq!(
            end.date_naive(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
        );
        let ask = Ask::new("us", "us-fabrikam", &us);
        assert_purchasable(&ask.send(app).await, &us, &ask);
        // Just before the end it is still on sale.
        app.clock
            .advance(end - common::start_of_test_time() - chrono::Duration::seconds(1));
        assert_purchasable(&ask.send(app).await, &us, &ask);
        // From the end on it is not.
        app.clock.advance(chrono::Duration::seconds(1));
        let response = ask.send(app).await;
        assert_eq!(codes(&response), ["END_OF_SALE"]);
        assert_eq!(
            figure(problem(&response, "END_OF_SALE"), "end_of_sale"),
            end.to_rfc3339()
        );
        app.clock.advance(chrono::Duration::days(5));
        assert_eq!(ask.codes(app).await, ["END_OF_SALE"]);
        // An item without an end is unaffected.
        let open = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        assert!(open.end_of_sale.is_none());
        assert!(
            Ask::new("us", "us-fabrikam", &open)
                .codes(app)
                .await
                .is_empty()
        );
    }
);

on_both_backends!(the_agreement_must_be_accepted, async |app: &TestApp| {
    let de = availability(app, "CFQ7TTC0LH18", "0001", "DE", COMMERCIAL).await;
    // Alpine Ski House has not accepted the MCA.
    let ask = Ask::new("de", "de-alpine-ski-house", &de).quantity(5);
    let response = ask.send(app).await;
    assert_eq!(codes(&response), ["AGREEMENT_NOT_ACCEPTED"]);
    assert_eq!(
        problem(&response, "AGREEMENT_NOT_ACCEPTED").field,
        "customer_id"
    );
    let customer = accept_agreement(app, "de", &TestApp::customer_id("de-alpine-ski-house")).await;
    assert!(customer.agreement.is_some());
    assert_purchasable(&ask.send(app).await, &de, &ask);
});

on_both_backends!(
    quantities_must_lie_within_min_and_max,
    async |app: &TestApp| {
        // Dynamics 365 for Talent: at least 5.
        let talent_sku = sku(app, "CFQ7TTC0RHSF", "0001").await;
        assert_eq!(talent_sku.min_quantity, 5);
        let talent = availability(app, "CFQ7TTC0RHSF", "0001", "US", COMMERCIAL).await;
        let p = &Ask::new("us", "us-fabrikam", &talent)
            .quantity(4)
            .only_problem(app, "QUANTITY_BELOW_MINIMUM")
            .await;
        assert_eq!(figure(p, "min_quantity"), "5");
        assert_eq!(p.field, "quantity");
        let ask = Ask::new("us", "us-fabrikam", &talent).quantity(5);
        assert_purchasable(&ask.send(app).await, &talent, &ask);

        // Office 365 Business Essentials: at most 300.
        let basic = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        let response = Ask::new("us", "us-fabrikam", &basic)
            .quantity(301)
            .send(app)
            .await;
        assert_eq!(codes(&response), ["QUANTITY_ABOVE_MAXIMUM"]);
        let p = problem(&response, "QUANTITY_ABOVE_MAXIMUM");
        assert_eq!(figure(p, "max_quantity"), "300");
        assert_eq!(p.field, "quantity");
        // The price of what was asked is still quoted.
        assert_eq!(
            nanos(response.term_price.as_ref().unwrap()),
            nanos(response.unit_term_price.as_ref().unwrap()) * 301
        );

        // A trial: exactly 25.
        let trial = availability(app, "CFQ7TTC02ROY", "0004", "US", COMMERCIAL).await;
        assert_eq!(
            (trial.terms[0].term(), trial.terms[0].billing_cycle()),
            (pb::TermDuration::P1m, pb::BillingCycle::None)
        );
        let ask = Ask::new("us", "us-fabrikam", &trial);
        assert_eq!(
            ask.clone().quantity(24).codes(app).await,
            ["QUANTITY_BELOW_MINIMUM"]
        );
        assert_eq!(
            ask.clone().quantity(26).codes(app).await,
            ["QUANTITY_ABOVE_MAXIMUM"]
        );
        let ask = ask.quantity(25);
        let response = ask.send(app).await;
        assert_purchasable(&response, &trial, &ask);
        assert_eq!(nanos(response.term_price.as_ref().unwrap()), 0);
    }
);

on_both_backends!(
    a_seat_limit_caps_the_seats_a_customer_may_hold,
    async |app: &TestApp| {
        let s = sku(app, "CFQ7TTC02ROY", "0001").await;
        assert_eq!(s.seat_limit, Some(300));
        assert!(s.max_quantity > 301);
        let us = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
        let p = &Ask::new("us", "us-fabrikam", &us)
            .quantity(301)
            .only_problem(app, "SEAT_LIMIT_EXCEEDED")
            .await;
        assert_figures(
            p,
            &[
                ("seat_limit", "300"),
                ("seats_owned", "0"),
                ("seats_available", "300"),
            ],
        );
        assert_eq!(p.field, "quantity");
        let ask = Ask::new("us", "us-fabrikam", &us).quantity(300);
        assert_purchasable(&ask.send(app).await, &us, &ask);
        // A subscription-count limit (2 Concurrent) is no seat limit.
        let essentials = sku(app, "CFQ7TTC0LH18", "0001").await;
        assert_eq!(essentials.seat_limit, None);
    }
);

on_both_backends!(
    a_read_only_role_gets_an_answer_but_cannot_buy,
    async |app: &TestApp| {
        let us = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        let ask = Ask::new("us", "us-fabrikam", &us)
            .role(Role::HelpdeskAgent)
            .quantity(2);
        let response = ask.try_send(app).await.expect("the check itself succeeds");
        assert!(!response.purchasable);
        assert_eq!(codes(&response), ["ROLE_CANNOT_PURCHASE"]);
        let p = problem(&response, "ROLE_CANNOT_PURCHASE");
        assert!(p.message.contains("helpdesk_agent"), "{p:?}");
        // The price is still shown.
        assert_eq!(
            response.unit_term_price.as_ref(),
            us.terms[0].term_price.as_ref()
        );
    }
);

on_both_backends!(
    terms_and_billing_cycles_must_be_offered,
    async |app: &TestApp| {
        use pb::BillingCycle as C;
        use pb::TermDuration as T;
        let us = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
        let offered: BTreeSet<(i32, i32)> =
            us.terms.iter().map(|t| (t.term, t.billing_cycle)).collect();
        assert!(offered.contains(&(T::P1m.into(), C::Monthly.into())));
        assert!(!us.terms.iter().any(|t| t.term == T::P3y as i32));

        let response = Ask::new("us", "us-fabrikam", &us)
            .term(T::P3y, C::Triennial)
            .send(app)
            .await;
        assert_eq!(codes(&response), ["TERM_NOT_OFFERED"]);
        let p = problem(&response, "TERM_NOT_OFFERED");
        assert_eq!(p.field, "term");
        assert!(figure(p, "offered").contains("P1M/monthly"), "{p:?}");
        assert!(response.unit_term_price.is_none());
        assert!(response.term_price.is_none());
        // Perpetual (no term) is not offered for a subscription either.
        assert_eq!(
            Ask::new("us", "us-fabrikam", &us)
                .term(T::None, C::OneTime)
                .codes(app)
                .await,
            ["TERM_NOT_OFFERED"]
        );

        // P1M is offered, but only billed monthly.
        assert!(!offered.contains(&(T::P1m.into(), C::Annual.into())));
        let response = Ask::new("us", "us-fabrikam", &us)
            .term(T::P1m, C::Annual)
            .send(app)
            .await;
        assert_eq!(codes(&response), ["BILLING_CYCLE_NOT_OFFERED"]);
        let p = problem(&response, "BILLING_CYCLE_NOT_OFFERED");
        assert_eq!(p.field, "billing_cycle");
        assert_eq!(figure(p, "offered"), "P1M/monthly");
        assert!(response.unit_term_price.is_none());

        // Perpetual software: no term, billed once.
        let perpetual = availability(app, "DG7GMGF0DWBM", "0001", "US", COMMERCIAL).await;
        assert_eq!(
            (
                perpetual.terms[0].term(),
                perpetual.terms[0].billing_cycle()
            ),
            (T::None, C::OneTime)
        );
        let ask = Ask::new("us", "us-fabrikam", &perpetual).quantity(4);
        assert_purchasable(&ask.send(app).await, &perpetual, &ask);
        assert_eq!(
            ask.clone().term(T::P1y, C::Annual).codes(app).await,
            ["TERM_NOT_OFFERED"]
        );
    }
);

on_both_backends!(
    every_failed_rule_is_reported_in_rule_order,
    async |app: &TestApp| {
        use pb::BillingCycle as C;
        use pb::TermDuration as T;
        // A helpdesk agent of the German partner asks, for a customer without the MCA and
        // without a nonprofit qualification, too many seats of a nonprofit offer on a cycle
        // it is not billed in.
        let nonprofit =
            availability(app, "CFQ7TTC02ROY", "0002", "DE", pb::Segment::Nonprofit).await;
        let s = sku(app, "CFQ7TTC02ROY", "0002").await;
        let response = Ask::new("de", "de-alpine-ski-house", &nonprofit)
            .role(Role::HelpdeskAgent)
            .quantity(s.max_quantity + 1)
            .term(T::P1m, C::Annual)
            .send(app)
            .await;
        assert_eq!(
            codes(&response),
            [
                "SEGMENT_NOT_ALLOWED",
                "AGREEMENT_NOT_ACCEPTED",
                "QUANTITY_ABOVE_MAXIMUM",
                "ROLE_CANNOT_PURCHASE",
                "BILLING_CYCLE_NOT_OFFERED",
            ]
        );
        assert!(response.unit_term_price.is_none());

        // The Slovak partner, an add-on Slovakia does not list.
        let myanalytics = availability(app, "CFQ7TTC09MID", "0001", "DE", COMMERCIAL).await;
        assert_eq!(
            Ask::new("sk", "sk-lamna-de", &myanalytics).codes(app).await,
            ["COUNTRY_NOT_SOLD_TO_PARTNER", "ADDON_BASE_MISSING"]
        );

        // The wrong country's availability, over the seat limit, on a term not offered.
        let e3 = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
        assert_eq!(
            Ask::new("us", "us-woodgrove-de", &e3)
                .quantity(301)
                .term(T::None, C::OneTime)
                .codes(app)
                .await,
            [
                "AVAILABILITY_COUNTRY_MISMATCH",
                "SEAT_LIMIT_EXCEEDED",
                "TERM_NOT_OFFERED"
            ]
        );

        // After mid-month: an ended add-on, below its minimum, for a read-only caller.
        let posts = availability(app, "CFQ7TTC0RCOE", "0003", "US", COMMERCIAL).await;
        app.clock.advance(chrono::Duration::days(11));
        assert_eq!(
            Ask::new("us", "us-fabrikam", &posts)
                .quantity(99)
                .role(Role::HelpdeskAgent)
                .codes(app)
                .await,
            [
                "ADDON_BASE_MISSING",
                "END_OF_SALE",
                "QUANTITY_BELOW_MINIMUM",
                "ROLE_CANNOT_PURCHASE"
            ]
        );
    }
);

on_both_backends!(bad_check_requests_are_refused, async |app: &TestApp| {
    let us = availability(app, "CFQ7TTC0LH18", "0001", "US", COMMERCIAL).await;
    let good = Ask::new("us", "us-fabrikam", &us);

    let err = good.clone().quantity(0).try_send(app).await.unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "quantity"), "OUT_OF_RANGE");
    let err = good.clone().quantity(-3).try_send(app).await.unwrap_err();
    common::assert_bad_field(&err, "quantity");

    let mut ask = good.clone();
    ask.term = 0;
    let err = ask.try_send(app).await.unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "term"), "REQUIRED");
    let mut ask = good.clone();
    ask.term = 99;
    let err = ask.try_send(app).await.unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "term"), "UNKNOWN_ENUM_VALUE");
    let mut ask = good.clone();
    ask.cycle = 42;
    let err = ask.try_send(app).await.unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "billing_cycle"),
        "UNKNOWN_ENUM_VALUE"
    );

    for bad in [
        "",
        "CFQ7TTC0LH18",
        "CFQ7TTC0LH18:0001",
        "a:b:c:d",
        "CFQ7TTC0LH18:00 1:X",
    ] {
        let mut ask = good.clone();
        ask.item = bad.into();
        let err = ask.try_send(app).await.unwrap_err();
        common::assert_bad_field(&err, "catalog_item_id");
    }
    for bad in ["", "fabrikam", "d752e4e8-b024-505a-bcbf"] {
        let mut ask = good.clone();
        ask.customer_id = bad.into();
        let err = ask.try_send(app).await.unwrap_err();
        common::assert_bad_field(&err, "customer_id");
    }
    // Every bad field at once.
    let err = app
        .catalog("us", Role::SalesAgent)
        .check_purchasability(pb::CheckPurchasabilityRequest::default())
        .await
        .unwrap_err();
    for field in [
        "customer_id",
        "catalog_item_id",
        "term",
        "billing_cycle",
        "quantity",
    ] {
        common::assert_bad_field(&err, field);
    }

    // Well-formed but unknown items, and parts that do not belong together.
    let other = availability(app, "CFQ7TTC02ROY", "0001", "US", COMMERCIAL).await;
    for missing in [
        format!("CFQ7TTC0LH18:0001:{}", other.id),
        format!("CFQ7TTC0LH18:0009:{}", us.id),
        "CFQ7TTC0LH18:0001:NOSUCHAVAIL1".to_owned(),
        "CFQ7TTC0LH0Z:0001:CFQ7TTC0K971".to_owned(),
    ] {
        let mut ask = good.clone();
        ask.item = missing.clone();
        let err = ask.try_send(app).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{missing}: {err:?}");
    }
    // An unknown customer.
    let mut ask = good.clone();
    ask.customer_id = common::unknown_id();
    assert_eq!(ask.try_send(app).await.unwrap_err().code(), Code::NotFound);
    // The operator role acts for no partner.
    let token = app.token(None, Role::CatalogAdmin);
    let err = app
        .catalog_with(TestApp::raw_bearer(Some(&format!("Bearer {token}"))))
        .check_purchasability(pb::CheckPurchasabilityRequest {
            customer_id: good.customer_id.clone(),
            catalog_item_id: good.item.clone(),
            quantity: 1,
            term: good.term,
            billing_cycle: good.cycle,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
});

/// Every SKU of a SKU-view listing, paging with `page_size`.
async fn list_skus(
    app: &TestApp,
    partner: &str,
    filter: pb::CatalogFilter,
    page_size: i32,
) -> Vec<pb::Sku> {
    let mut client = app.catalog(partner, Role::SalesAgent);
    let mut skus = Vec::new();
    let mut token = String::new();
    let mut total = None;
    loop {
        let page = client
            .list_products(pb::ListProductsRequest {
                filter: Some(filter.clone()),
                view: pb::CatalogView::Sku.into(),
                page_size,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.skus.len() <= page_size as usize);
        assert!(page.products.is_empty());
        assert_eq!(*total.get_or_insert(page.total_size), page.total_size);
        skus.extend(page.skus);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(skus.len() as i32, total.unwrap());
    skus
}

/// One availability's CheckPurchasability answer, with its offer-rule problems.
#[derive(Debug)]
struct Verdict {
    item: String,
    response: pb::CheckPurchasabilityResponse,
    offer_problems: Vec<String>,
}

/// ListProducts(purchasable_by) for `customer` agrees with CheckPurchasability, SKU by SKU.
async fn listing_agrees_with_the_check(
    app: &TestApp,
    partner: &'static str,
    customer: &str,
    segment: pb::Segment,
) {
    let customer_id = TestApp::customer_id(customer);
    let country = app
        .customers(partner, Role::SalesAgent)
        .get_customer(pb::GetCustomerRequest {
            customer_id: customer_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .country;
    let purchasable = list_skus(
        app,
        partner,
        pb::CatalogFilter {
            purchasable_by_customer_id: customer_id.clone(),
            segment: segment.into(),
            ..Default::default()
        },
        100,
    )
    .await;
    let all = list_skus(
        app,
        partner,
        pb::CatalogFilter {
            country: country.clone(),
            segment: segment.into(),
            ..Default::default()
        },
        500,
    )
    .await;
    let key = |s: &pb::Sku| (s.product_id.clone(), s.id.clone());
    let listed: BTreeSet<_> = purchasable.iter().map(key).collect();
    let every: BTreeSet<_> = all.iter().map(key).collect();
    assert_eq!(listed.len(), purchasable.len(), "no duplicates");
    assert!(!listed.is_empty(), "{customer} may buy something");
    assert!(
        listed.is_subset(&every),
        "{customer}: {:?}",
        listed.difference(&every).collect::<Vec<_>>()
    );
    assert!(listed.len() < every.len(), "{customer}: a strict subset");

    // Each SKU's availabilities in the customer's country, each checked (a few at a time).
    let client = app.catalog(partner, Role::SalesAgent);
    let checked: Vec<(pb::Sku, Vec<Verdict>)> = futures::stream::iter(all.iter().cloned())
        .map(|s| {
            let mut client = client.clone();
            let (country, customer_id) = (country.clone(), customer_id.clone());
            async move {
                let availabilities = client
                    .list_availabilities(pb::ListAvailabilitiesRequest {
                        product_id: s.product_id.clone(),
                        sku_id: s.id.clone(),
                        country: country.clone(),
                        segment: segment.into(),
                        page_size: 0,
                        page_token: String::new(),
                        customer_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .availabilities;
                assert!(!availabilities.is_empty(), "{s:?} is sold in {country}");
                let mut verdicts = Vec::new();
                for a in &availabilities {
                    let response = Ask::for_id(partner, customer_id.clone(), a)
                        .quantity(s.min_quantity.max(1))
                        .send(app)
                        .await;
                    let offer_problems: Vec<String> = codes(&response)
                        .into_iter()
                        .filter(|c| OFFER_CODES.contains(&c.as_str()))
                        .collect();
                    verdicts.push(Verdict {
                        item: a.catalog_item_id.clone(),
                        response,
                        offer_problems,
                    });
                }
                (s, verdicts)
            }
        })
        .buffered(8)
        .collect()
        .await;
    for (s, verdicts) in &checked {
        if listed.contains(&key(s)) {
            // Listed: an availability passes the offer rules, and (the customer has accepted
            // the MCA, a sales agent asks the minimum on an offered term) is purchasable.
            let passing = verdicts
                .iter()
                .find(|v| v.offer_problems.is_empty() && v.response.purchasable)
                .unwrap_or_else(|| {
                    panic!(
                        "{customer} may not buy listed {}:{}: {verdicts:?}",
                        s.product_id, s.id
                    )
                });
            assert!(
                passing
                    .item
                    .starts_with(&format!("{}:{}:", s.product_id, s.id))
            );
        } else {
            assert!(
                verdicts.iter().all(|v| !v.offer_problems.is_empty()),
                "{customer} may buy unlisted {}:{}: {verdicts:?}",
                s.product_id,
                s.id
            );
        }
    }

    // The product view lists the products of those SKUs, counting them.
    let mut per_product: BTreeMap<String, i32> = BTreeMap::new();
    for s in &purchasable {
        *per_product.entry(s.product_id.clone()).or_default() += 1;
    }
    let products = app
        .catalog(partner, Role::HelpdeskAgent)
        .list_products(pb::ListProductsRequest {
            filter: Some(pb::CatalogFilter {
                purchasable_by_customer_id: customer_id.clone(),
                segment: segment.into(),
                ..Default::default()
            }),
            view: pb::CatalogView::Product.into(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(products.next_page_token.is_empty());
    let counted: BTreeMap<String, i32> = products
        .products
        .into_iter()
        .map(|p| (p.id, p.sku_count))
        .collect();
    assert_eq!(counted, per_product, "{customer}: product view");
}

on_both_backends!(
    purchasable_by_lists_exactly_what_the_check_allows,
    async |app: &TestApp| {
        listing_agrees_with_the_check(app, "us", "us-fabrikam", pb::Segment::Unspecified).await;
        listing_agrees_with_the_check(app, "sk", "sk-lamna-de", pb::Segment::Unspecified).await;
    }
);

on_both_backends!(
    purchasable_by_for_qualified_customers,
    async |app: &TestApp| {
        listing_agrees_with_the_check(app, "gcc", "gcc-woodgrove-county", pb::Segment::Unspecified)
            .await;
        listing_agrees_with_the_check(app, "us", "us-northwind-foundation", pb::Segment::Nonprofit)
            .await;
    }
);

on_both_backends!(
    purchasable_by_follows_the_clock_and_the_customer,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let filter = pb::CatalogFilter {
            purchasable_by_customer_id: fabrikam.clone(),
            ..Default::default()
        };
        let before: BTreeSet<_> = list_skus(app, "us", filter.clone(), 500)
            .await
            .into_iter()
            .map(|s| format!("{}:{}", s.product_id, s.id))
            .collect();
        assert!(before.contains("CFQ7TTC0DYGN:0001"));
        assert!(before.contains("CFQ7TTC0LH18:0001"));
        assert!(
            !before.contains("CFQ7TTC02ROY:0006"),
            "no government offers"
        );
        assert!(
            !before.contains("CFQ7TTC0O3H3:0001"),
            "no add-on without base"
        );
        // Past 2026-11-20 the ended SKUs drop out.
        app.clock.advance(chrono::Duration::days(11));
        let after: BTreeSet<_> = list_skus(app, "us", filter.clone(), 500)
            .await
            .into_iter()
            .map(|s| format!("{}:{}", s.product_id, s.id))
            .collect();
        assert!(!after.contains("CFQ7TTC0DYGN:0001"));
        assert!(!after.contains("CFQ7TTC0IG6W:0001"));
        assert!(after.is_subset(&before));
        assert!(after.contains("CFQ7TTC0LH18:0001"));
        // A GCC approval turns the listing to government offers, which a non-GCC partner
        // still cannot sell: nothing is left.
        common::approved_gcc_of_a_partner_without_gcc(app, "us", &fabrikam).await;
        let gcc = list_skus(app, "us", filter.clone(), 500).await;
        assert!(gcc.is_empty(), "{gcc:?}");

        // Bad customer ids in the filter.
        let mut client = app.catalog("us", Role::SalesAgent);
        let err = client
            .list_products(pb::ListProductsRequest {
                filter: Some(pb::CatalogFilter {
                    purchasable_by_customer_id: "not-a-uuid".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "filter.purchasable_by_customer_id");
        let err = client
            .list_products(pb::ListProductsRequest {
                filter: Some(pb::CatalogFilter {
                    purchasable_by_customer_id: common::unknown_id(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

/// `ask`'s problem codes on `app`, once they are `expected` (replicas hear of each other's
/// changes by notification, a moment after the commit), or what they still were after 10 s.
async fn codes_become(app: &TestApp, ask: &Ask, expected: &[&str]) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let codes = ask.codes(app).await;
        if codes == expected || std::time::Instant::now() > deadline {
            return codes;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Each replica keeps the customers it read; a change committed through another replica
/// (qualifications, the agreement on the customer row, what it holds) must reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_changed_on_one_replica_is_checked_anew_on_another() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let b = a.replica(|_| {}).await;
    // B keeps nothing until its listener is connected (about 100 ms here): give it that, so
    // that what follows runs against kept standings.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let nonprofit = availability(&a, "CFQ7TTC02ROY", "0002", "US", pb::Segment::Nonprofit).await;
    let fabrikam = TestApp::customer_id("us-fabrikam");
    let ask = Ask::new("us", "us-fabrikam", &nonprofit);
    // B reads (and keeps) the customer before and after each change made through A.
    assert_eq!(ask.codes(&b).await, ["SEGMENT_NOT_ALLOWED"]);
    set_qualifications(
        &a,
        "us",
        &fabrikam,
        &[(
            pb::QualificationKind::Nonprofit,
            pb::VettingStatus::Approved,
        )],
    )
    .await;
    assert_eq!(codes_become(&b, &ask, &[]).await, Vec::<String>::new());
    set_qualifications(&a, "us", &fabrikam, &[]).await;
    assert_eq!(
        codes_become(&b, &ask, &["SEGMENT_NOT_ALLOWED"]).await,
        ["SEGMENT_NOT_ALLOWED"]
    );

    let de = availability(&a, "CFQ7TTC0LH18", "0001", "DE", COMMERCIAL).await;
    let ask = Ask::new("de", "de-alpine-ski-house", &de).quantity(5);
    assert_eq!(ask.codes(&b).await, ["AGREEMENT_NOT_ACCEPTED"]);
    accept_agreement(&a, "de", &TestApp::customer_id("de-alpine-ski-house")).await;
    assert_eq!(codes_become(&b, &ask, &[]).await, Vec::<String>::new());

    // What the customer holds (announced after the commit, not by a trigger): an add-on's
    // base bought through A, then cancelled through A.
    let intune = availability(&a, "CFQ7TTC0RDXR", "0001", "US", COMMERCIAL).await;
    let storage = availability(&a, "CFQ7TTC0O3H3", "0001", "US", COMMERCIAL).await;
    let ask = Ask::new("us", "us-fabrikam", &storage);
    assert_eq!(ask.codes(&b).await, ["ADDON_BASE_MISSING"]);
    let mut carts = a.carts("us", Role::SalesAgent);
    let cart = carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: fabrikam.clone(),
            lines: vec![pb::CartLineInput {
                catalog_item_id: intune.catalog_item_id.clone(),
                quantity: 1,
                term: intune.terms[0].term,
                billing_cycle: intune.terms[0].billing_cycle,
                provisioning_context: None,
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    let order = carts
        .checkout(common::checkout_request(&cart))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(codes_become(&b, &ask, &[]).await, Vec::<String>::new());
    a.orders("us", Role::AdminAgent)
        .cancel_order(pb::CancelOrderRequest {
            request_id: rid(),
            order_id: order.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        codes_become(&b, &ask, &["ADDON_BASE_MISSING"]).await,
        ["ADDON_BASE_MISSING"]
    );
    b.stop().await;
    a.stop().await;
}
