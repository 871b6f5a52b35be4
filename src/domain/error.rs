//! The errors every layer below gRPC speaks. `grpc::error` maps them to statuses once.
//!
//! Errors stay small whatever a caller sends: echoed input is cut short (`echo`), violation
//! lists are capped (`Violations`), and `grpc::error` bounds every status once more.

/// Characters of caller input an error message may echo.
pub const ECHO_CHARS: usize = 64;
/// Violations reported one by one; the rest are counted in one last violation.
pub const MAX_VIOLATIONS: usize = 20;
/// The stable rule code of the violation that counts the ones left out.
pub const MORE_VIOLATIONS: &str = "MORE_VIOLATIONS";

/// Caller input quoted for an error message, cut to `ECHO_CHARS` characters (on a character
/// boundary) and marked with its full size when cut: `"AAAA…"…(3000000 bytes)`.
pub fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_CHARS) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}…({} bytes)", &value[..cut], value.len()),
    }
}

/// `text` cut to at most about `max_bytes` (on a character boundary), marked when cut. The
/// last line of defence: `grpc::error` bounds every description and message with it.
pub fn clip(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let mut cut = max_bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…({} bytes)", &text[..cut], text.len())
}

/// `n` with thousands separators: 9,980.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The violation that stands for `left_out` others.
pub fn more_violations(left_out: usize) -> FieldViolation {
    FieldViolation::new("", MORE_VIOLATIONS, format!("and {} more", count(left_out)))
}

/// The first `MAX_VIOLATIONS` of `violations`, and one more that counts the rest.
pub fn cap_violations(mut violations: Vec<FieldViolation>) -> Vec<FieldViolation> {
    if violations.len() > MAX_VIOLATIONS {
        let left_out = violations.len() - MAX_VIOLATIONS;
        violations.truncate(MAX_VIOLATIONS);
        violations.push(more_violations(left_out));
    }
    violations
}

/// The reason of the ABORTED answer to a write judged on a version that is no longer current.
pub const ETAG_MISMATCH: &str = "ETAG_MISMATCH";

/// One invalid field of a request: which field, which rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    /// A stable rule code, e.g. `REQUIRED`, `MALFORMED`, `OUT_OF_RANGE`, `TOO_LONG`, `UNKNOWN_COUNTRY`.
    pub reason: &'static str,
    pub description: String,
}

/// The violations' descriptions, for a person: "a; b".
fn descriptions(violations: &[FieldViolation]) -> String {
    let described: Vec<&str> = violations.iter().map(|v| v.description.as_str()).collect();
    described.join("; ")
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
    #[error("invalid argument: {}", descriptions(.0))]
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
    RevisionCompacted {
        requested: u64,
        oldest: u64,
        /// What a subscriber rebuilds its state from before it resumes.
        rebuild_from: &'static str,
    },
    /// A concurrent change won (stale etag, lost race): retry after re-reading.
    #[error("aborted ({reason}): {message}")]
    Aborted {
        reason: &'static str,
        message: String,
        /// ETAG_MISMATCH: the resource's etag now, when known (sent in ErrorInfo metadata, so
        /// a client may retry without a read).
        current_etag: Option<String>,
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

    /// A write was judged on a version of `resource` that is no longer current (ABORTED,
    /// `ETAG_MISMATCH`): "the cart changed (etag v3 now, "v2" sent): read it again". Without
    /// the current etag the message says the resource changed while the request ran.
    pub fn stale_etag(
        resource: &str,
        current: Option<&str>,
        sent: Option<&str>,
        advice: &str,
    ) -> Self {
        let how = match (current, sent) {
            (Some(current), Some(sent)) => format!(" (etag {current} now, {} sent)", echo(sent)),
            (Some(current), None) => format!(" (etag {current} now)"),
            (None, _) => " while this request ran".to_owned(),
        };
        Self::Aborted {
            reason: ETAG_MISMATCH,
            message: format!("the {resource} changed{how}: {advice}"),
            current_etag: current.map(str::to_owned),
        }
    }

    /// Whether this is the answer of `stale_etag`.
    pub fn is_stale_etag(&self) -> bool {
        matches!(self, Self::Aborted { reason, .. } if *reason == ETAG_MISMATCH)
    }

    /// A handler found a field it had parsed without a violation missing: a bug, answered as
    /// INTERNAL.
    pub fn parsed_field_missing() -> Self {
        Self::Internal("a parsed field was missing after validation".into())
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

/// Collects field violations so a request reports every bad field at once: the first
/// `MAX_VIOLATIONS`, and how many more.
#[derive(Debug, Default)]
pub struct Violations {
    kept: Vec<FieldViolation>,
    left_out: usize,
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of a successful parse; records the violations of a failed one.
    pub fn check<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::InvalidArgument(violations)) => {
                for violation in violations {
                    self.push(violation);
                }
                None
            }
            Err(other) => {
                self.push(FieldViolation::new("", "INVALID", other.to_string()));
                None
            }
        }
    }

    pub fn push(&mut self, violation: FieldViolation) {
        if violation.reason == MORE_VIOLATIONS {
            // A nested parse's own count of what it left out.
            self.left_out += violation_count(&violation.description);
        } else if self.kept.len() < MAX_VIOLATIONS {
            self.kept.push(violation);
        } else {
            self.left_out += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.left_out == 0
    }

    pub fn into_result(mut self) -> Result<(), DomainError> {
        if self.is_empty() {
            return Ok(());
        }
        if self.left_out > 0 {
            self.kept.push(more_violations(self.left_out));
        }
        Err(DomainError::InvalidArgument(self.kept))
    }
}

/// The count in a `more_violations` description ("and 9,980 more").
pub fn violation_count(description: &str) -> usize {
    description
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_cuts_long_input_on_a_character_boundary() {
        assert_eq!(echo("US"), "\"US\"");
        let long = "é".repeat(1_000);
        assert_eq!(
            echo(&long),
            format!("{:?}…(2000 bytes)", "é".repeat(ECHO_CHARS))
        );
    }

    #[test]
    fn clip_marks_what_it_cut() {
        assert_eq!(clip("short".into(), 10), "short");
        let clipped = clip("ab€".repeat(100), 10);
        assert!(clipped.starts_with("ab€ab€"), "{clipped}");
        assert!(clipped.ends_with("…(500 bytes)"), "{clipped}");
    }

    #[test]
    fn stale_etags_say_what_changed() {
        let sent = DomainError::stale_etag("cart", Some("v3"), Some("v2"), "read it again");
        assert!(sent.is_stale_etag());
        assert_eq!(
            sent.to_string(),
            "aborted (ETAG_MISMATCH): the cart changed (etag v3 now, \"v2\" sent): read it again"
        );
        let raced = DomainError::stale_etag("order", None, None, "read it again");
        assert_eq!(
            raced.to_string(),
            "aborted (ETAG_MISMATCH): the order changed while this request ran: read it again"
        );
        assert!(!DomainError::parsed_field_missing().is_stale_etag());
    }

    #[test]
    fn violations_keep_twenty_and_count_the_rest() {
        let mut v = Violations::new();
        for i in 0..10_000 {
            v.push(FieldViolation::new(
                format!("lines[{i}]"),
                "MALFORMED",
                "bad",
            ));
        }
        let Err(DomainError::InvalidArgument(kept)) = v.into_result() else {
            panic!("expected violations");
        };
        assert_eq!(kept.len(), MAX_VIOLATIONS + 1);
        assert_eq!(kept[MAX_VIOLATIONS].description, "and 9,980 more");
        // Nested collections add up their counts.
        let mut outer = Violations::new();
        outer.check::<()>(Err(DomainError::InvalidArgument(kept)));
        outer.check::<()>(Err(DomainError::invalid("x", "MALFORMED", "bad")));
        let Err(DomainError::InvalidArgument(kept)) = outer.into_result() else {
            panic!("expected violations");
        };
        assert_eq!(kept[MAX_VIOLATIONS].description, "and 9,981 more");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
