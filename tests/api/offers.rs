//! What a customer may buy, in one call (ListOffers, and ListAvailabilities for a customer):
//! its country and segments, the rules checkout applies, paging, filters, tenant isolation and
//! bad input.

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

fn offers_request(customer: &str, filter: pb::OfferFilter) -> pb::ListOffersRequest {
    pb::ListOffersRequest {
        customer_id: TestApp::customer_id(customer),
        filter: Some(filter),
        page_size: 500,
        page_token: String::new(),
    }
}

/// Every offer of `request`, page by page, as `partner`'s sales agent.
async fn all_offers(
    app: &TestApp,
    partner: &str,
    mut request: pb::ListOffersRequest,
) -> Vec<pb::Offer> {
    let mut client = app.catalog(partner, Role::SalesAgent);
    let mut offers = Vec::new();
    loop {
        let page = client
            .list_offers(request.clone())
            .await
            .unwrap()
            .into_inner();
        assert!(page.offers.len() <= request.page_size.max(1) as usize);
        offers.extend(page.offers);
        assert!(offers.len() <= page.total_size as usize);
        if page.next_page_token.is_empty() {
            assert_eq!(
                offers.len(),
                page.total_size as usize,
                "total_size counts them"
            );
            return offers;
        }
        request.page_token = page.next_page_token;
    }
}

fn segment_of(offers: &[pb::Offer], segment: pb::Segment) -> usize {
    offers.iter().filter(|o| o.segment() == segment).count()
}

on_both_backends!(
    a_us_customer_is_offered_us_offers_that_checkout_accepts,
    async |app: &TestApp| {
        let offers = all_offers(app, "us", offers_request("us-fabrikam", Default::default())).await;
        assert!(offers.len() > 100, "the demo catalog sells much in the US");
        for o in &offers {
            assert_eq!(o.country, "US", "{o:?}");
            assert_eq!(o.segment(), pb::Segment::Commercial, "{o:?}");
            let price = o.term_price.as_ref().unwrap();
            assert_eq!(price.currency_code, "USD");
            assert!(!o.is_addon, "no base owned, so no add-on: {o:?}");
            assert!(!o.product_title.is_empty() && !o.sku_title.is_empty());
            assert!(
                o.catalog_item_id
                    .starts_with(&format!("{}:{}:", o.product_id, o.sku_id))
            );
        }
        let mut keys: Vec<_> = offers
            .iter()
            .map(|o| (&o.catalog_item_id, o.term, o.billing_cycle))
            .collect();
        keys.dedup();
        assert_eq!(keys.len(), offers.len(), "each offer once");

        // The same customer's problems as CheckPurchasability sees them: none, every 37th offer.
        let mut catalog = app.catalog("us", Role::SalesAgent);
        for o in offers.iter().step_by(37) {
            let verdict = catalog
                .check_purchasability(pb::CheckPurchasabilityRequest {
                    month: String::new(),
                    customer_id: TestApp::customer_id("us-fabrikam"),
                    catalog_item_id: o.catalog_item_id.clone(),
                    quantity: o.min_quantity.max(1),
                    term: o.term,
                    billing_cycle: o.billing_cycle,
                })
                .await
                .unwrap()
                .into_inner();
            assert!(verdict.purchasable, "{o:?}: {:?}", verdict.problems);
            assert_eq!(verdict.unit_term_price, o.term_price);
            assert_eq!(verdict.billing_periods, o.billing_periods);
        }

        // A US partner's customer in Germany is offered German offers in euros.
        let german = all_offers(
            app,
            "us",
            offers_request("us-woodgrove-de", Default::default()),
        )
        .await;
        assert!(!german.is_empty());
        assert!(german.iter().all(|o| o.country == "DE"
            && o.term_price.as_ref().unwrap().currency_code == "EUR"));
    }
);

on_both_backends!(
    education_offers_only_once_the_education_qualification_is_approved,
    async |app: &TestApp| {
        let college = TestApp::customer_id("us-bellows-college");
        let before = all_offers(
            app,
            "us",
            offers_request("us-bellows-college", Default::default()),
        )
        .await;
        assert_eq!(
            segment_of(&before, pb::Segment::Education),
            0,
            "in review opens nothing"
        );
        assert!(segment_of(&before, pb::Segment::Commercial) > 0);

        common::set_qualifications(
            app,
            "us",
            &college,
            &[(
                pb::QualificationKind::Education,
                pb::VettingStatus::Approved,
            )],
        )
        .await;
        let after = all_offers(
            app,
            "us",
            offers_request("us-bellows-college", Default::default()),
        )
        .await;
        let education = segment_of(&after, pb::Segment::Education);
        assert!(education > 0, "approved education opens its offers");
        assert_eq!(
            segment_of(&after, pb::Segment::Commercial),
            segment_of(&before, pb::Segment::Commercial)
        );

        let only_education = pb::OfferFilter {
            segment: pb::Segment::Education.into(),
            ..Default::default()
        };
        let filtered = all_offers(
            app,
            "us",
            offers_request("us-bellows-college", only_education.clone()),
        )
        .await;
        assert_eq!(filtered.len(), education);
        let others = all_offers(app, "us", offers_request("us-fabrikam", only_education)).await;
        assert!(
            others.is_empty(),
            "a customer without the qualification sees none"
        );

        // The nonprofit customer sees nonprofit offers, the commercial one none.
        let charity = all_offers(
            app,
            "us",
            offers_request("us-northwind-foundation", Default::default()),
        )
        .await;
        assert!(segment_of(&charity, pb::Segment::Nonprofit) > 0);
        let fabrikam =
            all_offers(app, "us", offers_request("us-fabrikam", Default::default())).await;
        assert_eq!(segment_of(&fabrikam, pb::Segment::Nonprofit), 0);
    }
);

on_both_backends!(
    offers_page_through_each_offer_once_and_filters_narrow_them,
    async |app: &TestApp| {
        let search = pb::OfferFilter {
            text: "e3".into(),
            ..Default::default()
        };
        let whole = all_offers(app, "us", offers_request("us-fabrikam", search.clone())).await;
        assert!(whole.len() > 7, "enough E3 offers to page");
        let paged = all_offers(
            app,
            "us",
            pb::ListOffersRequest {
                page_size: 3,
                ..offers_request("us-fabrikam", search)
            },
        )
        .await;
        assert_eq!(
            paged, whole,
            "pages of 3 give the same offers in the same order"
        );
        assert!(
            whole[0].product_title.to_lowercase().contains("e3")
                || whole[0].sku_title.to_lowercase().contains("e3"),
            "title matches first: {:?}",
            whole[0]
        );

        let azure = all_offers(
            app,
            "us",
            offers_request(
                "us-fabrikam",
                pb::OfferFilter {
                    product_type: pb::ProductType::Azure.into(),
                    ..Default::default()
                },
            ),
        )
        .await;
        assert!(!azure.is_empty());
        assert!(
            azure
                .iter()
                .all(|o| o.product_type() == pb::ProductType::Azure)
        );
        let trials = all_offers(
            app,
            "us",
            offers_request(
                "us-fabrikam",
                pb::OfferFilter {
                    trial: pb::TrialFilter::OnlyTrials.into(),
                    ..Default::default()
                },
            ),
        )
        .await;
        assert!(!trials.is_empty());
        assert!(trials.iter().all(|o| o.is_trial));
    }
);

on_both_backends!(a_taken_trial_is_no_longer_offered, async |app: &TestApp| {
    let only_trials = pb::OfferFilter {
        trial: pb::TrialFilter::OnlyTrials.into(),
        ..Default::default()
    };
    let trials = all_offers(
        app,
        "us",
        offers_request("us-fabrikam", only_trials.clone()),
    )
    .await;
    let trial = trials
        .iter()
        .find(|o| o.provisioning_variables.is_empty())
        .unwrap();
    let mut carts = app.carts("us", Role::SalesAgent);
    let cart = carts
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id("us-fabrikam"),
            lines: vec![pb::CartLineInput {
                catalog_item_id: trial.catalog_item_id.clone(),
                quantity: trial.min_quantity.max(1),
                term: trial.term,
                billing_cycle: trial.billing_cycle,
                provisioning_context: None,
            }],
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
    let after = all_offers(app, "us", offers_request("us-fabrikam", only_trials)).await;
    assert!(
        after
            .iter()
            .all(|o| o.catalog_item_id != trial.catalog_item_id),
        "the trial taken is not offered again"
    );
    assert!(after.len() < trials.len());
});

on_both_backends!(
    customer_wide_problems_are_told_once_not_per_offer,
    async |app: &TestApp| {
        // No agreement: every offer is listed, and what blocks them all is said once.
        let page = app
            .catalog("de", Role::SalesAgent)
            .list_offers(offers_request("de-alpine-ski-house", Default::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(!page.offers.is_empty());
        let codes: Vec<_> = page.customer_problems.iter().map(common::code).collect();
        assert_eq!(codes, ["AGREEMENT_NOT_ACCEPTED"]);

        let page = app
            .catalog("us", Role::HelpdeskAgent)
            .list_offers(offers_request("us-fabrikam", Default::default()))
            .await
            .unwrap()
            .into_inner();
        let codes: Vec<_> = page.customer_problems.iter().map(common::code).collect();
        assert_eq!(codes, ["ROLE_CANNOT_PURCHASE"]);

        let page = app
            .catalog("us", Role::SalesAgent)
            .list_offers(offers_request("us-fabrikam", Default::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(page.customer_problems.is_empty());
    }
);

on_both_backends!(
    another_partners_customer_is_not_found,
    async |app: &TestApp| {
        let mut german = app.catalog("de", Role::SalesAgent);
        let err = german
            .list_offers(offers_request("us-fabrikam", Default::default()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        let missing = german
            .list_offers(pb::ListOffersRequest {
                customer_id: common::unknown_id(),
                ..offers_request("de-tailspin", Default::default())
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(
            missing.message().replace(&missing_id(&missing), ""),
            err.message()
                .replace(&TestApp::customer_id("us-fabrikam"), ""),
            "indistinguishable from a missing customer"
        );

        let e3 = common::commercial_availability(&mut german, ("CFQ7TTC02ROY", "0001"), "DE").await;
        let err = german
            .list_availabilities(pb::ListAvailabilitiesRequest {
                product_id: e3.product_id,
                sku_id: e3.sku_id,
                customer_id: TestApp::customer_id("us-fabrikam"),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
    }
);

/// The customer id a NOT_FOUND names (a UUID in its message).
fn missing_id(status: &tonic::Status) -> String {
    status
        .message()
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|w| w.len() == 36)
        .unwrap_or_default()
        .to_owned()
}

on_both_backends!(
    list_availabilities_takes_a_customer_in_place_of_country_and_segment,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let e3 = ("CFQ7TTC02ROY", "0001");
        let for_customer = |customer: &str| pb::ListAvailabilitiesRequest {
            product_id: e3.0.into(),
            sku_id: e3.1.into(),
            customer_id: TestApp::customer_id(customer),
            ..Default::default()
        };
        let us = catalog
            .list_availabilities(for_customer("us-fabrikam"))
            .await
            .unwrap()
            .into_inner()
            .availabilities;
        let commercial = common::commercial_availability(&mut catalog, e3, "US").await;
        assert_eq!(us, vec![commercial], "the customer's one availability");
        let de = catalog
            .list_availabilities(for_customer("us-woodgrove-de"))
            .await
            .unwrap()
            .into_inner()
            .availabilities;
        assert_eq!(de.len(), 1);
        assert_eq!(de[0].country, "DE");

        for (country, segment) in [
            ("US", pb::Segment::Unspecified),
            ("", pb::Segment::Commercial),
        ] {
            let err = catalog
                .list_availabilities(pb::ListAvailabilitiesRequest {
                    country: country.into(),
                    segment: segment.into(),
                    ..for_customer("us-fabrikam")
                })
                .await
                .unwrap_err();
            assert_eq!(
                common::assert_bad_field(&err, "customer_id"),
                "EXCLUSIVE_FIELDS"
            );
        }
        let err = catalog
            .list_availabilities(pb::ListAvailabilitiesRequest {
                customer_id: "not-a-uuid".into(),
                ..for_customer("us-fabrikam")
            })
            .await
            .unwrap_err();
        common::assert_bad_field(&err, "customer_id");
    }
);

on_both_backends!(bad_offer_requests_are_precise, async |app: &TestApp| {
    let mut catalog = app.catalog("us", Role::SalesAgent);
    let err = catalog
        .list_offers(pb::ListOffersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "customer_id"), "REQUIRED");
    let err = catalog
        .list_offers(pb::ListOffersRequest {
            customer_id: "12".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "customer_id");
    let err = catalog
        .list_offers(offers_request(
            "us-fabrikam",
            pb::OfferFilter {
                segment: 42,
                trial: 9,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "filter.segment"),
        "UNKNOWN_ENUM_VALUE"
    );
    common::assert_bad_field(&err, "filter.trial");
    let err = catalog
        .list_offers(pb::ListOffersRequest {
            page_size: -1,
            ..offers_request("us-fabrikam", Default::default())
        })
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_size");
    let err = catalog
        .list_offers(pb::ListOffersRequest {
            page_token: "forged".into(),
            ..offers_request("us-fabrikam", Default::default())
        })
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "page_token"),
        "INVALID_PAGE_TOKEN"
    );
    // A token of another customer's listing is refused, not applied.
    let page = catalog
        .list_offers(pb::ListOffersRequest {
            page_size: 1,
            ..offers_request("us-fabrikam", Default::default())
        })
        .await
        .unwrap()
        .into_inner();
    let err = catalog
        .list_offers(pb::ListOffersRequest {
            page_token: page.next_page_token,
            ..offers_request("us-bellows-college", Default::default())
        })
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "page_token");
});
