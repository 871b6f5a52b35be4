//! Issue 21: a listing's SKU view leaves each SKU's countries out (up to 240 each in the full
//! catalog) unless `CATALOG_VIEW_SKU_WITH_COUNTRIES` asks for them; GetSku always has them.

use crate::common::TestApp;
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;

fn skus_in_de(view: pb::CatalogView) -> pb::ListProductsRequest {
    pb::ListProductsRequest {
        filter: Some(pb::CatalogFilter {
            country: "DE".into(),
            text: "office".into(),
            ..Default::default()
        }),
        view: view.into(),
        page_size: 500,
        page_token: String::new(),
        month: String::new(),
    }
}

on_both_backends!(
    a_listings_skus_carry_their_countries_only_when_asked,
    async |app: &TestApp| {
        let mut client = app.catalog("us", Role::SalesAgent);
        let brief = client
            .list_products(skus_in_de(pb::CatalogView::Sku))
            .await
            .unwrap()
            .into_inner();
        let full = client
            .list_products(skus_in_de(pb::CatalogView::SkuWithCountries))
            .await
            .unwrap()
            .into_inner();
        assert!(
            brief.skus.len() > 3,
            "the demo catalog sells office SKUs in DE"
        );
        assert_eq!(
            (brief.total_size, brief.skus.len()),
            (full.total_size, full.skus.len())
        );
        assert!(brief.products.is_empty() && full.products.is_empty());
        for (b, f) in brief.skus.iter().zip(&full.skus) {
            assert!(b.countries.is_empty(), "{b:?}");
            assert!(f.countries.contains(&"DE".to_owned()), "{f:?}");
            assert_eq!(
                &pb::Sku {
                    countries: f.countries.clone(),
                    ..b.clone()
                },
                f,
                "the same SKU but for its countries"
            );
            let got = client
                .get_sku(pb::GetSkuRequest {
                    product_id: f.product_id.clone(),
                    sku_id: f.id.clone(),
                    month: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .sku
                .unwrap();
            assert_eq!(&got, f, "GetSku has the countries");
        }

        // A page token of one SKU view resumes the other: the rows are the same.
        let first = client
            .list_products(pb::ListProductsRequest {
                page_size: 2,
                ..skus_in_de(pb::CatalogView::Sku)
            })
            .await
            .unwrap()
            .into_inner();
        let rest = client
            .list_products(pb::ListProductsRequest {
                page_size: 500,
                page_token: first.next_page_token.clone(),
                ..skus_in_de(pb::CatalogView::SkuWithCountries)
            })
            .await
            .unwrap()
            .into_inner();
        let ids = |skus: &[pb::Sku]| {
            skus.iter()
                .map(|s| (s.product_id.clone(), s.id.clone()))
                .collect::<Vec<_>>()
        };
        let mut paged = ids(&first.skus);
        paged.extend(ids(&rest.skus));
        assert_eq!(paged, ids(&full.skus));
        assert!(rest.skus.iter().all(|s| !s.countries.is_empty()));
    }
);
