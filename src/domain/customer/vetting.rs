//! Vetting: what a partner may submit, what the operator decides, and how a qualification
//! changes with each (Partner Center's "Microsoft vets Education and GCC").

use chrono::{DateTime, Utc};

use super::{Customer, EducationSegment, Partner, QualificationKind, VettingStatus};
use crate::domain::DomainError;
use crate::domain::ids::{CountryCode, CustomerId, PartnerId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub kind: QualificationKind,
    pub vetting: VettingStatus,
    pub updated_at: DateTime<Utc>,
    /// What the partner submitted (none for the operator's Nonprofit or the demo seed's).
    pub details: QualificationDetails,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the operator approved or denied it, and why.
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_reason: Option<String>,
}

/// What a submission carries besides its kind: Education its segment, GCC its validation code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualificationDetails {
    pub education_segment: Option<EducationSegment>,
    pub gcc_validation_code: Option<String>,
}

/// A GCC validation code's shape: 6 to 64 of A-Z, a-z, 0-9 and '-' (the code the GCC
/// validation issues; the operator checks it is the customer's).
pub fn parse_gcc_validation_code(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required for a GCC qualification"),
        ));
    }
    let valid = (6..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            "MALFORMED",
            format!(
                "{field} must be 6 to 64 letters, digits or '-', got {}",
                crate::domain::error::echo(value)
            ),
        ))
    }
}

/// A qualification a partner submits for vetting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub kind: QualificationKind,
    pub details: QualificationDetails,
}

impl Submission {
    /// Who may submit what (DOMAIN.md 6b): Education with its segment, GCC with a validation
    /// code (and only for a GCC partner), State-owned entity with nothing; never Nonprofit.
    /// `gcc_validation_code` is as sent (empty: none).
    pub fn new(
        partner: &Partner,
        kind: QualificationKind,
        education_segment: Option<EducationSegment>,
        gcc_validation_code: &str,
    ) -> Result<Self, DomainError> {
        let not_applicable = |field: &str| {
            DomainError::invalid(
                field,
                "NOT_APPLICABLE",
                format!(
                    "{field} does not apply to a {} qualification",
                    kind.as_str()
                ),
            )
        };
        let code = (!gcc_validation_code.trim().is_empty()).then_some(gcc_validation_code);
        let details = match kind {
            QualificationKind::Nonprofit => return Err(nonprofit_from_operator()),
            QualificationKind::Education => {
                if code.is_some() {
                    return Err(not_applicable("gcc_validation_code"));
                }
                let segment = education_segment.ok_or_else(|| {
                    DomainError::invalid(
                        "education_segment",
                        "REQUIRED",
                        "education_segment (K-12 or higher education) is required for an Education qualification",
                    )
                })?;
                QualificationDetails {
                    education_segment: Some(segment),
                    gcc_validation_code: None,
                }
            }
            QualificationKind::Gcc => {
                if education_segment.is_some() {
                    return Err(not_applicable("education_segment"));
                }
                let code = parse_gcc_validation_code("gcc_validation_code", gcc_validation_code)?;
                if !partner.gcc {
                    return Err(DomainError::FailedPrecondition {
                        message: "the partner does not hold the GCC qualification, so it cannot submit one for its customers".into(),
                        violations: vec![crate::domain::error::Precondition {
                            code: "PARTNER_NOT_GCC".into(),
                            subject: format!("partners/{}", partner.id),
                            description: "only a GCC-qualified partner submits GCC qualifications (the operator grants it with UpdatePartner)".into(),
                        }],
                    });
                }
                QualificationDetails {
                    education_segment: None,
                    gcc_validation_code: Some(code),
                }
            }
            QualificationKind::StateOwnedEntity => {
                if education_segment.is_some() {
                    return Err(not_applicable("education_segment"));
                }
                if code.is_some() {
                    return Err(not_applicable("gcc_validation_code"));
                }
                QualificationDetails::default()
            }
        };
        Ok(Self { kind, details })
    }

    /// The qualification it makes of `customer`'s: in review again, unless already approved
    /// (a partner cannot put an approved qualification back in review; withdraw it first).
    pub fn apply(
        &self,
        customer: &Customer,
        now: DateTime<Utc>,
    ) -> Result<Qualification, DomainError> {
        if let Some(q) = customer.qualification(self.kind)
            && q.vetting == VettingStatus::Approved
        {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the customer's {} qualification is already approved",
                    self.kind.as_str()
                ),
                violations: vec![crate::domain::error::Precondition {
                    code: "ALREADY_APPROVED".into(),
                    subject: format!("customers/{}", customer.id),
                    description: "withdraw it first to submit it again".into(),
                }],
            });
        }
        Ok(Qualification {
            kind: self.kind,
            vetting: VettingStatus::InReview,
            updated_at: now,
            details: self.details.clone(),
            submitted_at: Some(now),
            reviewed_at: None,
            review_reason: None,
        })
    }
}

/// Nonprofit comes from the operator, never from a partner.
fn nonprofit_from_operator() -> DomainError {
    DomainError::PermissionDenied {
        reason: "NONPROFIT_FROM_OPERATOR",
        message: "a partner cannot submit or withdraw Nonprofit: it comes from the operator (Microsoft's nonprofit program)".into(),
    }
}

/// A partner withdraws a qualification of its customer (any but Nonprofit).
pub fn check_withdrawal(customer: &Customer, kind: QualificationKind) -> Result<(), DomainError> {
    if kind == QualificationKind::Nonprofit {
        return Err(nonprofit_from_operator());
    }
    if customer.qualification(kind).is_none() {
        return Err(DomainError::FailedPrecondition {
            message: format!("the customer has no {} qualification", kind.as_str()),
            violations: vec![crate::domain::error::Precondition {
                code: "NO_SUCH_QUALIFICATION".into(),
                subject: format!("customers/{}", customer.id),
                description: format!("no {} qualification to withdraw", kind.as_str()),
            }],
        });
    }
    Ok(())
}

/// A qualification in the operator's review queue, with whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationReview {
    pub partner_id: PartnerId,
    pub customer_id: CustomerId,
    pub company_name: String,
    pub customer_country: CountryCode,
    pub qualification: Qualification,
}

/// The operator's verdict on a qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approve {
        reason: Option<String>,
    },
    /// A denial always says why: the partner and its customer see it.
    Deny {
        reason: String,
    },
}

impl Verdict {
    /// A verdict from the request: a denial needs a reason.
    pub fn new(approve: bool, reason: Option<String>) -> Result<Self, DomainError> {
        match (approve, reason) {
            (true, reason) => Ok(Self::Approve { reason }),
            (false, Some(reason)) => Ok(Self::Deny { reason }),
            (false, None) => Err(DomainError::invalid(
                "reason",
                "REQUIRED",
                "a denial needs a reason: the partner and its customer see it",
            )),
        }
    }

    /// The operator reviews a submitted qualification: it must be in review.
    pub fn review(
        &self,
        customer: &Customer,
        kind: QualificationKind,
        now: DateTime<Utc>,
    ) -> Result<Qualification, DomainError> {
        let Some(q) = customer
            .qualification(kind)
            .filter(|q| q.vetting == VettingStatus::InReview)
        else {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the customer has no {} qualification in review",
                    kind.as_str()
                ),
                violations: vec![crate::domain::error::Precondition {
                    code: "NOT_IN_REVIEW".into(),
                    subject: format!("customers/{}", customer.id),
                    description: "only a submitted qualification is reviewed".into(),
                }],
            });
        };
        Ok(self.decide(q.clone(), now))
    }

    /// The operator grants or revokes Nonprofit, whatever it was.
    pub fn nonprofit(&self, customer: &Customer, now: DateTime<Utc>) -> Qualification {
        let q = customer
            .qualification(QualificationKind::Nonprofit)
            .cloned()
            .unwrap_or(Qualification {
                kind: QualificationKind::Nonprofit,
                vetting: VettingStatus::InReview,
                updated_at: now,
                details: QualificationDetails::default(),
                submitted_at: None,
                reviewed_at: None,
                review_reason: None,
            });
        self.decide(q, now)
    }

    fn decide(&self, q: Qualification, now: DateTime<Utc>) -> Qualification {
        let (vetting, reason) = match self {
            Self::Approve { reason } => (VettingStatus::Approved, reason.clone()),
            Self::Deny { reason } => (VettingStatus::Denied, Some(reason.clone())),
        };
        Qualification {
            vetting,
            updated_at: now,
            reviewed_at: Some(now),
            review_reason: reason,
            ..q
        }
    }
}
