//! The one mapping from domain errors to gRPC statuses with google.rpc details.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

use crate::domain::DomainError;

pub const ERROR_DOMAIN: &str = "csp-commerce";

impl From<DomainError> for Status {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::InvalidArgument(violations) => {
                let reason = violations.first().map_or("INVALID_ARGUMENT", |v| v.reason);
                let message = violations
                    .iter()
                    .map(|v| v.description.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                details.set_bad_request(
                    violations
                        .into_iter()
                        .map(|v| FieldViolation {
                            field: v.field,
                            description: v.description,
                            reason: v.reason.to_owned(),
                            localized_message: None,
                        })
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            DomainError::NotFound { resource, id } => {
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
                let mut details = ErrorDetails::with_error_info("ALREADY_EXISTS", ERROR_DOMAIN, []);
                details.set_resource_info(resource, id, "", message.clone());
                Status::with_error_details(Code::AlreadyExists, message, details)
            }
            DomainError::FailedPrecondition {
                message,
                violations,
            } => {
                let reason = violations
                    .first()
                    .map_or("FAILED_PRECONDITION".to_owned(), |v| v.code.clone());
                let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
                if !violations.is_empty() {
                    details.set_precondition_failure(
                        violations
                            .into_iter()
                            .map(|v| PreconditionViolation::new(v.code, v.subject, v.description))
                            .collect::<Vec<_>>(),
                    );
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
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
            ),
            DomainError::PermissionDenied { reason, message } => Status::with_error_details(
                Code::PermissionDenied,
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []),
            ),
            DomainError::Unauthenticated(message) => Status::with_error_details(
                Code::Unauthenticated,
                message,
                ErrorDetails::with_error_info("UNAUTHENTICATED", ERROR_DOMAIN, []),
            ),
            DomainError::Unavailable(message) => Status::with_error_details(
                Code::Unavailable,
                message,
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
