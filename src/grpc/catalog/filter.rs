//! The catalog filters of ListProducts and ListOffers, parsed.

use crate::domain::DomainError;
use crate::domain::catalog::CatalogFilter;
use crate::domain::error::Violations;
use crate::domain::ids::CustomerId;
use crate::grpc::convert::{self, optional_country};
use crate::grpc::pb;

pub(in crate::grpc) fn parse_filter(
    filter: pb::CatalogFilter,
) -> Result<(CatalogFilter, Option<CustomerId>), DomainError> {
    let pb::CatalogFilter {
        country,
        segment,
        product_type,
        publisher,
        billing_type,
        category,
        trial,
        text,
        purchasable_by_customer_id,
    } = filter;
    let mut v = Violations::new();
    let country = v
        .check(optional_country("filter.country", &country))
        .flatten();
    let segment = v
        .check(convert::optional_segment("filter.segment", segment))
        .flatten();
    let product_type = v
        .check(convert::optional_product_type(
            "filter.product_type",
            product_type,
        ))
        .flatten();
    let billing_type = v
        .check(convert::optional_billing_type(
            "filter.billing_type",
            billing_type,
        ))
        .flatten();
    let microsoft = match pb::PublisherFilter::try_from(publisher) {
        Ok(pb::PublisherFilter::Unspecified) => None,
        Ok(pb::PublisherFilter::Microsoft) => Some(true),
        Ok(pb::PublisherFilter::ThirdParty) => Some(false),
        Err(_) => {
            v.push(crate::domain::FieldViolation::new(
                "filter.publisher",
                "UNKNOWN_ENUM_VALUE",
                format!("filter.publisher {publisher} is not a known value"),
            ));
            None
        }
    };
    let trial = match pb::TrialFilter::try_from(trial) {
        Ok(pb::TrialFilter::Unspecified) => None,
        Ok(pb::TrialFilter::OnlyTrials) => Some(true),
        Ok(pb::TrialFilter::NoTrials) => Some(false),
        Err(_) => {
            v.push(crate::domain::FieldViolation::new(
                "filter.trial",
                "UNKNOWN_ENUM_VALUE",
                format!("filter.trial {trial} is not a known value"),
            ));
            None
        }
    };
    let category = v.check(crate::domain::ids::parse_text(
        "filter.category",
        &category,
        false,
    ));
    let text = v.check(crate::domain::ids::parse_text("filter.text", &text, false));
    let purchasable_by = if purchasable_by_customer_id.is_empty() {
        None
    } else {
        v.check(CustomerId::parse(
            "filter.purchasable_by_customer_id",
            &purchasable_by_customer_id,
        ))
    };
    v.into_result()?;
    Ok((
        CatalogFilter {
            country,
            segment,
            product_type,
            microsoft,
            billing_type,
            category: category.filter(|c| !c.is_empty()).map(|c| c.to_lowercase()),
            trial,
            words: text
                .unwrap_or_default()
                .to_lowercase()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        },
        purchasable_by,
    ))
}

/// ListOffers' filter: ListProducts' without the country and the customer (the request's
/// customer brings both), under the same field names.
pub(in crate::grpc) fn parse_offer_filter(
    filter: pb::OfferFilter,
) -> Result<CatalogFilter, DomainError> {
    let pb::OfferFilter {
        segment,
        product_type,
        publisher,
        billing_type,
        category,
        trial,
        text,
    } = filter;
    let (filter, _) = parse_filter(pb::CatalogFilter {
        country: String::new(),
        segment,
        product_type,
        publisher,
        billing_type,
        category,
        trial,
        text,
        purchasable_by_customer_id: String::new(),
    })?;
    Ok(filter)
}
