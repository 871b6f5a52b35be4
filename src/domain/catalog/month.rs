//! The price-list month.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::DomainError;
use crate::domain::error::{Precondition, echo};

/// A price-list month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                field,
                "MALFORMED",
                format!("{field} must be YYYY-MM, got {}", echo(text)),
            )
        };
        if text.len() != 7 {
            return Err(bad());
        }
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        let (year, month) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        if y.len() != 4
            || m.len() != 2
            || !(1..=12).contains(&month)
            || !(2000..=2999).contains(&year)
        {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// 00:00 UTC on the 1st: the moment a month's prices take effect.
    pub fn start(&self) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    pub fn next(&self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                month: self.month + 1,
                ..*self
            }
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// At most this many kept months are named in a MONTH_NOT_KEPT answer (the newest).
const NAMED_KEPT_MONTHS: usize = 24;

impl DomainError {
    /// A read asked for a month the server does not keep (`kept`: oldest first):
    /// FAILED_PRECONDITION `MONTH_NOT_KEPT`, naming the months that are.
    pub fn month_not_kept(month: Month, kept: &[Month]) -> Self {
        let named = kept.len().saturating_sub(NAMED_KEPT_MONTHS);
        let list = kept[named..]
            .iter()
            .map(Month::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let kept_text = match (kept.first(), named) {
            (None, _) => "no month is published yet".to_owned(),
            (Some(_), 0) => format!("the months kept are {list}"),
            (Some(oldest), older) => {
                format!("the months kept are {list} and {older} older, back to {oldest}")
            }
        };
        Self::FailedPrecondition {
            message: format!("month {month} is not kept: {kept_text}"),
            violations: vec![Precondition {
                code: "MONTH_NOT_KEPT".into(),
                subject: format!("months/{month}"),
                description: format!(
                    "a read as of a month answers from a published month up to the current one: {kept_text}"
                ),
            }],
        }
    }
}
