//! The catalog through the wire: views, filters, paging, lookups and bad input.

use crate::common::{self, TestApp};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

fn list(
    filter: pb::CatalogFilter,
    view: pb::CatalogView,
    page_size: i32,
    page_token: &str,
) -> pb::ListProductsRequest {
    pb::ListProductsRequest {
        month: String::new(),
        filter: Some(filter),
        view: view.into(),
        page_size,
        page_token: page_token.to_owned(),
    }
}

on_both_backends!(
    product_view_pages_through_every_product_once,
    async |app: &TestApp| {
        let mut client = app.catalog("us", Role::SalesAgent);
        let mut seen = Vec::new();
        let mut token = String::new();
        let mut total = None;
        loop {
            let page = client
                .list_products(list(
                    pb::CatalogFilter::default(),
                    pb::CatalogView::Product,
                    20,
                    &token,
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(page.products.len() <= 20);
            assert!(page.skus.is_empty());
            total.get_or_insert(page.total_size);
            seen.extend(page.products.into_iter().map(|p| p.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen, sorted, "stable order, no duplicates across pages");
        assert_eq!(seen.len() as i32, total.unwrap());
        assert!(
            seen.len() > 100,
            "the demo catalog has enough products that paging matters"
        );
    }
);

on_both_backends!(
    sku_view_lists_each_sku_and_filters_narrow_it,
    async |app: &TestApp| {
        let mut client = app.catalog("us", Role::SalesAgent);
        let all = client
            .list_products(list(
                pb::CatalogFilter::default(),
                pb::CatalogView::Sku,
                500,
                "",
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(all.products.is_empty());
        assert!(!all.skus.is_empty());
        let trials = client
            .list_products(list(
                pb::CatalogFilter {
                    trial: pb::TrialFilter::OnlyTrials.into(),
                    ..Default::default()
                },
                pb::CatalogView::Sku,
                500,
                "",
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!trials.skus.is_empty());
        assert!(trials.skus.iter().all(|s| s.is_trial));
        assert!(trials.skus.len() < all.skus.len());

        let azure = client
            .list_products(list(
                pb::CatalogFilter {
                    product_type: pb::ProductType::Azure.into(),
                    ..Default::default()
                },
                pb::CatalogView::Sku,
                500,
                "",
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!azure.skus.is_empty());
        assert!(
            azure
                .skus
                .iter()
                .all(|s| s.product_type == pb::ProductType::Azure as i32)
        );
    }
);

on_both_backends!(bad_paging_is_invalid_argument, async |app: &TestApp| {
    let mut client = app.catalog("us", Role::SalesAgent);
    let err = client
        .list_products(list(
            pb::CatalogFilter::default(),
            pb::CatalogView::Product,
            -1,
            "",
        ))
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_size");
    let err = client
        .list_products(list(
            pb::CatalogFilter::default(),
            pb::CatalogView::Product,
            10,
            "forged",
        ))
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_token");
    // A token from one query reused with other filters.
    let page = client
        .list_products(list(
            pb::CatalogFilter::default(),
            pb::CatalogView::Product,
            10,
            "",
        ))
        .await
        .unwrap()
        .into_inner();
    let err = client
        .list_products(list(
            pb::CatalogFilter {
                country: "DE".into(),
                ..Default::default()
            },
            pb::CatalogView::Product,
            10,
            &page.next_page_token,
        ))
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_token");
});

on_both_backends!(unauthenticated_calls_are_refused, async |app: &TestApp| {
    let mut client = app.catalog_with(TestApp::raw_bearer(None));
    let err = client
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC0LH18".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut client = app.catalog_with(TestApp::raw_bearer(Some("Bearer not.a.jwt")));
    let err = client
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC0LH18".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
});

on_both_backends!(
    text_search_ranks_title_matches_first_and_pages_through_each_row_once,
    async |app: &TestApp| {
        let mut client = app.catalog("us", Role::SalesAgent);
        let filter = || pb::CatalogFilter {
            text: "E3".into(),
            ..Default::default()
        };
        for view in [pb::CatalogView::Product, pb::CatalogView::Sku] {
            let whole = client
                .list_products(list(filter(), view, 500, ""))
                .await
                .unwrap()
                .into_inner();
            let titles: Vec<String> = match view {
                pb::CatalogView::Sku => whole
                    .skus
                    .iter()
                    .map(|s| format!("{} {}", s.product_title, s.title))
                    .collect(),
                _ => whole.products.iter().map(|p| p.title.clone()).collect(),
            };
            let in_title = |t: &String| t.to_lowercase().contains("e3");
            let first_other = titles.iter().position(|t| !in_title(t));
            assert!(in_title(&titles[0]), "{view:?}: {titles:?}");
            assert!(
                first_other.is_some_and(|at| titles[at..].iter().all(|t| !in_title(t))),
                "{view:?}: title matches first, then the rest (a description mentions E3): {titles:?}"
            );
            let mut paged = Vec::new();
            let mut token = String::new();
            loop {
                let page = client
                    .list_products(list(filter(), view, 2, &token))
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(page.total_size, whole.total_size);
                paged.extend(page.products.into_iter().map(|p| p.id));
                paged.extend(
                    page.skus
                        .into_iter()
                        .map(|s| format!("{}/{}", s.product_id, s.id)),
                );
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            let ids: Vec<String> = whole
                .products
                .into_iter()
                .map(|p| p.id)
                .chain(
                    whole
                        .skus
                        .into_iter()
                        .map(|s| format!("{}/{}", s.product_id, s.id)),
                )
                .collect();
            assert_eq!(
                paged, ids,
                "{view:?}: pages of 2 give the same rows in the same order"
            );
        }
    }
);
