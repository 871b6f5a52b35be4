//! Tenant isolation and authentication through the wire: another partner's customer is
//! indistinguishable from one that does not exist on every customer-scoped RPC; bad tokens
//! are refused by every service; health and reflection answer without a token.

use std::collections::BTreeSet;

use crate::common::{self, TestApp, reason, rid};
use crate::on_both_backends;
use csp_commerce::auth::{Claims, TokenKeys};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::{Code, Status};

const PARTNERS: [&str; 4] = ["us", "de", "sk", "gcc"];
const PARTNER_ROLES: [Role; 4] = [
    Role::GlobalAdmin,
    Role::AdminAgent,
    Role::SalesAgent,
    Role::HelpdeskAgent,
];

/// Asserts that asking for another partner's resource (`foreign`, about `foreign_id`) was
/// answered exactly as asking for one that does not exist (`missing`, about `missing_id`):
/// same code, same google.rpc details and the same message but for the id.
fn assert_not_found_alike(foreign: &Status, foreign_id: &str, missing: &Status, missing_id: &str) {
    assert_eq!(foreign.code(), Code::NotFound, "{foreign:?}");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    let (f, m) = (common::details(foreign), common::details(missing));
    let (fi, mi) = (f.error_info().unwrap(), m.error_info().unwrap());
    assert_eq!(fi.reason, "NOT_FOUND");
    assert_eq!(fi.reason, mi.reason);
    assert_eq!(fi.domain, mi.domain);
    assert_eq!(fi.metadata, mi.metadata);
    match (f.resource_info(), m.resource_info()) {
        (Some(fr), Some(mr)) => {
            assert_eq!(fr.resource_type, mr.resource_type);
            assert_eq!(fr.resource_type, "customer");
            assert_eq!(fr.owner, mr.owner);
            assert_eq!(fr.description, mr.description);
            assert_eq!(
                fr.resource_name.replace(foreign_id, "ID"),
                mr.resource_name.replace(missing_id, "ID")
            );
        }
        (None, None) => {}
        other => panic!("resource info differs: {other:?}"),
    }
    assert_eq!(
        foreign.message().replace(foreign_id, "ID"),
        missing.message().replace(missing_id, "ID")
    );
    assert_eq!(
        format!("{f:?}").replace(foreign_id, "ID"),
        format!("{m:?}").replace(missing_id, "ID"),
        "every detail alike"
    );
    // Nothing about the owner leaks.
    for partner in PARTNERS {
        let owner = TestApp::partner_id(partner).to_string();
        assert!(!format!("{foreign:?}").contains(&owner), "{foreign:?}");
    }
}

fn seed_customers_of(partner: &str) -> BTreeSet<String> {
    common::seed()
        .unwrap()
        .customers
        .iter()
        .filter(|c| c.partner == partner)
        .map(|c| c.id.to_string())
        .collect()
}

fn foreign_customers_of(partner: &str) -> Vec<String> {
    common::seed()
        .unwrap()
        .customers
        .iter()
        .filter(|c| c.partner != partner)
        .map(|c| c.id.to_string())
        .collect()
}

async fn get(app: &TestApp, partner: &str, id: &str) -> Result<pb::Customer, Status> {
    app.customers(partner, Role::HelpdeskAgent)
        .get_customer(pb::GetCustomerRequest {
            customer_id: id.into(),
        })
        .await
        .map(|r| r.into_inner().customer.unwrap())
}

fn submit_request(id: &str, etag: &str) -> pb::SubmitQualificationRequest {
    pb::SubmitQualificationRequest {
        etag: etag.into(),
        ..common::submission(id, pb::QualificationKind::StateOwnedEntity)
    }
}

fn accept_request(id: &str, etag: &str) -> pb::AcceptAgreementRequest {
    pb::AcceptAgreementRequest {
        request_id: rid(),
        customer_id: id.into(),
        etag: etag.into(),
        contact_name: "Mallory".into(),
        contact_email: "mallory@example.com".into(),
        accept_time: None,
    }
}

/// A German commercial catalog item, found through the catalog.
async fn de_item(app: &TestApp) -> pb::Availability {
    let mut catalog = app.catalog("de", Role::SalesAgent);
    common::commercial_availability(&mut catalog, ("CFQ7TTC0LH18", "0001"), "DE").await
}

fn check_request(id: &str, a: &pb::Availability) -> pb::CheckPurchasabilityRequest {
    pb::CheckPurchasabilityRequest {
        month: String::new(),
        customer_id: id.into(),
        catalog_item_id: a.catalog_item_id.clone(),
        quantity: 1,
        term: a.terms[0].term,
        billing_cycle: a.terms[0].billing_cycle,
    }
}

fn purchasable_by(id: &str) -> pb::ListProductsRequest {
    pb::ListProductsRequest {
        month: String::new(),
        filter: Some(pb::CatalogFilter {
            purchasable_by_customer_id: id.into(),
            ..Default::default()
        }),
        view: pb::CatalogView::Sku.into(),
        page_size: 10,
        page_token: String::new(),
    }
}

on_both_backends!(
    another_partners_customer_is_not_found_like_a_missing_one,
    async |app: &TestApp| {
        let foreign = TestApp::customer_id("us-woodgrove-de");
        let missing = common::unknown_id();
        let item = de_item(app).await;
        // The owner sees it, so it exists.
        get(app, "us", &foreign).await.unwrap();
        let etag = get(app, "us", &foreign).await.unwrap().etag;

        let mut customers = app.customers("de", Role::GlobalAdmin);
        let mut catalog = app.catalog("de", Role::GlobalAdmin);

        // GetCustomer
        let f = get(app, "de", &foreign).await.unwrap_err();
        let m = get(app, "de", &missing).await.unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        // SubmitQualification, with and without the (right) etag
        for tag in [etag.as_str(), ""] {
            let f = customers
                .submit_qualification(submit_request(&foreign, tag))
                .await
                .unwrap_err();
            let m = customers
                .submit_qualification(submit_request(&missing, tag))
                .await
                .unwrap_err();
            assert_not_found_alike(&f, &foreign, &m, &missing);
        }
        // AcceptAgreement, with and without the (right) etag
        for tag in [etag.as_str(), ""] {
            let f = customers
                .accept_agreement(accept_request(&foreign, tag))
                .await
                .unwrap_err();
            let m = customers
                .accept_agreement(accept_request(&missing, tag))
                .await
                .unwrap_err();
            assert_not_found_alike(&f, &foreign, &m, &missing);
        }
        // CheckPurchasability, with an existing item and with a missing one
        let f = catalog
            .check_purchasability(check_request(&foreign, &item))
            .await
            .unwrap_err();
        let m = catalog
            .check_purchasability(check_request(&missing, &item))
            .await
            .unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        let mut nowhere = item.clone();
        nowhere.catalog_item_id = "CFQ7TTC0LH18:0001:NOSUCHAVAIL1".into();
        let f = catalog
            .check_purchasability(check_request(&foreign, &nowhere))
            .await
            .unwrap_err();
        let m = catalog
            .check_purchasability(check_request(&missing, &nowhere))
            .await
            .unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        // ListProducts(purchasable_by_customer_id), both views
        for view in [pb::CatalogView::Sku, pb::CatalogView::Product] {
            let mut request = purchasable_by(&foreign);
            request.view = view.into();
            let f = catalog.list_products(request).await.unwrap_err();
            let mut request = purchasable_by(&missing);
            request.view = view.into();
            let m = catalog.list_products(request).await.unwrap_err();
            assert_not_found_alike(&f, &foreign, &m, &missing);
        }
        // The customer-scoped cart and order RPCs.
        let mut carts = app.carts("de", Role::GlobalAdmin);
        let mut orders = app.orders("de", Role::GlobalAdmin);
        let line = pb::CartLineInput {
            catalog_item_id: item.catalog_item_id.clone(),
            quantity: 1,
            term: item.terms[0].term,
            billing_cycle: item.terms[0].billing_cycle,
            provisioning_context: None,
        };
        let create = |customer_id: &str| pb::CreateCartRequest {
            request_id: rid(),
            customer_id: customer_id.into(),
            lines: vec![line.clone()],
        };
        let f = carts.create_cart(create(&foreign)).await.unwrap_err();
        let m = carts.create_cart(create(&missing)).await.unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        let list_carts = |customer_id: &str| pb::ListCartsRequest {
            customer_id: customer_id.into(),
            ..Default::default()
        };
        let f = carts.list_carts(list_carts(&foreign)).await.unwrap_err();
        let m = carts.list_carts(list_carts(&missing)).await.unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        let list_orders = |customer_id: &str| pb::ListOrdersRequest {
            customer_id: customer_id.into(),
            ..Default::default()
        };
        let f = orders.list_orders(list_orders(&foreign)).await.unwrap_err();
        let m = orders.list_orders(list_orders(&missing)).await.unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);
        let list_subscriptions = |customer_id: &str| pb::ListSubscriptionsRequest {
            customer_id: customer_id.into(),
            ..Default::default()
        };
        let f = orders
            .list_subscriptions(list_subscriptions(&foreign))
            .await
            .unwrap_err();
        let m = orders
            .list_subscriptions(list_subscriptions(&missing))
            .await
            .unwrap_err();
        assert_not_found_alike(&f, &foreign, &m, &missing);

        // The owner gets answers to the same questions.
        let mut us_catalog = app.catalog("us", Role::SalesAgent);
        assert!(
            us_catalog
                .check_purchasability(check_request(&foreign, &item))
                .await
                .unwrap()
                .into_inner()
                .purchasable
        );
        let page = us_catalog
            .list_products(purchasable_by(&foreign))
            .await
            .unwrap()
            .into_inner();
        assert!(!page.skus.is_empty());
    }
);

on_both_backends!(
    no_partner_reaches_any_other_partners_customer,
    async |app: &TestApp| {
        let item = de_item(app).await;
        let mut etags = Vec::new();
        for customer in common::seed().unwrap().customers {
            let c = get(app, &customer.partner, &customer.id.to_string())
                .await
                .unwrap();
            etags.push((customer.key, c));
        }
        for partner in PARTNERS {
            let mut catalog = app.catalog(partner, Role::SalesAgent);
            let mut customers = app.customers(partner, Role::SalesAgent);
            for id in foreign_customers_of(partner) {
                let err = get(app, partner, &id).await.unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{partner} {id}");
                let err = catalog
                    .check_purchasability(check_request(&id, &item))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{partner} {id}");
                let err = catalog
                    .list_products(purchasable_by(&id))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{partner} {id}");
                let err = customers
                    .submit_qualification(submit_request(&id, ""))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{partner} {id}");
                let err = customers
                    .accept_agreement(accept_request(&id, ""))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{partner} {id}");
            }
            for id in seed_customers_of(partner) {
                get(app, partner, &id).await.unwrap();
            }
        }
        // None of those writes landed anywhere.
        for (customer, (key, before)) in common::seed().unwrap().customers.into_iter().zip(etags) {
            let after = get(app, &customer.partner, &customer.id.to_string())
                .await
                .unwrap();
            assert_eq!(after, before, "{key}");
        }
    }
);

on_both_backends!(
    writes_to_another_partners_customer_change_nothing,
    async |app: &TestApp| {
        let id = TestApp::customer_id("de-alpine-ski-house");
        let before = get(app, "de", &id).await.unwrap();
        assert!(before.agreement.is_none());
        assert!(before.qualifications.is_empty());
        app.clock.advance(chrono::Duration::minutes(10));

        for intruder in ["us", "sk", "gcc"] {
            let mut customers = app.customers(intruder, Role::GlobalAdmin);
            for etag in [before.etag.as_str(), "", "v999"] {
                let err = customers
                    .submit_qualification(submit_request(&id, etag))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{intruder}: {err:?}");
                let err = customers
                    .accept_agreement(accept_request(&id, etag))
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::NotFound, "{intruder}: {err:?}");
            }
        }
        // The owner sees the customer exactly as before: etag, qualifications, agreement.
        let after = get(app, "de", &id).await.unwrap();
        assert_eq!(after, before);
        // And the old etag still works for the owner.
        let changed = app
            .customers("de", Role::AdminAgent)
            .submit_qualification(submit_request(&id, &before.etag))
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_ne!(changed.etag, before.etag);
        assert_eq!(changed.qualifications.len(), 1);
    }
);

on_both_backends!(
    listings_and_request_ids_are_per_partner,
    async |app: &TestApp| {
        for partner in PARTNERS {
            let listed: BTreeSet<String> = app
                .customers(partner, Role::HelpdeskAgent)
                .list_customers(pb::ListCustomersRequest::default())
                .await
                .unwrap()
                .into_inner()
                .customers
                .into_iter()
                .map(|c| c.id)
                .collect();
            assert_eq!(listed, seed_customers_of(partner), "{partner}");
        }

        // The same request id and body in two partners makes two customers, each its own.
        let request = pb::CreateCustomerRequest {
            request_id: "shared-request-id".into(),
            company_name: "Same Name Ltd".into(),
            country: "GB".into(),
            email: "it@same.example.com".into(),
            domain: String::new(),
        };
        let mine = app
            .customers("us", Role::SalesAgent)
            .create_customer(request.clone())
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        let theirs = app
            .customers("de", Role::SalesAgent)
            .create_customer(request.clone())
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_ne!(mine.id, theirs.id);
        // And another body under that request id is fine for a third partner.
        let mut other = request.clone();
        other.company_name = "Different Ltd".into();
        let third = app
            .customers("sk", Role::SalesAgent)
            .create_customer(other)
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(third.company_name, "Different Ltd");
        assert_eq!(
            get(app, "us", &theirs.id).await.unwrap_err().code(),
            Code::NotFound
        );
        assert_eq!(
            get(app, "de", &mine.id).await.unwrap_err().code(),
            Code::NotFound
        );

        let us_list: BTreeSet<String> = app
            .customers("us", Role::HelpdeskAgent)
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .customers
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut expected = seed_customers_of("us");
        expected.insert(mine.id.clone());
        assert_eq!(us_list, expected);
        let gcc_list = app
            .customers("gcc", Role::HelpdeskAgent)
            .list_customers(pb::ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(gcc_list.customers.len(), 2);

        // One partner's page token does not page another partner's customers.
        let page = app
            .customers("us", Role::HelpdeskAgent)
            .list_customers(pb::ListCustomersRequest {
                page_size: 1,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!page.next_page_token.is_empty());
        let err = app
            .customers("de", Role::HelpdeskAgent)
            .list_customers(pb::ListCustomersRequest {
                page_size: 1,
                page_token: page.next_page_token,
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "page_token");
    }
);

/// Mints a token with arbitrary claims and algorithm, signed with `secret`.
fn forge(
    secret: &str,
    algorithm: jsonwebtoken::Algorithm,
    partner: Option<String>,
    role: &str,
    ttl_seconds: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        &Claims {
            sub: "forger".into(),
            partner_id: partner,
            role: role.into(),
            iat: now,
            exp: now + ttl_seconds,
        },
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// `authorization` values that must not get in, each with a label.
fn bad_authorizations(app: &TestApp) -> Vec<(&'static str, Option<String>)> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let us = TestApp::partner_id("us").to_string();
    let good = app.token(Some("us"), Role::GlobalAdmin);
    let other_keys = TokenKeys::new("another-secret-0123456789abcdef", None).unwrap();
    let other_secret = other_keys
        .mint(
            "tester",
            Some(TestApp::partner_id("us")),
            Role::GlobalAdmin,
            chrono::Duration::hours(1),
        )
        .unwrap();
    let expired = app
        .keys
        .mint(
            "tester",
            Some(TestApp::partner_id("us")),
            Role::GlobalAdmin,
            chrono::Duration::hours(-1),
        )
        .unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(
            format!(
                r#"{{"sub":"x","partner_id":"{us}","role":"global_admin","iat":0,"exp":{}}}"#,
                chrono::Utc::now().timestamp() + 3600
            )
            .as_bytes()
        )
    );
    // Another first character of the signature (six significant bits).
    let (signed, signature) = good.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    vec![
        ("no token", None),
        ("garbage", Some("Bearer garbage".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("no Bearer prefix", Some(good.clone())),
        ("basic auth", Some("Basic dXNlcjpwYXNzd29yZA==".into())),
        ("another secret", Some(format!("Bearer {other_secret}"))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("tampered signature", Some(format!("Bearer {tampered}"))),
        ("alg none", Some(format!("Bearer {unsigned}"))),
        (
            "HS512",
            Some(format!(
                "Bearer {}",
                forge(
                    common::TEST_SECRET,
                    jsonwebtoken::Algorithm::HS512,
                    Some(us.clone()),
                    "global_admin",
                    3600
                )
            )),
        ),
        (
            "unknown role",
            Some(format!(
                "Bearer {}",
                forge(
                    common::TEST_SECRET,
                    jsonwebtoken::Algorithm::HS256,
                    Some(us.clone()),
                    "superuser",
                    3600
                )
            )),
        ),
        (
            "partner role without partner",
            Some(format!(
                "Bearer {}",
                forge(
                    common::TEST_SECRET,
                    jsonwebtoken::Algorithm::HS256,
                    None,
                    "sales_agent",
                    3600
                )
            )),
        ),
        (
            "partner id not a UUID",
            Some(format!(
                "Bearer {}",
                forge(
                    common::TEST_SECRET,
                    jsonwebtoken::Algorithm::HS256,
                    Some("us".into()),
                    "sales_agent",
                    3600
                )
            )),
        ),
    ]
}

/// One call to each service with `bearer`: the status codes, by service.
async fn call_every_service(app: &TestApp, bearer: common::Bearer) -> Vec<(&'static str, Status)> {
    let fabrikam = TestApp::customer_id("us-fabrikam");
    let mut out = Vec::new();
    let status = |r: Result<(), Status>| r.err().unwrap_or_else(|| Status::new(Code::Ok, ""));
    out.push((
        "CatalogService",
        status(
            app.catalog_with(bearer.clone())
                .get_product(pb::GetProductRequest {
                    month: String::new(),
                    product_id: "CFQ7TTC0LH18".into(),
                })
                .await
                .map(drop),
        ),
    ));
    out.push((
        "CustomerService",
        status(
            app.customers_with(bearer.clone())
                .get_customer(pb::GetCustomerRequest {
                    customer_id: fabrikam.clone(),
                })
                .await
                .map(drop),
        ),
    ));
    out.push((
        "CartService",
        status(
            app.carts_with(bearer.clone())
                .list_carts(pb::ListCartsRequest {
                    customer_id: fabrikam.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ));
    out.push((
        "OrderService",
        status(
            app.orders_with(bearer.clone())
                .list_orders(pb::ListOrdersRequest {
                    customer_id: fabrikam.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ));
    out.push((
        "CatalogAdminService",
        status(
            app.admin_with(bearer.clone())
                .list_month_changes(pb::ListMonthChangesRequest {
                    month: "2026-11".into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ));
    out.push((
        "OperatorService",
        status(
            app.operator_with(bearer.clone())
                .list_partners(pb::ListPartnersRequest::default())
                .await
                .map(drop),
        ),
    ));
    out
}

on_both_backends!(
    every_service_refuses_a_missing_or_bad_token,
    // Each bad token on every service: more failed authentications than a minute's default.
    configure: |s| s.failed_auth_per_minute = 1_000,
    async |app: &TestApp| {
        for (label, authorization) in bad_authorizations(app) {
            let bearer = TestApp::raw_bearer(authorization.as_deref());
            for (service, status) in call_every_service(app, bearer).await {
                assert_eq!(
                    status.code(),
                    Code::Unauthenticated,
                    "{label} on {service}: {status:?}"
                );
                assert_eq!(reason(&status), "UNAUTHENTICATED", "{label} on {service}");
            }
        }
        // A catalog_admin token carries no partner; it is a valid token.
        let token = app.token(None, Role::CatalogAdmin);
        let bearer = TestApp::raw_bearer(Some(&format!("Bearer {token}")));
        for (service, status) in call_every_service(app, bearer).await {
            assert_ne!(
                status.code(),
                Code::Unauthenticated,
                "{service}: {status:?}"
            );
        }
        // A good token (either spelling of the scheme) gets in.
        for scheme in ["Bearer", "bearer"] {
            let token = app.token(Some("us"), Role::SalesAgent);
            let bearer = TestApp::raw_bearer(Some(&format!("{scheme} {token}")));
            let results = call_every_service(app, bearer).await;
            assert_eq!(results[0].1.code(), Code::Ok, "{scheme}: {:?}", results[0]);
            assert_eq!(results[1].1.code(), Code::Ok, "{scheme}: {:?}", results[1]);
        }
    }
);

on_both_backends!(
    only_the_catalog_admin_may_call_the_admin_service,
    async |app: &TestApp| {
        for partner in PARTNERS {
            for role in PARTNER_ROLES {
                let err = app
                    .admin(Some(partner), role)
                    .list_month_changes(pb::ListMonthChangesRequest {
                        month: "2026-11".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap_err();
                assert_eq!(
                    err.code(),
                    Code::PermissionDenied,
                    "{partner} {role:?}: {err:?}"
                );
                assert_eq!(reason(&err), "ROLE_NOT_ALLOWED");
                let err = app
                    .admin(Some(partner), role)
                    .publish_month(pb::PublishMonthRequest {
                        request_id: "r".into(),
                        month: "2026-12".into(),
                    })
                    .await
                    .unwrap_err();
                assert_eq!(err.code(), Code::PermissionDenied, "{partner} {role:?}");
            }
        }
        // The operator gets past the gate (whatever the service then answers).
        let result = app
            .admin(None, Role::CatalogAdmin)
            .list_month_changes(pb::ListMonthChangesRequest {
                month: "2026-11".into(),
                ..Default::default()
            })
            .await;
        if let Err(err) = result {
            assert!(
                ![
                    Code::PermissionDenied,
                    Code::Unauthenticated,
                    Code::Internal
                ]
                .contains(&err.code()),
                "{err:?}"
            );
        }
    }
);

on_both_backends!(
    cart_and_order_services_need_a_token,
    async |app: &TestApp| {
        let fabrikam = TestApp::customer_id("us-fabrikam");
        // Without a token: UNAUTHENTICATED.
        let anonymous = TestApp::raw_bearer(None);
        let err = app
            .carts_with(anonymous.clone())
            .get_cart(pb::GetCartRequest {
                cart_id: common::unknown_id(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        let err = app
            .orders_with(anonymous)
            .get_order(pb::GetOrderRequest {
                order_id: common::unknown_id(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);

        // With a token: answered (carts and orders have landed; they were UNIMPLEMENTED).
        for role in PARTNER_ROLES {
            let carts = app
                .carts("us", role)
                .list_carts(pb::ListCartsRequest {
                    customer_id: fabrikam.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|e| panic!("{role:?}: {e:?}"))
                .into_inner();
            assert!(carts.carts.is_empty());
            let orders = app
                .orders("us", role)
                .list_orders(pb::ListOrdersRequest {
                    customer_id: fabrikam.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|e| panic!("{role:?}: {e:?}"))
                .into_inner();
            assert!(orders.orders.is_empty());
        }
        let err = app
            .orders("us", Role::SalesAgent)
            .get_order(pb::GetOrderRequest {
                order_id: common::unknown_id(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
    }
);

on_both_backends!(health_answers_without_a_token, async |app: &TestApp| {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "csp.commerce.v1.CatalogService",
        "csp.commerce.v1.CustomerService",
        "csp.commerce.v1.CartService",
        "csp.commerce.v1.OrderService",
        "csp.commerce.v1.CatalogAdminService",
        "csp.commerce.v1.OperatorService",
        "",
    ] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("{service:?}: {e:?}"))
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
    let err = health
        .check(HealthCheckRequest {
            service: "csp.commerce.v1.NoSuchService".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
});

const SERVICES: [&str; 7] = [
    "csp.commerce.v1.CatalogService",
    "csp.commerce.v1.CatalogAdminService",
    "csp.commerce.v1.OperatorService",
    "csp.commerce.v1.CustomerService",
    "csp.commerce.v1.CartService",
    "csp.commerce.v1.OrderService",
    "grpc.health.v1.Health",
];

on_both_backends!(
    reflection_v1_lists_and_describes_the_services,
    async |app: &TestApp| {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let requests = vec![
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            },
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "csp.commerce.v1.CustomerService".into(),
                )),
            },
        ];
        let mut stream = client
            .server_reflection_info(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        let first = stream.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
            panic!("{first:?}");
        };
        let names: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
        for service in SERVICES {
            assert!(names.contains(service), "{service} in {names:?}");
        }
        let second = stream.message().await.unwrap().unwrap();
        let Some(MessageResponse::FileDescriptorResponse(files)) = second.message_response else {
            panic!("{second:?}");
        };
        let described = files
            .file_descriptor_proto
            .iter()
            .map(|bytes| {
                <prost_types::FileDescriptorProto as prost::Message>::decode(bytes.as_slice())
                    .unwrap()
            })
            .find(|f| f.name() == "csp/commerce/v1/customer.proto")
            .expect("customer.proto");
        let service = described
            .service
            .iter()
            .find(|s| s.name() == "CustomerService")
            .unwrap();
        let methods: BTreeSet<&str> = service.method.iter().map(|m| m.name()).collect();
        assert_eq!(
            methods,
            BTreeSet::from([
                "CreateCustomer",
                "GetCustomer",
                "ListCustomers",
                "SubmitQualification",
                "WithdrawQualification",
                "AcceptAgreement"
            ])
        );
    }
);

on_both_backends!(
    reflection_v1alpha_lists_the_services,
    async |app: &TestApp| {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let response = stream.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("{response:?}");
        };
        let names: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
        for service in SERVICES {
            assert!(names.contains(service), "{service} in {names:?}");
        }
        assert!(
            stream.message().await.unwrap().is_none(),
            "one answer per request"
        );
    }
);
