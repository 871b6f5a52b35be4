//! The one mapping from domain errors to gRPC statuses with google.rpc details.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

use crate::domain::DomainError;
use crate::domain::error::{MAX_VIOLATIONS, MORE_VIOLATIONS, clip, count, violation_count};

pub const ERROR_DOMAIN: &str = "csp-commerce";

/// Bounds on what one status carries, whatever built it (defence in depth: the domain already
/// cuts echoed input and caps violation lists): its message and google.rpc details (which
/// repeat the message) stay under 4,000 bytes, far below any client's metadata limit.
const MAX_STATUS_BYTES: usize = 4000;
const MAX_MESSAGE_BYTES: usize = 320;
/// Room kept in a message for the count of what was left out.
const COUNT_ROOM: usize = 48;
const MAX_FIELD_BYTES: usize = 128;
const MAX_DESCRIPTION_BYTES: usize = 256;

/// What a status costs a client: its message and its details.
fn rendered(status: &Status) -> usize {
    status.message().len() + status.details().len()
}

/// The status `make` builds from the first of `violations` (at most `MAX_VIOLATIONS`) that
/// keep it under `MAX_STATUS_BYTES`, told how many more were left out.
fn fitted<T>(
    mut violations: Vec<T>,
    mut left_out: usize,
    make: impl Fn(&[T], usize) -> Status,
) -> Status {
    if violations.len() > MAX_VIOLATIONS {
        left_out += violations.len() - MAX_VIOLATIONS;
        violations.truncate(MAX_VIOLATIONS);
    }
    loop {
        let status = make(&violations, left_out);
        if rendered(&status) < MAX_STATUS_BYTES || violations.pop().is_none() {
            return status;
        }
        left_out += 1;
    }
}

fn and_more(left_out: usize) -> String {
    format!("and {} more", count(left_out))
}

impl From<DomainError> for Status {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::InvalidArgument(violations) => {
                let mut left_out = 0;
                let violations: Vec<_> = violations
                    .into_iter()
                    .filter_map(|v| {
                        if v.reason == MORE_VIOLATIONS {
                            // Counted again below, with whatever the bounds leave out.
                            left_out += violation_count(&v.description);
                            return None;
                        }
                        Some(FieldViolation {
                            field: clip(v.field, MAX_FIELD_BYTES),
                            description: clip(v.description, MAX_DESCRIPTION_BYTES),
                            reason: v.reason.to_owned(),
                            localized_message: None,
                        })
                    })
                    .collect();
                fitted(violations, left_out, |violations, left_out| {
                    let reason = violations
                        .first()
                        .map_or("INVALID_ARGUMENT".to_owned(), |v| v.reason.clone());
                    // Room is left for the count, so a cut message still says how many more.
                    let mut message = clip(
                        violations
                            .iter()
                            .map(|v| v.description.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                        MAX_MESSAGE_BYTES - COUNT_ROOM,
                    );
                    let mut violations = violations.to_vec();
                    if left_out > 0 {
                        message = format!("{message}; {}", and_more(left_out));
                        violations.push(FieldViolation {
                            field: String::new(),
                            description: and_more(left_out),
                            reason: MORE_VIOLATIONS.to_owned(),
                            localized_message: None,
                        });
                    }
                    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                    details.set_bad_request(violations);
                    Status::with_error_details(Code::InvalidArgument, message, details)
                })
            }
            DomainError::NotFound { resource, id } => {
                let id = clip(id, MAX_FIELD_BYTES);
                let mut details = ErrorDetails::with_error_info(
                    "NOT_FOUND",
                    ERROR_DOMAIN,
                    [("resource".to_owned(), resource.to_owned())],
                );
                details.set_resource_info(resource, id.clone(), "", "not found");
                Status::with_error_details(
                    Code::NotFound,
                    format!("{resource} {id} not found"),
                    details,
                )
            }
            DomainError::AlreadyExists {
                resource,
                id,
                message,
            } => {
                let (id, message) = (clip(id, MAX_FIELD_BYTES), clip(message, MAX_MESSAGE_BYTES));
                let mut details = ErrorDetails::with_error_info("ALREADY_EXISTS", ERROR_DOMAIN, []);
                details.set_resource_info(resource, id, "", message.clone());
                Status::with_error_details(Code::AlreadyExists, message, details)
            }
            DomainError::FailedPrecondition {
                message,
                violations,
            } => {
                let violations: Vec<_> = violations
                    .into_iter()
                    .map(|v| {
                        PreconditionViolation::new(
                            clip(v.code, MAX_FIELD_BYTES),
                            clip(v.subject, MAX_FIELD_BYTES),
                            clip(v.description, MAX_DESCRIPTION_BYTES),
                        )
                    })
                    .collect();
                let message = clip(message, MAX_MESSAGE_BYTES - COUNT_ROOM);
                fitted(violations, 0, |violations, left_out| {
                    let reason = violations
                        .first()
                        .map_or("FAILED_PRECONDITION".to_owned(), |v| v.r#type.clone());
                    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                    if !violations.is_empty() {
                        details.set_precondition_failure(violations.to_vec());
                    }
                    let message = if left_out > 0 {
                        format!("{message} ({} more problems)", count(left_out))
                    } else {
                        message.clone()
                    };
                    Status::with_error_details(Code::FailedPrecondition, message, details)
                })
            }
            DomainError::RateLimited {
                retry_after,
                limit,
                quota,
                subject,
            } => {
                let mut details = ErrorDetails::with_error_info(
                    "RATE_LIMITED",
                    ERROR_DOMAIN,
                    [
                        ("limit_per_minute".to_owned(), limit.to_string()),
                        ("quota".to_owned(), quota.to_owned()),
                        ("subject".to_owned(), subject.to_owned()),
                    ],
                );
                details.set_retry_info(Some(retry_after));
                details.add_quota_failure_violation(
                    subject,
                    format!("at most {limit} {quota} a minute per {subject}"),
                );
                Status::with_error_details(
                    Code::ResourceExhausted,
                    format!(
                        "the {subject}'s {limit} {quota} a minute are used up: retry in {} ms",
                        retry_after.as_millis()
                    ),
                    details,
                )
            }
            DomainError::RevisionCompacted {
                requested,
                oldest,
                rebuild_from,
            } => {
                let mut details = ErrorDetails::with_error_info(
                    "REVISION_COMPACTED",
                    ERROR_DOMAIN,
                    [
                        ("oldest_revision".to_owned(), oldest.to_string()),
                        ("requested_revision".to_owned(), requested.to_string()),
                    ],
                );
                details.set_precondition_failure(vec![PreconditionViolation::new(
                    "REVISION_COMPACTED",
                    format!("revisions/{requested}"),
                    format!("the log starts at revision {oldest}: rebuild from {rebuild_from}, then resume after {}", oldest - 1),
                )]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("revision {requested} is no longer kept; the oldest kept is {oldest}"),
                    details,
                )
            }
            DomainError::Aborted {
                reason,
                message,
                current_etag,
            } => Status::with_error_details(
                Code::Aborted,
                clip(message, MAX_MESSAGE_BYTES),
                ErrorDetails::with_error_info(
                    reason,
                    ERROR_DOMAIN,
                    current_etag
                        .map(|etag| ("current_etag".to_owned(), clip(etag, MAX_FIELD_BYTES)))
                        .into_iter()
                        .collect::<std::collections::HashMap<_, _>>(),
                ),
            ),
            DomainError::PermissionDenied { reason, message } => Status::with_error_details(
                Code::PermissionDenied,
                clip(message, MAX_MESSAGE_BYTES),
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
            ),
            DomainError::Unauthenticated(message) => Status::with_error_details(
                Code::Unauthenticated,
                clip(message, MAX_MESSAGE_BYTES),
                ErrorDetails::with_error_info("UNAUTHENTICATED", ERROR_DOMAIN, []),
            ),
            DomainError::Unavailable(message) => Status::with_error_details(
                Code::Unavailable,
                clip(message, MAX_MESSAGE_BYTES),
                ErrorDetails::with_error_info("UNAVAILABLE", ERROR_DOMAIN, []),
            ),
            DomainError::QuotaExceeded {
                reason,
                subject,
                description,
                retry_after,
            } => {
                let mut details = ErrorDetails::with_error_info(
                    reason,
                    ERROR_DOMAIN,
                    [("subject".to_owned(), subject.clone())],
                );
                details.set_retry_info(Some(retry_after));
                details.add_quota_failure_violation(subject, description.clone());
                Status::with_error_details(Code::ResourceExhausted, description, details)
            }
            DomainError::Overloaded {
                reason,
                message,
                retry_after,
            } => {
                let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                details.set_retry_info(Some(retry_after));
                Status::with_error_details(
                    Code::Unavailable,
                    format!("{message}: retry in {} ms", retry_after.as_millis()),
                    details,
                )
            }
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Status::with_error_details(
                    Code::Internal,
                    "internal error",
                    ErrorDetails::with_error_info("INTERNAL", ERROR_DOMAIN, []),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldViolation as Violation;
    use crate::domain::error::Precondition;

    #[test]
    fn the_largest_statuses_stay_under_the_bound() {
        let long = "\u{1f600}".repeat(10_000);
        let invalid = Status::from(DomainError::InvalidArgument(
            (0..1_000)
                .map(|_| Violation::new(long.clone(), "MALFORMED", long.clone()))
                .collect(),
        ));
        assert!(
            rendered(&invalid) < MAX_STATUS_BYTES,
            "{}",
            rendered(&invalid)
        );
        assert!(
            invalid.message().ends_with(" more"),
            "{}",
            invalid.message()
        );
        let refused = Status::from(DomainError::FailedPrecondition {
            message: long.clone(),
            violations: (0..1_000)
                .map(|_| Precondition {
                    code: long.clone(),
                    subject: long.clone(),
                    description: long.clone(),
                })
                .collect(),
        });
        assert!(
            rendered(&refused) < MAX_STATUS_BYTES,
            "{}",
            rendered(&refused)
        );
        for status in [
            DomainError::not_found("cart", long.clone()),
            DomainError::Unauthenticated(long.clone()),
            DomainError::AlreadyExists {
                resource: "customer",
                id: long.clone(),
                message: long.clone(),
            },
        ]
        .map(Status::from)
        {
            assert!(
                rendered(&status) < MAX_STATUS_BYTES,
                "{}",
                rendered(&status)
            );
        }
    }

    #[test]
    fn twenty_ordinary_problems_are_all_listed() {
        let refused = Status::from(DomainError::FailedPrecondition {
            message: "the cart cannot be checked out".into(),
            violations: (0..99)
                .map(|_| Precondition {
                    code: "PROVISIONING_CONTEXT_MISSING".into(),
                    subject: format!("lines/{}", uuid::Uuid::now_v7()),
                    description: "an Azure reservation needs a scope (single or shared) and an Azure subscription id".into(),
                })
                .collect(),
        });
        let details = refused.get_error_details();
        assert_eq!(details.precondition_failure().unwrap().violations.len(), 20);
        assert!(
            refused.message().ends_with("(79 more problems)"),
            "{}",
            refused.message()
        );
    }
}
