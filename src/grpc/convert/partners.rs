//! Partners and the operator's enums.

use super::{pb, timestamp};
use crate::domain::DomainError;
use crate::domain::customer::{PartnerRecord, Role};

pub fn partner(p: &PartnerRecord) -> pb::Partner {
    pb::Partner {
        id: p.partner.id.to_string(),
        key: p.key.clone(),
        name: p.partner.name.clone(),
        country: p.partner.country.to_string(),
        currency: p.partner.currency.code().to_owned(),
        gcc_status: if p.partner.gcc {
            pb::GccStatus::Qualified
        } else {
            pb::GccStatus::NotQualified
        }
        .into(),
        create_time: Some(timestamp(p.created_at)),
        update_time: Some(timestamp(p.updated_at)),
        etag: p.etag(),
    }
}

/// A GCC status; `None` when unspecified.
pub fn gcc_status(field: &str, raw: i32) -> Result<Option<bool>, DomainError> {
    match super::enums::known::<pb::GccStatus>(field, raw)? {
        pb::GccStatus::Unspecified => Ok(None),
        pb::GccStatus::Qualified => Ok(Some(true)),
        pb::GccStatus::NotQualified => Ok(Some(false)),
    }
}

pub fn partner_role(field: &str, raw: i32) -> Result<Role, DomainError> {
    match super::enums::known::<pb::PartnerRole>(field, raw)? {
        pb::PartnerRole::Unspecified => Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        )),
        pb::PartnerRole::GlobalAdmin => Ok(Role::GlobalAdmin),
        pb::PartnerRole::AdminAgent => Ok(Role::AdminAgent),
        pb::PartnerRole::SalesAgent => Ok(Role::SalesAgent),
        pb::PartnerRole::HelpdeskAgent => Ok(Role::HelpdeskAgent),
    }
}
