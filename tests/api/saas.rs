//! Marketplace SaaS is found as Partner Center lists it: under Online services with Publisher
//! set to partner (third party); the Marketplace product type stays its flag, and its filter
//! finds the same offers alone.

use crate::common::TestApp;
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;

/// The Barracuda WaaS offer of the checkout sample.
const BARRACUDA: &str = "DZH318Z0BXWC";

fn filter(product_type: pb::ProductType, publisher: pb::PublisherFilter) -> pb::CatalogFilter {
    pb::CatalogFilter {
        country: "US".into(),
        product_type: product_type.into(),
        publisher: publisher.into(),
        ..Default::default()
    }
}

async fn products(app: &TestApp, filter: pb::CatalogFilter) -> Vec<pb::Product> {
    let mut client = app.catalog("us", Role::SalesAgent);
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_products(pb::ListProductsRequest {
                filter: Some(filter.clone()),
                view: pb::CatalogView::Product.into(),
                page_size: 500,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.products);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn ids(products: &[pb::Product]) -> Vec<&str> {
    products.iter().map(|p| p.id.as_str()).collect()
}

on_both_backends!(
    saas_is_found_under_online_services_from_a_third_party,
    async |app: &TestApp| {
        use pb::ProductType::{Marketplace, OnlineServices};
        use pb::PublisherFilter::{Microsoft, ThirdParty, Unspecified};
        let saas = products(app, filter(OnlineServices, ThirdParty)).await;
        assert!(ids(&saas).contains(&BARRACUDA), "{:?}", ids(&saas));
        for p in &saas {
            assert!(!p.is_microsoft, "{p:?}");
            // The marketplace flag is kept: the product says what it is.
            assert_eq!(p.product_type(), Marketplace, "{p:?}");
            assert_ne!(p.publisher, "Microsoft Corporation");
        }
        // The Marketplace filter finds the same offers.
        let marketplace = products(app, filter(Marketplace, Unspecified)).await;
        assert_eq!(ids(&marketplace), ids(&saas));

        // Online services from Microsoft hold no SaaS; all online services hold both.
        let microsoft = products(app, filter(OnlineServices, Microsoft)).await;
        assert!(!microsoft.is_empty());
        assert!(
            microsoft
                .iter()
                .all(|p| p.is_microsoft && p.product_type() == OnlineServices)
        );
        let all = products(app, filter(OnlineServices, Unspecified)).await;
        assert_eq!(all.len(), microsoft.len() + saas.len());
        assert!(ids(&all).contains(&BARRACUDA));

        // Only what Fabrikam may buy: the SaaS offer is among them.
        let fabrikam = TestApp::customer_id("us-fabrikam");
        let buyable = products(
            app,
            pb::CatalogFilter {
                purchasable_by_customer_id: fabrikam,
                ..filter(OnlineServices, ThirdParty)
            },
        )
        .await;
        assert!(ids(&buyable).contains(&BARRACUDA), "{:?}", ids(&buyable));

        // Other product types do not take it in.
        for other in [pb::ProductType::Azure, pb::ProductType::Software] {
            let listed = products(app, filter(other, Unspecified)).await;
            assert!(!ids(&listed).contains(&BARRACUDA), "{other:?}");
        }
    }
);
