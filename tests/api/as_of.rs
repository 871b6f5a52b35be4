//! Catalog reads as of a stored month (issue 22), through the wire: after 2026-12 is
//! published, 2026-11 is still read as it was (its prices, limits and products), paged within
//! itself with tokens bound to it; a month not kept is refused naming the months kept; and the
//! tenant rules are those of the current month's reads.

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

const NOVEMBER: &str = "2026-11";
const DECEMBER: &str = "2026-12";
/// Its max quantity is 50 in November, 100 in December.
const RESIZED: (&str, &str) = ("CFQ7TTC0VA61", "0001");
/// A product new in December.
const NEW_IN_DECEMBER: &str = "DZH318Z0BQ5S";

async fn import_december(app: &TestApp) {
    common::upload(
        &mut app.admin(None, Role::CatalogAdmin),
        &common::month_request(DECEMBER, &common::demo_dir(DECEMBER)),
    )
    .await
    .unwrap();
}

async fn publish_december(app: &TestApp) {
    app.admin(None, Role::CatalogAdmin)
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: DECEMBER.into(),
        })
        .await
        .unwrap();
}

/// A US commercial availability whose price December changes, from December's diff (read
/// before it is published).
async fn a_repriced_item(app: &TestApp) -> String {
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let mut token = String::new();
    loop {
        let page = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: DECEMBER.into(),
                page_size: 500,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        if let Some(c) = page.changes.iter().find(|c| {
            c.kind == pb::ChangeKind::Changed as i32
                && c.country == "US"
                && c.segment == pb::Segment::Commercial as i32
                && c.changes.iter().any(|f| f.field.starts_with("price "))
        }) {
            return format!("{}:{}:{}", c.product_id, c.sku_id, c.availability_id);
        }
        assert!(!page.next_page_token.is_empty(), "no repriced US item");
        token = page.next_page_token;
    }
}

/// The (term, billing cycle) of the first term priced differently in `after`.
fn a_repriced_term(before: &pb::Availability, after: &pb::Availability) -> (i32, i32) {
    let t = before
        .terms
        .iter()
        .find(|t| {
            after.terms.iter().any(|d| {
                (d.term, d.billing_cycle) == (t.term, t.billing_cycle)
                    && d.term_price != t.term_price
            })
        })
        .expect("a term priced differently");
    (t.term, t.billing_cycle)
}

async fn resolve(app: &TestApp, item: &str, month: &str) -> pb::ResolveCatalogItemResponse {
    app.catalog("us", Role::SalesAgent)
        .resolve_catalog_item(pb::ResolveCatalogItemRequest {
            catalog_item_id: item.into(),
            month: month.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn price_of(a: &pb::Availability, term: i32, cycle: i32) -> csp_commerce::grpc::google_type::Money {
    a.terms
        .iter()
        .find(|t| (t.term, t.billing_cycle) == (term, cycle))
        .and_then(|t| t.term_price.clone())
        .unwrap()
}

fn check(
    customer: &str,
    item: &str,
    term: i32,
    cycle: i32,
    month: &str,
) -> pb::CheckPurchasabilityRequest {
    pb::CheckPurchasabilityRequest {
        customer_id: TestApp::customer_id(customer),
        catalog_item_id: item.into(),
        quantity: 3,
        term,
        billing_cycle: cycle,
        month: month.into(),
    }
}

async fn max_quantity(app: &TestApp, month: &str) -> i32 {
    app.catalog("us", Role::SalesAgent)
        .get_sku(pb::GetSkuRequest {
            product_id: RESIZED.0.into(),
            sku_id: RESIZED.1.into(),
            month: month.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .sku
        .unwrap()
        .max_quantity
}

on_both_backends!(
    a_past_month_is_read_as_it_was_published,
    async |app: &TestApp| {
        import_december(app).await;
        // November is current: naming it is the same as not.
        assert_eq!(max_quantity(app, NOVEMBER).await, 50);
        let item = a_repriced_item(app).await;
        let before = resolve(app, &item, "").await;
        publish_december(app).await;
        let december = resolve(app, &item, "").await.availability.unwrap();
        let (term, cycle) = a_repriced_term(before.availability.as_ref().unwrap(), &december);

        // A price changed in December is read at its old value for November.
        let november = resolve(app, &item, NOVEMBER).await;
        assert_eq!(
            november, before,
            "November answers what it answered when current"
        );
        let november = november.availability.unwrap();
        assert_eq!(november.price_list_month, NOVEMBER);
        assert_eq!(december.price_list_month, DECEMBER);
        assert_ne!(
            price_of(&november, term, cycle),
            price_of(&december, term, cycle)
        );
        assert_eq!(
            resolve(app, &item, DECEMBER).await.availability.unwrap(),
            december
        );

        // CheckPurchasability judges now and prices at the month asked for.
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let now = catalog
            .check_purchasability(check("us-fabrikam", &item, term, cycle, ""))
            .await
            .unwrap()
            .into_inner();
        let then = catalog
            .check_purchasability(check("us-fabrikam", &item, term, cycle, NOVEMBER))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(then.unit_term_price, Some(price_of(&november, term, cycle)));
        assert_eq!(now.unit_term_price, Some(price_of(&december, term, cycle)));
        assert_eq!(
            (then.purchasable, &then.problems),
            (now.purchasable, &now.problems)
        );
        assert_ne!(then.term_price, now.term_price);

        // The SKU's limit and the products as they were.
        assert_eq!(max_quantity(app, NOVEMBER).await, 50);
        assert_eq!(max_quantity(app, "").await, 100);
        let product = |month: &str| pb::GetProductRequest {
            product_id: NEW_IN_DECEMBER.into(),
            month: month.into(),
        };
        assert!(catalog.get_product(product("")).await.is_ok());
        let missing = catalog.get_product(product(NOVEMBER)).await.unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        let skus = catalog
            .list_skus(pb::ListSkusRequest {
                product_id: RESIZED.0.into(),
                month: NOVEMBER.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .skus;
        assert_eq!(
            skus.iter()
                .find(|s| s.id == RESIZED.1)
                .unwrap()
                .max_quantity,
            50
        );
        let availabilities = catalog
            .list_availabilities(pb::ListAvailabilitiesRequest {
                product_id: RESIZED.0.into(),
                sku_id: RESIZED.1.into(),
                month: NOVEMBER.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .availabilities;
        assert!(!availabilities.is_empty());
        assert!(
            availabilities
                .iter()
                .all(|a| a.price_list_month == NOVEMBER)
        );
    }
);

/// Every row of a listing of `month`, `page_size` at a time.
async fn all_skus(app: &TestApp, month: &str, page_size: i32) -> Vec<(String, String)> {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    let (mut rows, mut token) = (Vec::new(), String::new());
    loop {
        let page = catalog
            .list_products(pb::ListProductsRequest {
                view: pb::CatalogView::Sku.into(),
                page_size,
                page_token: token,
                month: month.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.skus.len() <= page_size as usize);
        rows.extend(page.skus.into_iter().map(|s| (s.product_id, s.id)));
        if page.next_page_token.is_empty() {
            return rows;
        }
        token = page.next_page_token;
    }
}

on_both_backends!(
    a_past_month_is_paged_within_itself_and_its_tokens_are_its_own,
    async |app: &TestApp| {
        let november_when_current = all_skus(app, "", 500).await;
        import_december(app).await;
        publish_december(app).await;
        let november = all_skus(app, NOVEMBER, 23).await;
        assert_eq!(november, november_when_current, "every row once, in order");
        let december = all_skus(app, "", 500).await;
        assert_ne!(november, december);
        assert!(
            november.iter().any(|(p, _)| p == "CFQ7TTC0QUZ9"),
            "ended in December"
        );
        assert!(!november.iter().any(|(p, _)| p == NEW_IN_DECEMBER));

        // A token made for November is refused for December (and for the current month).
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let first = catalog
            .list_products(pb::ListProductsRequest {
                view: pb::CatalogView::Sku.into(),
                page_size: 10,
                month: NOVEMBER.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for month in ["", DECEMBER] {
            let refused = catalog
                .list_products(pb::ListProductsRequest {
                    view: pb::CatalogView::Sku.into(),
                    page_size: 10,
                    page_token: first.next_page_token.clone(),
                    month: month.into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            common::assert_bad_field(&refused, "page_token");
        }
        // The same for an SKU's availabilities, paged 2 at a time.
        let availabilities = |month: &str, token: String| pb::ListAvailabilitiesRequest {
            product_id: RESIZED.0.into(),
            sku_id: RESIZED.1.into(),
            page_size: 2,
            page_token: token,
            month: month.into(),
            ..Default::default()
        };
        let (mut paged, mut token) = (Vec::new(), String::new());
        loop {
            let page = catalog
                .list_availabilities(availabilities(NOVEMBER, token))
                .await
                .unwrap()
                .into_inner();
            paged.extend(page.availabilities);
            if page.next_page_token.is_empty() {
                break;
            }
            let refused = catalog
                .list_availabilities(availabilities("", page.next_page_token.clone()))
                .await
                .unwrap_err();
            common::assert_bad_field(&refused, "page_token");
            token = page.next_page_token;
        }
        assert!(paged.len() > 2, "more than one page");
        assert!(paged.iter().all(|a| a.price_list_month == NOVEMBER));
        let mut ids: Vec<_> = paged.iter().map(|a| &a.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), paged.len(), "each once");
    }
);

/// Asserts MONTH_NOT_KEPT for `month`, naming the months kept (and only them).
fn assert_not_kept(status: &tonic::Status, month: &str, kept: &[&str], not_kept: &[&str]) {
    let violations = common::violations(status);
    assert_eq!(common::reason(status), "MONTH_NOT_KEPT");
    assert_eq!(violations[0].subject, format!("months/{month}"));
    for m in kept {
        assert!(violations[0].description.contains(m), "{status:?}");
        assert!(status.message().contains(m), "{status:?}");
    }
    for m in not_kept {
        assert!(!violations[0].description.contains(m), "{status:?}");
    }
}

on_both_backends!(
    a_month_not_kept_is_refused_naming_the_months_kept,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let get = |month: &str| pb::GetSkuRequest {
            product_id: RESIZED.0.into(),
            sku_id: RESIZED.1.into(),
            month: month.into(),
        };
        let refused = catalog.get_sku(get("2025-06")).await.unwrap_err();
        assert_not_kept(&refused, "2025-06", &[NOVEMBER], &[DECEMBER]);
        // Imported is not published: not kept.
        import_december(app).await;
        let refused = catalog.get_sku(get(DECEMBER)).await.unwrap_err();
        assert_not_kept(&refused, DECEMBER, &[NOVEMBER], &[]);
        publish_december(app).await;
        let refused = catalog.get_sku(get("2027-01")).await.unwrap_err();
        assert_not_kept(&refused, "2027-01", &[NOVEMBER, DECEMBER], &[]);
        // Every read says the same.
        let refused = catalog
            .list_products(pb::ListProductsRequest {
                month: "2026-10".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_not_kept(&refused, "2026-10", &[NOVEMBER, DECEMBER], &[]);
        let refused = catalog
            .check_purchasability(check(
                "us-fabrikam",
                "CFQ7TTC0LH18:0001:0001",
                1,
                1,
                "2026-10",
            ))
            .await
            .unwrap_err();
        assert_not_kept(&refused, "2026-10", &[NOVEMBER, DECEMBER], &[]);
        // A malformed month is a bad field.
        let malformed = catalog.get_sku(get("2026-13")).await.unwrap_err();
        assert_eq!(common::assert_bad_field(&malformed, "month"), "MALFORMED");
    }
);

on_both_backends!(
    reads_as_of_a_month_keep_the_tenant_rules,
    async |app: &TestApp| {
        import_december(app).await;
        publish_december(app).await;
        let item = common::commercial_availability(
            &mut app.catalog("us", Role::SalesAgent),
            RESIZED,
            "US",
        )
        .await;
        let (term, cycle) = (item.terms[0].term, item.terms[0].billing_cycle);
        let item = item.catalog_item_id;
        // Another partner's customer is NOT_FOUND, as in the current month.
        let mut us = app.catalog("us", Role::SalesAgent);
        let foreign = us
            .check_purchasability(check("de-tailspin", &item, term, cycle, NOVEMBER))
            .await
            .unwrap_err();
        assert_eq!(foreign.code(), Code::NotFound);
        let nobody = common::unknown_id();
        let unknown = us
            .check_purchasability(pb::CheckPurchasabilityRequest {
                customer_id: nobody.clone(),
                ..check("us-fabrikam", &item, term, cycle, NOVEMBER)
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        assert_eq!(
            foreign
                .message()
                .replace(&TestApp::customer_id("de-tailspin"), "<id>"),
            unknown.message().replace(&nobody, "<id>"),
            "indistinguishable from a missing customer"
        );
        assert_eq!(common::reason(&foreign), common::reason(&unknown));
        // What a customer may buy is judged on the current month: not with a month.
        let refused = us
            .list_availabilities(pb::ListAvailabilitiesRequest {
                product_id: RESIZED.0.into(),
                sku_id: RESIZED.1.into(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                month: NOVEMBER.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&refused, "customer_id");
        let refused = us
            .list_products(pb::ListProductsRequest {
                filter: Some(pb::CatalogFilter {
                    purchasable_by_customer_id: TestApp::customer_id("us-fabrikam"),
                    ..Default::default()
                }),
                month: NOVEMBER.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&refused, "filter.purchasable_by_customer_id");
        // No token, no read, whatever the month.
        let unauthenticated = app
            .catalog_with(TestApp::raw_bearer(None))
            .get_sku(pb::GetSkuRequest {
                product_id: RESIZED.0.into(),
                sku_id: RESIZED.1.into(),
                month: NOVEMBER.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unauthenticated.code(), Code::Unauthenticated);
        // Its own customer is priced at November's price.
        let own = us
            .check_purchasability(check("us-fabrikam", &item, term, cycle, NOVEMBER))
            .await
            .unwrap()
            .into_inner();
        assert!(own.unit_term_price.is_some());
    }
);
