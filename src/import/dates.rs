//! The two date formats of the price lists, the year-9999 open end and the 1753 placeholder.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// What a date cell means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    At(DateTime<Utc>),
    /// Year 9999: no end.
    Open,
}

/// Parses `2/1/2019 12:00:00 AM`, `2019-02-01T00:00:00Z`, `2019-02-01T00:00:00` or `2019-02-01`.
pub fn parse(text: &str) -> Result<Cell, String> {
    let text = text.trim();
    let at = parse_instant(text).ok_or_else(|| {
        format!(
            "{} is not a date (expected M/D/YYYY h:mm:ss AM/PM or ISO 8601)",
            super::clip(text)
        )
    })?;
    if at.format("%Y").to_string() == "9999" {
        Ok(Cell::Open)
    } else {
        Ok(Cell::At(at))
    }
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    for format in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return day.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_and_the_special_years() {
        let us = parse("2/1/2019 12:00:00 AM").unwrap();
        let iso = parse("2019-02-01T00:00:00Z").unwrap();
        assert_eq!(us, iso);
        assert_eq!(parse("12/31/9999 11:59:59 PM").unwrap(), Cell::Open);
        assert_eq!(parse("9999-12-31T23:59:59Z").unwrap(), Cell::Open);
        assert!(matches!(
            parse("1/1/1753 12:00:00 AM").unwrap(),
            Cell::At(_)
        ));
        assert_eq!(
            parse("11/20/2026 1:30:00 PM").unwrap(),
            parse("2026-11-20T13:30:00Z").unwrap()
        );
        assert!(parse("31/31/2019").is_err());
        assert!(parse("yesterday").is_err());
    }
}
