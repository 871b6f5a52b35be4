//! Conversions between wire messages and domain values. Parsing lives here: what reaches a
//! service is valid.
//! One file per area; every conversion is re-exported here (`convert::product`, ...).

mod carts;
mod catalog;
mod customers;
mod enums;
mod orders;
mod partners;

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

pub use carts::{MAX_QUANTITY, cart, line_input, provisioning_to_pb};
pub use catalog::{
    availability, change, item_ref, offer, periods, problem, problem_code, problem_code_str,
    product, sku, sku_ref,
};
pub use customers::{customer, qualification_review};
pub use enums::{
    billing_cycle, billing_cycle_to_pb, billing_type, education_segment, optional_billing_type,
    optional_product_type, optional_segment, product_type, qualification_kind, segment, term,
    term_to_pb,
};
pub use orders::{
    order, order_status, subscription, subscription_event, subscription_status, transaction,
};
pub use partners::{gcc_status, partner, partner_role};

use super::pb;
use crate::domain::DomainError;
use crate::domain::catalog::Month;
use crate::domain::ids::CountryCode;
use crate::domain::money::Money;

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn parse_timestamp(field: &str, ts: &Timestamp) -> Result<DateTime<Utc>, DomainError> {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                "OUT_OF_RANGE",
                format!("{field} is not a valid timestamp"),
            )
        })
}

pub fn money(m: Money) -> pb::Money {
    let (units, nanos) = m.units_and_nanos();
    pb::Money {
        currency_code: m.currency.code().to_owned(),
        units,
        nanos,
    }
}

/// An optional country filter: empty means any.
/// A request's optional month, "YYYY-MM": empty is none (the current month).
pub fn optional_month(field: &str, value: &str) -> Result<Option<Month>, DomainError> {
    if value.is_empty() {
        Ok(None)
    } else {
        Month::parse(field, value).map(Some)
    }
}

pub fn optional_country(field: &str, value: &str) -> Result<Option<CountryCode>, DomainError> {
    if value.is_empty() {
        Ok(None)
    } else {
        CountryCode::parse(field, value).map(Some)
    }
}
