//! Property tests of every request parser: random, oversized and truncated input never
//! panics, and every error it makes renders as a small status.

use proptest::prelude::*;
use tonic::Status;

use super::pb;
use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::ids::{
    AvailabilityId, CatalogItemId, CountryCode, CustomerId, ProductId, RequestId, SkuId,
    parse_domain, parse_email, parse_text,
};
use crate::domain::money::{Currency, Money};
use crate::service::paging::{PageTokens, page_size};

/// What any status may cost a client (message and google.rpc details).
const MAX_STATUS_BYTES: usize = 4096;

fn config() -> ProptestConfig {
    // Modest: the suite runs in debug builds on shared cores.
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// Input a valid request would carry, to be cut short.
const VALID: &[&str] = &[
    "CFQ7TTC0LH18:0001:CFQ7TTC0K971",
    "0193a0e4-5f7a-7cc1-9b1a-3c1f5e2d4a6b",
    "US",
    "2026-11",
    "USD",
    "150.10",
    "ana@fabrikam.com",
    "fabrikam.onmicrosoft.com",
    "Contoso Ltd",
];

/// Random text: arbitrary characters, near-valid ids, one character repeated up to
/// `max_len` times, and valid values truncated at any character.
fn text(max_len: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9:@. \\-]{0,40}",
        (any::<char>(), 0..=max_len).prop_map(|(c, n)| c.to_string().repeat(n)),
        (prop::sample::select(VALID), any::<prop::sample::Index>()).prop_map(|(valid, at)| {
            let cut = at.index(valid.len() + 1);
            valid.chars().take(cut).collect()
        }),
    ]
}

fn assert_bounded<T>(result: Result<T, DomainError>) -> Result<(), TestCaseError> {
    if let Err(error) = result {
        let status = Status::from(error);
        let size = status.message().len() + status.details().len();
        prop_assert!(size < MAX_STATUS_BYTES, "a {size} byte status");
    }
    Ok(())
}

fn line() -> impl Strategy<Value = pb::CartLineInput> {
    (
        text(2_000),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of((text(200), text(200), text(200))),
    )
        .prop_map(
            |(catalog_item_id, quantity, term, billing_cycle, context)| pb::CartLineInput {
                catalog_item_id,
                quantity,
                term,
                billing_cycle,
                provisioning_context: context.map(|(parent, scope, azure)| {
                    pb::ProvisioningContext {
                        parent_subscription_id: parent,
                        scope,
                        azure_subscription_id: azure,
                    }
                }),
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn domain_constructors_never_panic_and_stay_bounded(value in text(100_000)) {
        assert_bounded(ProductId::parse("product_id", &value))?;
        assert_bounded(SkuId::parse("sku_id", &value))?;
        assert_bounded(AvailabilityId::parse("availability_id", &value))?;
        assert_bounded(CatalogItemId::parse("catalog_item_id", &value))?;
        assert_bounded(CustomerId::parse("customer_id", &value))?;
        assert_bounded(RequestId::parse("request_id", &value))?;
        assert_bounded(parse_text("company_name", &value, true))?;
        assert_bounded(parse_email("email", &value))?;
        assert_bounded(parse_domain("domain", &value, false))?;
        assert_bounded(Month::parse("month", &value))?;
        assert_bounded(Currency::parse("currency", &value))?;
        assert_bounded(super::parse_uuid("cart_id", &value))?;
        if let Ok(country) = CountryCode::parse("country", &value) {
            prop_assert_eq!(country.as_str(), value.to_ascii_uppercase());
        } else {
            assert_bounded(CountryCode::parse("country", &value))?;
        }
        if let Err(message) = Money::parse_amount(Currency::parse("c", "USD").unwrap(), &value) {
            // The echo: 64 characters, each escaped to at most 10 bytes, and the size.
            prop_assert!(message.len() < 1024, "{}", message.len());
        }
    }

    #[test]
    fn enum_and_number_parsers_never_panic(raw in any::<i32>(), units in any::<i64>(), nanos in any::<i32>()) {
        assert_bounded(super::convert::term("term", raw))?;
        assert_bounded(super::convert::billing_cycle("billing_cycle", raw))?;
        assert_bounded(super::convert::optional_segment("segment", raw))?;
        assert_bounded(super::convert::optional_product_type("product_type", raw))?;
        assert_bounded(super::convert::optional_billing_type("billing_type", raw))?;
        assert_bounded(super::convert::qualification_kind("kind", raw))?;
        assert_bounded(super::convert::education_segment("education_segment", raw))?;
        assert_bounded(super::convert::gcc_status("gcc_status", raw))?;
        assert_bounded(super::convert::partner_role("role", raw))?;
        assert_bounded(page_size(raw))?;
        let usd = Currency::parse("c", "USD").unwrap();
        if let Some(money) = Money::from_units_and_nanos(usd, units, nanos) {
            prop_assert_eq!(money.units_and_nanos(), (units, nanos));
        }
        assert_bounded(super::convert::parse_timestamp(
            "at",
            &prost_types::Timestamp { seconds: units, nanos },
        ))?;
    }

    #[test]
    fn page_tokens_refuse_whatever_they_did_not_make(token in text(100_000), key in "[A-Z0-9]{0,40}") {
        let tokens = PageTokens::new(b"secret");
        assert_bounded(tokens.decode("products|US", &token))?;
        // A token this server made, truncated anywhere, is refused (or, whole, resumes).
        let made = tokens.encode("products|US", &key);
        for cut in [0, made.len() / 2, made.len().saturating_sub(1)] {
            let result = tokens.decode("products|US", &made[..cut]);
            prop_assert!(cut == 0 || result.is_err());
            assert_bounded(result)?;
        }
        let resumed = tokens.decode("products|US", &made).unwrap();
        prop_assert_eq!(resumed, Some(key));
    }

    #[test]
    fn cart_requests_parse_or_fail_small(
        request_id in text(2_000),
        cart_id in text(2_000),
        customer_id in text(2_000),
        lines in prop::collection::vec(line(), 0..80),
    ) {
        let count = lines.len();
        let parsed = super::cart::parse_create(pb::CreateCartRequest {
            request_id: request_id.clone(),
            customer_id,
            lines: lines.clone(),
        });
        if count > crate::domain::cart::MAX_LINES {
            prop_assert!(parsed.is_err());
        }
        assert_bounded(parsed)?;
        assert_bounded(super::cart::change_target(&request_id, &cart_id))?;
        for line in lines.into_iter().take(3) {
            assert_bounded(super::convert::line_input("line", line))?;
        }
    }

    #[test]
    fn catalog_filters_parse_or_fail_small(
        (country, category, text_search, purchasable) in (text(100_000), text(2_000), text(100_000), text(2_000)),
        (segment, product_type, publisher, billing_type, trial) in (any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>()),
    ) {
        assert_bounded(super::catalog::parse_filter(pb::CatalogFilter {
            country,
            segment,
            product_type,
            publisher,
            billing_type,
            category,
            trial,
            text: text_search,
            purchasable_by_customer_id: purchasable,
        }))?;
    }

    #[test]
    fn watch_requests_parse_or_fail_small(
        start in proptest::option::of(prop_oneof![
            any::<u64>().prop_map(pb::watch_catalog_changes_request::Start::AfterRevision),
            any::<bool>().prop_map(pb::watch_catalog_changes_request::Start::FromNow),
        ]),
        countries in prop::collection::vec(text(200), 0..300),
        segments in prop::collection::vec(any::<i32>(), 0..20),
        product_types in prop::collection::vec(any::<i32>(), 0..20),
        product_ids in prop::collection::vec(text(200), 0..60),
    ) {
        assert_bounded(super::catalog::parse_watch(pb::WatchCatalogChangesRequest {
            start,
            countries,
            segments,
            product_types,
            product_ids,
        }))?;
    }
}
