//! The errors every layer below gRPC speaks. `grpc::error` maps them to statuses once.

/// One invalid field of a request: which field, which rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    /// A stable rule code, e.g. `REQUIRED`, `MALFORMED`, `OUT_OF_RANGE`, `TOO_LONG`, `UNKNOWN_COUNTRY`.
    pub reason: &'static str,
    pub description: String,
}

impl FieldViolation {
    pub fn new(
        field: impl Into<String>,
        reason: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            reason,
            description: description.into(),
        }
    }
}

/// A business rule that does not hold for the current state (a PreconditionFailure violation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// A stable code, e.g. `AGREEMENT_NOT_ACCEPTED`.
    pub code: String,
    /// What the rule is about, e.g. `customers/<id>` or `lines/<id>`.
    pub subject: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("invalid argument: {0:?}")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    #[error("{resource} {id} already exists: {message}")]
    AlreadyExists {
        resource: &'static str,
        id: String,
        message: String,
    },
    #[error("failed precondition: {message}")]
    FailedPrecondition {
        message: String,
        violations: Vec<Precondition>,
    },
    /// A quota is used up; retry after the delay.
    #[error("rate limited: {limit} {quota} a minute per {subject}; retry in {retry_after:?}")]
    RateLimited {
        retry_after: std::time::Duration,
        limit: u32,
        /// What is counted, e.g. `catalog requests`, `failed authentications`.
        quota: &'static str,
        /// Whose quota: `partner`, `user` or `peer address`.
        subject: &'static str,
    },
    /// A change stream asked to resume from a revision the log no longer keeps.
    #[error("revision {requested} was compacted; the oldest kept is {oldest}")]
    RevisionCompacted { requested: u64, oldest: u64 },
    /// A concurrent change won (stale etag, lost race): retry after re-reading.
    #[error("aborted ({reason}): {message}")]
    Aborted {
        reason: &'static str,
        message: String,
    },
    #[error("permission denied ({reason}): {message}")]
    PermissionDenied {
        reason: &'static str,
        message: String,
    },
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A per-caller or per-process limit is reached (RESOURCE_EXHAUSTED with QuotaFailure);
    /// retry after the delay, or once something of the caller's ends.
    #[error("quota exceeded ({reason}) for {subject}: {description}")]
    QuotaExceeded {
        reason: &'static str,
        subject: String,
        description: String,
        retry_after: std::time::Duration,
    },
    /// A shared resource (the database pool) is busy for now: UNAVAILABLE, retry after the
    /// delay. The cause is logged, not sent.
    #[error("overloaded ({reason}): {message}")]
    Overloaded {
        reason: &'static str,
        message: String,
        retry_after: std::time::Duration,
    },
    /// Never shown to a client: logged, answered as INTERNAL.
    #[error("internal: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(
        field: impl Into<String>,
        reason: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, reason, description)])
    }

    pub fn not_found(resource: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            id: id.into(),
        }
    }

    /// Prefixes every violated field with `prefix.` (e.g. `line.` for a nested message).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::InvalidArgument(violations) => Self::InvalidArgument(
                violations
                    .into_iter()
                    .map(|v| FieldViolation {
                        field: format!("{prefix}.{}", v.field),
                        ..v
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// Collects field violations so a request reports every bad field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of a successful parse; records the violations of a failed one.
    pub fn check<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::InvalidArgument(mut v)) => {
                self.0.append(&mut v);
                None
            }
            Err(other) => {
                self.0
                    .push(FieldViolation::new("", "INVALID", other.to_string()));
                None
            }
        }
    }

    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidArgument(self.0))
        }
    }
}
