//! Partners, their users' roles, customers and what their qualifications allow.

use chrono::{DateTime, Utc};

use crate::domain::DomainError;
use crate::domain::catalog::Segment;
use crate::domain::ids::{CountryCode, CustomerId, PartnerId};
use crate::domain::money::Currency;

mod vetting;
pub use vetting::{
    Qualification, QualificationDetails, QualificationReview, Submission, Verdict,
    check_withdrawal, parse_gcc_validation_code,
};

text_enum!(Role {
    GlobalAdmin = "global_admin",
    AdminAgent = "admin_agent",
    SalesAgent = "sales_agent",
    HelpdeskAgent = "helpdesk_agent",
    /// The operator who publishes price lists; belongs to no partner.
    CatalogAdmin = "catalog_admin",
    /// The platform operator (Microsoft, in Partner Center's terms): registers partners,
    /// mints their tokens, vets qualifications; belongs to no partner.
    Operator = "operator",
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

    /// The roles of the platform, not of a partner: their tokens carry no partner.
    pub fn is_platform(&self) -> bool {
        matches!(self, Role::CatalogAdmin | Role::Operator)
    }
}

/// Who is calling: from a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// `None` only for the platform roles (`catalog_admin`, `operator`).
    pub partner: Option<PartnerId>,
    pub role: Role,
}

impl Caller {
    /// The caller's partner, or PERMISSION_DENIED for the platform roles.
    pub fn partner(&self) -> Result<PartnerId, DomainError> {
        self.partner
            .filter(|_| !self.role.is_platform())
            .ok_or_else(|| DomainError::PermissionDenied {
                reason: "PARTNER_ROLE_REQUIRED",
                message: format!(
                    "this operation acts on a partner's data; the {} role has none",
                    self.role.as_str()
                ),
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

/// A registered partner as the operator sees it: its handle, its version (etag) and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    pub partner: Partner,
    /// A short unique handle (`us`, `contoso`), for the CLI and the operator.
    pub key: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PartnerRecord {
    pub fn etag(&self) -> String {
        format!("v{}", self.version)
    }
}

/// The most characters of a partner's key.
pub const MAX_PARTNER_KEY_LEN: usize = 32;

/// A partner's key: 1 to 32 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit. Not a
/// UUID, so that the CLI's `--partner <uuid|key>` is never ambiguous.
pub fn parse_partner_key(field: &str, value: &str) -> Result<String, DomainError> {
    let valid = !value.is_empty()
        && value.len() <= MAX_PARTNER_KEY_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && uuid::Uuid::parse_str(value).is_err();
    if valid {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!(
                "{field} must be 1 to {MAX_PARTNER_KEY_LEN} of a-z, 0-9, '-', '_', starting with a letter or digit, got {}",
                crate::domain::error::echo(value)
            ),
        ))
    }
}

/// A validated partner to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartner {
    /// `None`: the partner's id is its key.
    pub key: Option<String>,
    pub name: String,
    pub country: CountryCode,
    pub currency: Currency,
    pub gcc: bool,
}

impl NewPartner {
    /// What identifies the request behind an idempotency key.
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?}|{:?}|{}|{}|{}",
            self.key,
            self.name,
            self.country,
            self.currency.code(),
            self.gcc
        )
    }
}

/// What an update changes of a partner; `None` keeps the stored value. Country and currency
/// are fixed at registration: customers, carts and prices rest on them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerUpdate {
    pub name: Option<String>,
    pub gcc: Option<bool>,
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

text_enum!(EducationSegment {
    K12 = "k12",
    HigherEducation = "higher_education",
});

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

    pub fn qualification(&self, kind: QualificationKind) -> Option<&Qualification> {
        self.qualifications.iter().find(|q| q.kind == kind)
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
                    details: QualificationDetails::default(),
                    submitted_at: None,
                    reviewed_at: None,
                    review_reason: None,
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

    #[test]
    fn gcc_validation_codes_are_shape_checked() {
        assert_eq!(
            parse_gcc_validation_code("c", " GCC-1234-ab ").unwrap(),
            "GCC-1234-ab"
        );
        for bad in ["", "abc", "has space", "ünïcode-code", &"x".repeat(65)] {
            assert!(parse_gcc_validation_code("c", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_denial_needs_a_reason_and_only_a_submission_is_reviewed() {
        use QualificationKind::*;
        use VettingStatus::*;
        assert!(Verdict::new(false, None).is_err());
        let deny = Verdict::new(false, Some("no".into())).unwrap();
        let now = Utc::now();
        assert!(deny.review(&customer(&[]), Education, now).is_err());
        assert!(
            deny.review(&customer(&[(Education, Approved)]), Education, now)
                .is_err()
        );
        let denied = deny
            .review(&customer(&[(Education, InReview)]), Education, now)
            .unwrap();
        assert_eq!(denied.vetting, Denied);
        assert_eq!(denied.review_reason.as_deref(), Some("no"));
        // The operator's Nonprofit needs no submission.
        let granted = Verdict::new(true, None)
            .unwrap()
            .nonprofit(&customer(&[]), now);
        assert_eq!((granted.kind, granted.vetting), (Nonprofit, Approved));
    }
}
