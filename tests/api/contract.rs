//! The contract's shapes through the wire: google.type.Money, each price for the whole term and
//! per billing period, problem codes as an enum with typed SKU and item references, and errors
//! that carry what a caller needs (the current etag, the review's figures, google.rpc and
//! google.type described by reflection).

use std::collections::BTreeSet;

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use tonic::Code;

const E3: (&str, &str) = ("CFQ7TTC02ROY", "0001"); // seat limit 300
const AUDIO: (&str, &str) = ("CFQ7TTC05WUF", "0001"); // add-on of E3 (among others)

fn micros(m: &pb::Money) -> i64 {
    m.units * 1_000_000 + i64::from(m.nanos / 1000)
}

/// `term` (micro-units) spread over `periods`, rounded half away from zero to the cent: the
/// rule the proto's TermPrice states.
fn per_period_in_cents(term: i64, periods: i64) -> i64 {
    let cents = 10_000 * periods;
    let (q, r) = (term / cents, term % cents);
    (if 2 * r.abs() >= cents {
        q + term.signum()
    } else {
        q
    }) * 10_000
}

fn monthly(item: &str, quantity: i32) -> pb::CartLineInput {
    pb::CartLineInput {
        catalog_item_id: item.into(),
        quantity,
        term: pb::TermDuration::P1y.into(),
        billing_cycle: pb::BillingCycle::Monthly.into(),
        provisioning_context: None,
    }
}

async fn new_cart(app: &TestApp, customer: &str, lines: Vec<pb::CartLineInput>) -> pb::Cart {
    app.carts("us", Role::SalesAgent)
        .create_cart(pb::CreateCartRequest {
            request_id: rid(),
            customer_id: TestApp::customer_id(customer),
            lines,
        })
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap()
}

on_both_backends!(
    a_price_is_shown_for_the_whole_term_and_per_billing_period,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let e3 = common::commercial_availability(&mut catalog, E3, "US").await;
        let p1y_monthly = e3
            .terms
            .iter()
            .find(|t| {
                t.term == pb::TermDuration::P1y as i32
                    && t.billing_cycle == pb::BillingCycle::Monthly as i32
            })
            .expect("E3 is sold for a year billed monthly");
        let unit_term = micros(p1y_monthly.term_price.as_ref().unwrap());
        assert!(unit_term > 0);
        assert_eq!(p1y_monthly.billing_periods, 12);
        let unit_charge = micros(p1y_monthly.billing_period_charge.as_ref().unwrap());
        assert_eq!(unit_charge, per_period_in_cents(unit_term, 12));
        // A year billed annually: one charge, the whole term.
        for t in e3.terms.iter().filter(|t| {
            t.term == pb::TermDuration::P1y as i32
                && t.billing_cycle == pb::BillingCycle::Annual as i32
        }) {
            assert_eq!(t.billing_periods, 1, "{t:?}");
            assert_eq!(t.billing_period_charge, t.term_price, "{t:?}");
        }

        // The cart line: 10 seats for the year, charged 12 times.
        let cart = new_cart(app, "us-fabrikam", vec![monthly(&e3.catalog_item_id, 10)]).await;
        let line = &cart.lines[0];
        assert!(line.problems.is_empty(), "{:?}", line.problems);
        assert_eq!(micros(line.unit_term_price.as_ref().unwrap()), unit_term);
        assert_eq!(micros(line.term_price.as_ref().unwrap()), 10 * unit_term);
        assert_eq!(line.billing_periods, 12);
        assert_eq!(
            micros(line.billing_period_charge.as_ref().unwrap()),
            10 * unit_charge
        );
        assert_eq!(cart.totals, vec![line.term_price.clone().unwrap()]);
        assert_eq!(
            cart.first_charge_totals,
            vec![line.billing_period_charge.clone().unwrap()]
        );
        assert_eq!(cart.totals[0].currency_code, "USD");

        // The purchasability check prices the same way.
        let check = catalog
            .check_purchasability(pb::CheckPurchasabilityRequest {
                month: String::new(),
                customer_id: TestApp::customer_id("us-fabrikam"),
                catalog_item_id: e3.catalog_item_id.clone(),
                quantity: 10,
                term: pb::TermDuration::P1y.into(),
                billing_cycle: pb::BillingCycle::Monthly.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(check.unit_term_price, line.unit_term_price);
        assert_eq!(check.term_price, line.term_price);
        assert_eq!(check.billing_period_charge, line.billing_period_charge);
        assert_eq!(check.billing_periods, 12);

        // And the order keeps them.
        let order = app
            .carts("us", Role::SalesAgent)
            .checkout(common::checkout_request(&cart))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        let ordered = &order.lines[0];
        assert_eq!(ordered.unit_term_price, line.unit_term_price);
        assert_eq!(ordered.term_price, line.term_price);
        assert_eq!(ordered.billing_period_charge, line.billing_period_charge);
        assert_eq!(ordered.billing_periods, 12);
        assert_eq!(order.total, line.term_price);
        assert_eq!(order.first_charge_total, line.billing_period_charge);
    }
);

on_both_backends!(
    problems_carry_an_enum_code_and_typed_references,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let audio = common::commercial_availability(&mut catalog, AUDIO, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![monthly(&audio.catalog_item_id, 1)]).await;
        let problem = &cart.lines[0].problems[0];
        assert_eq!(problem.code(), pb::ProblemCode::AddonBaseMissing);
        assert!(
            problem.prerequisites.contains(&pb::SkuRef {
                product_id: E3.0.into(),
                sku_id: E3.1.into(),
            }),
            "{problem:?}"
        );
        // The human figure lists the same SKUs.
        let listed: BTreeSet<String> = problem
            .prerequisites
            .iter()
            .map(|s| format!("{}/{}", s.product_id, s.sku_id))
            .collect();
        let figure: BTreeSet<String> = problem.figures["prerequisites"]
            .split(',')
            .map(str::to_owned)
            .collect();
        assert_eq!(listed, figure);

        // The availability of another country: the one to buy, typed.
        let us =
            common::commercial_availability(&mut catalog, ("CFQ7TTC0LH18", "0001"), "US").await;
        let de =
            common::commercial_availability(&mut catalog, ("CFQ7TTC0LH18", "0001"), "DE").await;
        let check = catalog
            .check_purchasability(pb::CheckPurchasabilityRequest {
                month: String::new(),
                customer_id: TestApp::customer_id("us-woodgrove-de"),
                catalog_item_id: us.catalog_item_id.clone(),
                quantity: 1,
                term: us.terms[0].term,
                billing_cycle: us.terms[0].billing_cycle,
            })
            .await
            .unwrap()
            .into_inner();
        let mismatch = check
            .problems
            .iter()
            .find(|p| p.code() == pb::ProblemCode::AvailabilityCountryMismatch)
            .unwrap_or_else(|| panic!("{check:?}"));
        assert_eq!(
            mismatch.suggested_item,
            Some(pb::CatalogItemRef {
                product_id: de.product_id.clone(),
                sku_id: de.sku_id.clone(),
                availability_id: de.id.clone(),
                catalog_item_id: de.catalog_item_id.clone(),
            })
        );
    }
);

on_both_backends!(
    a_refused_checkout_shows_the_figures_of_the_review,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let e3 = common::commercial_availability(&mut catalog, E3, "US").await;
        let first = new_cart(app, "us-fabrikam", vec![monthly(&e3.catalog_item_id, 250)]).await;
        app.carts("us", Role::SalesAgent)
            .checkout(common::checkout_request(&first))
            .await
            .unwrap();
        let second = new_cart(app, "us-fabrikam", vec![monthly(&e3.catalog_item_id, 60)]).await;
        let problem = &second.lines[0].problems[0];
        assert_eq!(problem.code(), pb::ProblemCode::SeatLimitExceeded);
        let err = app
            .carts("us", Role::SalesAgent)
            .checkout(common::checkout_request(&second))
            .await
            .unwrap_err();
        assert_eq!(common::reason(&err), "SEAT_LIMIT_EXCEEDED");
        let violations = common::violations(&err);
        let description = &violations[0].description;
        assert!(description.starts_with(&problem.message), "{description}");
        for (name, value) in &problem.figures {
            assert!(
                description.contains(&format!("{name}={value}")),
                "{name}={value} in {description}"
            );
        }
        assert!(description.contains("seats_available=50"), "{description}");
    }
);

on_both_backends!(
    a_stale_etag_is_refused_with_the_current_one,
    async |app: &TestApp| {
        let mut catalog = app.catalog("us", Role::SalesAgent);
        let e3 = common::commercial_availability(&mut catalog, E3, "US").await;
        let cart = new_cart(app, "us-fabrikam", vec![]).await;
        let mut carts = app.carts("us", Role::SalesAgent);
        let changed = carts
            .add_cart_line(pb::AddCartLineRequest {
                request_id: rid(),
                cart_id: cart.id.clone(),
                etag: cart.etag.clone(),
                line: Some(monthly(&e3.catalog_item_id, 1)),
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        let stale = pb::RemoveCartLineRequest {
            request_id: rid(),
            cart_id: cart.id.clone(),
            line_id: changed.lines[0].id.clone(),
            etag: cart.etag.clone(),
        };
        let err = carts.remove_cart_line(stale.clone()).await.unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        let details = common::details(&err);
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "ETAG_MISMATCH");
        assert_eq!(info.metadata["current_etag"], changed.etag);
        // The etag the error carries is good for a retry.
        let removed = carts
            .remove_cart_line(pb::RemoveCartLineRequest {
                request_id: rid(),
                etag: info.metadata["current_etag"].clone(),
                ..stale
            })
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert!(removed.lines.is_empty());
    }
);

on_both_backends!(
    reflection_describes_google_type_money_and_the_error_details,
    async |app: &TestApp| {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        // (package, name): a message or an enum.
        let symbols = [
            ("google.type", "Money"),
            ("google.rpc", "ErrorInfo"),
            ("google.rpc", "PreconditionFailure"),
            ("google.rpc", "BadRequest"),
            ("csp.commerce.v1", "ProblemCode"),
        ];
        let requests: Vec<_> = symbols
            .iter()
            .map(|(package, name)| ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(format!(
                    "{package}.{name}"
                ))),
            })
            .collect();
        let mut stream = ServerReflectionClient::new(app.channel.clone())
            .server_reflection_info(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        for (package, name) in symbols {
            let response = stream.message().await.unwrap().unwrap();
            let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response
            else {
                panic!("{package}.{name}: {response:?}");
            };
            let described = files.file_descriptor_proto.iter().any(|bytes| {
                let file =
                    <prost_types::FileDescriptorProto as prost::Message>::decode(bytes.as_slice())
                        .unwrap();
                file.package() == package
                    && (file.message_type.iter().any(|m| m.name() == name)
                        || file.enum_type.iter().any(|e| e.name() == name))
            });
            assert!(described, "{package}.{name} is not described");
        }
    }
);
