//! The one mapping from domain errors to gRPC statuses with google.rpc details.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

use crate::domain::DomainError;
use crate::domain::error::{MAX_VIOLATIONS, MORE_VIOLATIONS, clip, count, violation_count};

pub const ERROR_DOMAIN: &str = "csp-commerce";

/// Bounds on what one status carries, whatever built it (defence in depth: the domain already
/// cuts echoed input and caps violation lists). With them a status's message and details stay
/// well under 4 KiB, far below any client's metadata limit.
const MAX_MESSAGE_BYTES: usize = 512;
const MAX_FIELD_BYTES: usize = 128;
const MAX_DESCRIPTION_BYTES: usize = 256;
/// Bytes of violations (fields, reasons, descriptions) one status lists; the rest are counted.
const MAX_DETAIL_BYTES: usize = 2048;

/// The violations that fit the bounds, each clipped, and how many were left out.
fn bounded<T>(violations: Vec<T>, size: impl Fn(&T) -> usize) -> (Vec<T>, usize) {
    let total = violations.len();
    let mut kept = Vec::new();
    let mut bytes = 0;
    for violation in violations {
        bytes += size(&violation);
        if kept.len() == MAX_VIOLATIONS || bytes > MAX_DETAIL_BYTES {
            break;
        }
        kept.push(violation);
    }
    let left_out = total - kept.len();
    (kept, left_out)
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
                let (mut violations, cut) = bounded(violations, |v| {
                    v.field.len() + v.description.len() + v.reason.len()
                });
                left_out += cut;
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
                    MAX_MESSAGE_BYTES - 64,
                );
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
                let (violations, left_out) = bounded(
                    violations
                        .into_iter()
                        .map(|v| {
                            PreconditionViolation::new(
                                clip(v.code, MAX_FIELD_BYTES),
                                clip(v.subject, MAX_FIELD_BYTES),
                                clip(v.description, MAX_DESCRIPTION_BYTES),
                            )
                        })
                        .collect(),
                    |v| v.r#type.len() + v.subject.len() + v.description.len(),
                );
                let reason = violations
                    .first()
                    .map_or("FAILED_PRECONDITION".to_owned(), |v| v.r#type.clone());
                let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                let mut message = clip(message, MAX_MESSAGE_BYTES);
                if left_out > 0 {
                    message = format!("{message} ({} more problems)", count(left_out));
                }
                if !violations.is_empty() {
                    details.set_precondition_failure(violations);
                }
                Status::with_error_details(Code::FailedPrecondition, message, details)
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
            DomainError::RevisionCompacted { requested, oldest } => {
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
                    format!("the log starts at revision {oldest}: rebuild from the catalog, then resume after {}", oldest - 1),
                )]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("revision {requested} is no longer kept; the oldest kept is {oldest}"),
                    details,
                )
            }
            DomainError::Aborted { reason, message } => Status::with_error_details(
                Code::Aborted,
                clip(message, MAX_MESSAGE_BYTES),
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
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
