//! Enums: a wire number is parsed only if known; `*_UNSPECIFIED` is `None` where optional and
//! refused where required.

use super::pb;
use crate::domain::DomainError;
use crate::domain::catalog::{BillingCycle, BillingType, ProductType, Segment, Term};
use crate::domain::customer::{EducationSegment, QualificationKind};

/// Reads an enum field: the raw number must be a known value.
pub(super) fn known<T: TryFrom<i32>>(field: &str, raw: i32) -> Result<T, DomainError> {
    T::try_from(raw).map_err(|_| {
        DomainError::invalid(
            field,
            "UNKNOWN_ENUM_VALUE",
            format!("{field} {raw} is not a known value"),
        )
    })
}

pub fn optional_segment(field: &str, raw: i32) -> Result<Option<Segment>, DomainError> {
    Ok(match known::<pb::Segment>(field, raw)? {
        pb::Segment::Unspecified => None,
        pb::Segment::Commercial => Some(Segment::Commercial),
        pb::Segment::Education => Some(Segment::Education),
        pb::Segment::Government => Some(Segment::Government),
        pb::Segment::Nonprofit => Some(Segment::Nonprofit),
    })
}

pub fn segment(s: Segment) -> pb::Segment {
    match s {
        Segment::Commercial => pb::Segment::Commercial,
        Segment::Education => pb::Segment::Education,
        Segment::Government => pb::Segment::Government,
        Segment::Nonprofit => pb::Segment::Nonprofit,
    }
}

pub fn optional_product_type(field: &str, raw: i32) -> Result<Option<ProductType>, DomainError> {
    Ok(match known::<pb::ProductType>(field, raw)? {
        pb::ProductType::Unspecified => None,
        pb::ProductType::OnlineServices => Some(ProductType::OnlineServices),
        pb::ProductType::Azure => Some(ProductType::Azure),
        pb::ProductType::Software => Some(ProductType::Software),
        pb::ProductType::Marketplace => Some(ProductType::Marketplace),
    })
}

pub fn product_type(t: ProductType) -> pb::ProductType {
    match t {
        ProductType::OnlineServices => pb::ProductType::OnlineServices,
        ProductType::Azure => pb::ProductType::Azure,
        ProductType::Software => pb::ProductType::Software,
        ProductType::Marketplace => pb::ProductType::Marketplace,
    }
}

pub fn optional_billing_type(field: &str, raw: i32) -> Result<Option<BillingType>, DomainError> {
    Ok(match known::<pb::BillingType>(field, raw)? {
        pb::BillingType::Unspecified => None,
        pb::BillingType::License => Some(BillingType::License),
        pb::BillingType::Usage => Some(BillingType::Usage),
    })
}

pub fn billing_type(t: BillingType) -> pb::BillingType {
    match t {
        BillingType::License => pb::BillingType::License,
        BillingType::Usage => pb::BillingType::Usage,
    }
}

pub fn term(field: &str, raw: i32) -> Result<Term, DomainError> {
    match known::<pb::TermDuration>(field, raw)? {
        pb::TermDuration::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::TermDuration::P1m => Ok(Term::P1M),
        pb::TermDuration::P1y => Ok(Term::P1Y),
        pb::TermDuration::P3y => Ok(Term::P3Y),
        pb::TermDuration::None => Ok(Term::None),
    }
}

pub fn term_to_pb(t: Term) -> pb::TermDuration {
    match t {
        Term::P1M => pb::TermDuration::P1m,
        Term::P1Y => pb::TermDuration::P1y,
        Term::P3Y => pb::TermDuration::P3y,
        Term::None => pb::TermDuration::None,
    }
}

pub fn billing_cycle(field: &str, raw: i32) -> Result<BillingCycle, DomainError> {
    match known::<pb::BillingCycle>(field, raw)? {
        pb::BillingCycle::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::BillingCycle::Monthly => Ok(BillingCycle::Monthly),
        pb::BillingCycle::Annual => Ok(BillingCycle::Annual),
        pb::BillingCycle::Triennial => Ok(BillingCycle::Triennial),
        pb::BillingCycle::OneTime => Ok(BillingCycle::OneTime),
        pb::BillingCycle::None => Ok(BillingCycle::None),
    }
}

pub fn billing_cycle_to_pb(c: BillingCycle) -> pb::BillingCycle {
    match c {
        BillingCycle::Monthly => pb::BillingCycle::Monthly,
        BillingCycle::Annual => pb::BillingCycle::Annual,
        BillingCycle::Triennial => pb::BillingCycle::Triennial,
        BillingCycle::OneTime => pb::BillingCycle::OneTime,
        BillingCycle::None => pb::BillingCycle::None,
    }
}

pub fn qualification_kind(field: &str, raw: i32) -> Result<QualificationKind, DomainError> {
    match known::<pb::QualificationKind>(field, raw)? {
        pb::QualificationKind::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::QualificationKind::Education => Ok(QualificationKind::Education),
        pb::QualificationKind::Nonprofit => Ok(QualificationKind::Nonprofit),
        pb::QualificationKind::Gcc => Ok(QualificationKind::Gcc),
        pb::QualificationKind::StateOwnedEntity => Ok(QualificationKind::StateOwnedEntity),
    }
}

/// An Education segment; `None` when unspecified.
pub fn education_segment(field: &str, raw: i32) -> Result<Option<EducationSegment>, DomainError> {
    match known::<pb::EducationSegment>(field, raw)? {
        pb::EducationSegment::Unspecified => Ok(None),
        pb::EducationSegment::K12 => Ok(Some(EducationSegment::K12)),
        pb::EducationSegment::HigherEducation => Ok(Some(EducationSegment::HigherEducation)),
    }
}
