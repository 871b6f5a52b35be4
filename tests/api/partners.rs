//! Partners without the demo: the operator registers a partner and mints its users' tokens,
//! and that partner sells; only the operator may call OperatorService.

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

/// Microsoft 365 E3, sold in the US.
const E3: (&str, &str) = ("CFQ7TTC02ROY", "0001");

fn register_request(key: &str, country: &str, currency: &str) -> pb::RegisterPartnerRequest {
    pb::RegisterPartnerRequest {
        request_id: rid(),
        name: format!("{key} reseller"),
        country: country.into(),
        currency: currency.into(),
        gcc_status: pb::GccStatus::Unspecified.into(),
        key: key.into(),
    }
}

async fn register(app: &TestApp, key: &str, country: &str, currency: &str) -> pb::Partner {
    app.operator()
        .register_partner(register_request(key, country, currency))
        .await
        .unwrap()
        .into_inner()
        .partner
        .unwrap()
}

async fn mint(app: &TestApp, partner_id: &str, role: pb::PartnerRole) -> String {
    app.operator()
        .mint_token(pb::MintTokenRequest {
            partner_id: partner_id.into(),
            role: role.into(),
            user: "alice@contoso.example".into(),
            lifetime_seconds: 600,
        })
        .await
        .unwrap()
        .into_inner()
        .token
}

/// Imports and publishes the demo's month, as the catalog admin.
async fn publish_demo_month(app: &TestApp) {
    let month = csp_commerce::demo::MONTH;
    let mut admin = app.admin(None, Role::CatalogAdmin);
    common::upload(
        &mut admin,
        &common::month_request(month, &common::demo_dir(month)),
    )
    .await
    .unwrap();
    admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: month.into(),
        })
        .await
        .unwrap();
}

on_both_backends!(
    a_registered_partner_sells_with_the_demo_off,
    configure: |s| s.demo = false,
    async |app: &TestApp| {
        let mut operator = app.operator();
        assert!(
            operator
                .list_partners(pb::ListPartnersRequest::default())
                .await
                .unwrap()
                .into_inner()
                .partners
                .is_empty(),
            "no demo partners"
        );
        publish_demo_month(app).await;
        let contoso = register(app, "contoso", "US", "USD").await;
        assert_eq!(contoso.key, "contoso");
        assert_eq!(contoso.gcc_status(), pb::GccStatus::NotQualified);
        let listed = operator
            .list_partners(pb::ListPartnersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .partners;
        assert_eq!(listed, vec![contoso.clone()]);

        let token = mint(app, &contoso.id, pb::PartnerRole::SalesAgent).await;
        let bearer = TestApp::token_bearer(&token);
        let mut customers = app.customers_with(bearer.clone());
        let customer = customers
            .create_customer(pb::CreateCustomerRequest {
                request_id: rid(),
                company_name: "Northwind Traders".into(),
                country: "US".into(),
                email: "it@northwind.example".into(),
                domain: "northwind.onmicrosoft.com".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        customers
            .accept_agreement(pb::AcceptAgreementRequest {
                request_id: rid(),
                customer_id: customer.id.clone(),
                etag: String::new(),
                contact_name: "Nora Northwind".into(),
                contact_email: "nora@northwind.example".into(),
                accept_time: None,
            })
            .await
            .unwrap();
        let item =
            common::commercial_availability(&mut app.catalog_with(bearer.clone()), E3, "US").await;
        let cart = app
            .carts_with(bearer.clone())
            .create_cart(pb::CreateCartRequest {
                request_id: rid(),
                customer_id: customer.id.clone(),
                lines: vec![pb::CartLineInput {
                    catalog_item_id: item.catalog_item_id.clone(),
                    quantity: 3,
                    term: item.terms[0].term,
                    billing_cycle: item.terms[0].billing_cycle,
                    provisioning_context: None,
                }],
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        let order = app
            .carts_with(bearer)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        assert_eq!(order.customer_id, customer.id);
        assert_eq!(order.lines.len(), 1);

        // Another partner's user sees none of it.
        let other = register(app, "fabrikam-de", "DE", "EUR").await;
        let theirs = TestApp::token_bearer(&mint(app, &other.id, pb::PartnerRole::GlobalAdmin).await);
        let err = app
            .customers_with(theirs)
            .get_customer(pb::GetCustomerRequest {
                customer_id: customer.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);

on_both_backends!(
    only_the_operator_may_call_the_operator_service,
    async |app: &TestApp| {
        for (partner, role) in [
            (Some("us"), Role::GlobalAdmin),
            (Some("us"), Role::SalesAgent),
            (None, Role::CatalogAdmin),
        ] {
            let bearer = TestApp::token_bearer(&app.token(partner, role));
            let err = app
                .operator_with(bearer)
                .list_partners(pb::ListPartnersRequest::default())
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied, "{role:?}: {err:?}");
            assert_eq!(common::reason(&err), "ROLE_NOT_ALLOWED");
        }
        // And the operator acts on no partner's data.
        let operator = TestApp::token_bearer(&app.token(None, Role::Operator));
        let err = app
            .customers_with(operator)
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(common::reason(&err), "PARTNER_ROLE_REQUIRED");
    }
);

on_both_backends!(
    partners_are_registered_once_and_changed_at_their_etag,
    async |app: &TestApp| {
        let mut operator = app.operator();
        // The same request id again: the same partner; another body: refused.
        let request = register_request("adatum", "GB", "GBP");
        let first = operator
            .register_partner(request.clone())
            .await
            .unwrap()
            .into_inner()
            .partner
            .unwrap();
        let again = operator
            .register_partner(request.clone())
            .await
            .unwrap()
            .into_inner()
            .partner
            .unwrap();
        assert_eq!(first, again);
        let err = operator
            .register_partner(pb::RegisterPartnerRequest {
                name: "Someone else".into(),
                ..request
            })
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "request_id"),
            "REQUEST_ID_REUSED"
        );
        // A key is unique (the demo's "us" is taken).
        let err = operator
            .register_partner(register_request("us", "US", "USD"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
        // Bad input, each field named.
        let err = operator
            .register_partner(pb::RegisterPartnerRequest {
                request_id: rid(),
                name: String::new(),
                country: "USA".into(),
                currency: "dollars".into(),
                gcc_status: 9,
                key: "Not A Key".into(),
            })
            .await
            .unwrap_err();
        for field in ["name", "country", "currency", "gcc_status", "key"] {
            common::assert_bad_field(&err, field);
        }

        // GCC status and name change at the etag; country and currency do not.
        let update = |etag: &str| pb::UpdatePartnerRequest {
            request_id: rid(),
            partner_id: first.id.clone(),
            etag: etag.into(),
            name: "Adatum Cloud".into(),
            gcc_status: pb::GccStatus::Qualified.into(),
        };
        let updated = operator
            .update_partner(update(&first.etag))
            .await
            .unwrap()
            .into_inner()
            .partner
            .unwrap();
        assert_eq!(updated.name, "Adatum Cloud");
        assert_eq!(updated.gcc_status(), pb::GccStatus::Qualified);
        assert_eq!(updated.country, "GB");
        assert_ne!(updated.etag, first.etag);
        let err = operator
            .update_partner(update(&first.etag))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        assert_eq!(common::reason(&err), "ETAG_MISMATCH");
        let read = operator
            .get_partner(pb::GetPartnerRequest {
                partner_id: first.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .partner
            .unwrap();
        assert_eq!(read, updated);
        let err = operator
            .get_partner(pb::GetPartnerRequest {
                partner_id: common::unknown_id(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);

        // Pages: the demo's four partners and this one, two at a time, each once.
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = operator
                .list_partners(pb::ListPartnersRequest {
                    page_size: 2,
                    page_token: token,
                })
                .await
                .unwrap()
                .into_inner();
            assert!(page.partners.len() <= 2);
            seen.extend(page.partners.into_iter().map(|p| p.key));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        seen.sort();
        assert_eq!(seen, ["adatum", "de", "gcc", "sk", "us"]);
    }
);

on_both_backends!(
    minted_tokens_are_bounded_and_speak_for_a_registered_partner,
    async |app: &TestApp| {
        let mut operator = app.operator();
        let us = TestApp::partner_id("us").to_string();
        let minted = operator
            .mint_token(pb::MintTokenRequest {
                partner_id: us.clone(),
                role: pb::PartnerRole::HelpdeskAgent.into(),
                user: "helen".into(),
                lifetime_seconds: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let expires = minted.expire_time.unwrap().seconds - chrono::Utc::now().timestamp();
        assert!(
            (3590..=3600).contains(&expires),
            "an hour by default: {expires}"
        );
        // The helpdesk reads but may not buy.
        let mut customers = app.customers_with(TestApp::token_bearer(&minted.token));
        let listed = customers
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .customers;
        assert!(!listed.is_empty());

        let request = |partner_id: &str, lifetime_seconds: i64| pb::MintTokenRequest {
            partner_id: partner_id.into(),
            role: pb::PartnerRole::SalesAgent.into(),
            user: "sam".into(),
            lifetime_seconds,
        };
        let err = operator
            .mint_token(request(&us, 24 * 3600 + 1))
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "lifetime_seconds"),
            "OUT_OF_RANGE"
        );
        let err = operator
            .mint_token(request(&common::unknown_id(), 60))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = operator
            .mint_token(pb::MintTokenRequest {
                role: 0,
                user: String::new(),
                ..request("x", -1)
            })
            .await
            .unwrap_err();
        for field in ["partner_id", "role", "user", "lifetime_seconds"] {
            common::assert_bad_field(&err, field);
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_signs_no_tokens_says_where_they_come_from() {
    let app = TestApp::spawn_with(common::Backend::Sqlite, |s| s.mint_tokens = false)
        .await
        .unwrap();
    let err = app
        .operator()
        .mint_token(pb::MintTokenRequest {
            partner_id: TestApp::partner_id("us").to_string(),
            role: pb::PartnerRole::SalesAgent.into(),
            user: "sam".into(),
            lifetime_seconds: 60,
        })
        .await
        .unwrap_err();
    let violations = common::violations(&err);
    assert_eq!(violations[0].r#type, "TOKENS_FROM_IDENTITY_PROVIDER");
    assert!(err.message().contains("partner_id"), "{err:?}");
    app.stop().await;
}
