//! Customers to the wire.

use super::{pb, timestamp};
use crate::domain::customer::{
    Customer, EducationSegment, Qualification, QualificationKind, QualificationReview,
    VettingStatus,
};

pub fn customer(c: &Customer) -> pb::Customer {
    pb::Customer {
        id: c.id.to_string(),
        company_name: c.company_name.clone(),
        country: c.country.to_string(),
        email: c.email.clone(),
        domain: c.domain.clone(),
        qualifications: c.qualifications.iter().map(qualification).collect(),
        agreement: c.agreement.as_ref().map(|a| pb::Agreement {
            contact_name: a.contact_name.clone(),
            contact_email: a.contact_email.clone(),
            accept_time: Some(timestamp(a.accepted_at)),
        }),
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
        etag: c.etag(),
    }
}

pub fn qualification(q: &Qualification) -> pb::Qualification {
    pb::Qualification {
        kind: match q.kind {
            QualificationKind::Education => pb::QualificationKind::Education,
            QualificationKind::Nonprofit => pb::QualificationKind::Nonprofit,
            QualificationKind::Gcc => pb::QualificationKind::Gcc,
            QualificationKind::StateOwnedEntity => pb::QualificationKind::StateOwnedEntity,
        }
        .into(),
        vetting_status: match q.vetting {
            VettingStatus::InReview => pb::VettingStatus::InReview,
            VettingStatus::Approved => pb::VettingStatus::Approved,
            VettingStatus::Denied => pb::VettingStatus::Denied,
        }
        .into(),
        update_time: Some(timestamp(q.updated_at)),
        education_segment: match q.details.education_segment {
            None => pb::EducationSegment::Unspecified,
            Some(EducationSegment::K12) => pb::EducationSegment::K12,
            Some(EducationSegment::HigherEducation) => pb::EducationSegment::HigherEducation,
        }
        .into(),
        gcc_validation_code: q.details.gcc_validation_code.clone().unwrap_or_default(),
        submit_time: q.submitted_at.map(timestamp),
        review_time: q.reviewed_at.map(timestamp),
        review_reason: q.review_reason.clone().unwrap_or_default(),
    }
}

pub fn qualification_review(r: &QualificationReview) -> pb::QualificationReview {
    pb::QualificationReview {
        partner_id: r.partner_id.to_string(),
        customer_id: r.customer_id.to_string(),
        company_name: r.company_name.clone(),
        customer_country: r.customer_country.to_string(),
        qualification: Some(qualification(&r.qualification)),
    }
}
