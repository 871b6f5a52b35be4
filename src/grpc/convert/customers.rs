//! Customers to the wire.

use super::{pb, timestamp};
use crate::domain::customer::{Customer, QualificationKind, VettingStatus};

pub fn customer(c: &Customer) -> pb::Customer {
    pb::Customer {
        id: c.id.to_string(),
        company_name: c.company_name.clone(),
        country: c.country.to_string(),
        email: c.email.clone(),
        domain: c.domain.clone(),
        qualifications: c
            .qualifications
            .iter()
            .map(|q| pb::Qualification {
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
            })
            .collect(),
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
