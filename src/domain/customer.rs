//! Partners, their users' roles, customers and what their qualifications allow.

use chrono::{DateTime, Utc};

use super::DomainError;
use super::catalog::Segment;
use super::ids::{CountryCode, CustomerId, PartnerId};
use super::money::Currency;

text_enum!(Role {
    GlobalAdmin = "global_admin",
    AdminAgent = "admin_agent",
    SalesAgent = "sales_agent",
    HelpdeskAgent = "helpdesk_agent",
    /// The operator who publishes price lists; belongs to no partner.
    CatalogAdmin = "catalog_admin",
});

impl Role {
    /// Rule 7: who may buy.
    pub fn may_purchase(&self) -> bool {
        matches!(
            self,
            Role::GlobalAdmin | Role::AdminAgent | Role::SalesAgent
        )
    }

    /// Who may create and change customers.
    pub fn may_manage_customers(&self) -> bool {
        self.may_purchase()
    }
}

/// Who is calling: from a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// `None` only for `catalog_admin`.
    pub partner: Option<PartnerId>,
    pub role: Role,
}

impl Caller {
    /// The caller's partner, or PERMISSION_DENIED for the operator role.
    pub fn partner(&self) -> Result<PartnerId, DomainError> {
        self.partner
            .filter(|_| self.role != Role::CatalogAdmin)
            .ok_or(DomainError::PermissionDenied {
                reason: "PARTNER_ROLE_REQUIRED",
                message: "this operation acts on a partner's data; the catalog_admin role has none"
                    .into(),
            })
    }

    pub fn require(&self, allowed: bool, what: &str) -> Result<(), DomainError> {
        if allowed {
            Ok(())
        } else {
            Err(DomainError::PermissionDenied {
                reason: "ROLE_NOT_ALLOWED",
                message: format!("the {} role may not {what}", self.role.as_str()),
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    pub country: CountryCode,
    pub currency: Currency,
    pub gcc: bool,
}

text_enum!(QualificationKind {
    Education = "education",
    Nonprofit = "nonprofit",
    Gcc = "gcc",
    StateOwnedEntity = "state_owned_entity",
});
text_enum!(VettingStatus {
    InReview = "in_review",
    Approved = "approved",
    Denied = "denied",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub kind: QualificationKind,
    pub vetting: VettingStatus,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub contact_name: String,
    pub contact_email: String,
    pub accepted_at: DateTime<Utc>,
}

/// A validated new customer.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub company_name: String,
    pub country: CountryCode,
    pub email: String,
    pub domain: String,
}

impl NewCustomer {
    /// What identifies the request behind an idempotency key.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.company_name, self.country, self.email, self.domain
        )
    }
}

/// A qualification set to a vetting status.
#[derive(Debug, Clone, Copy)]
pub struct QualificationChange {
    pub kind: QualificationKind,
    pub vetting: VettingStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub partner_id: PartnerId,
    pub company_name: String,
    pub country: CountryCode,
    pub email: String,
    pub domain: String,
    /// Sorted by kind, one per kind.
    pub qualifications: Vec<Qualification>,
    pub agreement: Option<Agreement>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Customer {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }

    fn approved(&self, kind: QualificationKind) -> bool {
        self.qualifications
            .iter()
            .any(|q| q.kind == kind && q.vetting == VettingStatus::Approved)
    }

    /// Rule 2: the segments the customer's approved qualifications open.
    pub fn allowed_segments(&self) -> Vec<Segment> {
        if self.approved(QualificationKind::Gcc) {
            return vec![Segment::Government];
        }
        let mut segments = vec![Segment::Commercial];
        if self.approved(QualificationKind::Nonprofit) {
            segments.push(Segment::Nonprofit);
        }
        if self.approved(QualificationKind::Education) {
            segments.push(Segment::Education);
        }
        segments
    }

    /// The qualification that would open `segment`, if the customer has one not yet approved.
    pub fn pending_qualification_for(&self, segment: Segment) -> Option<&Qualification> {
        let kind = match segment {
            Segment::Education => QualificationKind::Education,
            Segment::Nonprofit => QualificationKind::Nonprofit,
            Segment::Government => QualificationKind::Gcc,
            Segment::Commercial => return None,
        };
        self.qualifications
            .iter()
            .find(|q| q.kind == kind && q.vetting != VettingStatus::Approved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(qualifications: &[(QualificationKind, VettingStatus)]) -> Customer {
        let now = Utc::now();
        Customer {
            id: CustomerId::new(),
            partner_id: PartnerId::new(),
            company_name: "Fabrikam".into(),
            country: CountryCode::parse("c", "US").unwrap(),
            email: "a@fabrikam.com".into(),
            domain: String::new(),
            qualifications: qualifications
                .iter()
                .map(|&(kind, vetting)| Qualification {
                    kind,
                    vetting,
                    updated_at: now,
                })
                .collect(),
            agreement: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    #[test]
    fn only_approved_qualifications_open_segments() {
        use QualificationKind::*;
        use VettingStatus::*;
        assert_eq!(customer(&[]).allowed_segments(), vec![Segment::Commercial]);
        assert_eq!(
            customer(&[(Nonprofit, Approved)]).allowed_segments(),
            vec![Segment::Commercial, Segment::Nonprofit]
        );
        assert_eq!(
            customer(&[(Education, InReview)]).allowed_segments(),
            vec![Segment::Commercial]
        );
        assert_eq!(
            customer(&[(Education, Denied)]).allowed_segments(),
            vec![Segment::Commercial]
        );
        assert_eq!(
            customer(&[(Gcc, Approved), (Education, Approved)]).allowed_segments(),
            vec![Segment::Government]
        );
        assert_eq!(
            customer(&[(StateOwnedEntity, Approved)]).allowed_segments(),
            vec![Segment::Commercial]
        );
    }
}
