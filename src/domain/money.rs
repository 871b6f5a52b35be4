//! Money: an ISO 4217 currency and an exact amount in millionths of its unit. Never a float.

use std::fmt;

use rust_decimal::Decimal;

use super::DomainError;
use super::error::echo;

/// The longest amount text parsed: more digits than any i64 of micro-units has, with room.
const MAX_AMOUNT_LEN: usize = 40;

/// Amounts are stored as integer micro-units (1e-6): exact on SQLite and PostgreSQL alike and
/// fine enough for any price-list figure (they carry at most 4 decimals).
pub const MICROS_PER_UNIT: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(field: &str, code: &str) -> Result<Self, DomainError> {
        // Three letters or nothing: a long value is refused before it is copied.
        (code.len() == 3)
            .then(|| iso_currency::Currency::from_code(&code.to_ascii_uppercase()))
            .flatten()
            .map(Self)
            .ok_or_else(|| {
                DomainError::invalid(
                    field,
                    "UNKNOWN_CURRENCY",
                    format!("{field} {} is not an ISO 4217 currency", echo(code)),
                )
            })
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits of the minor unit: 2 for EUR, 0 for JPY.
    pub fn minor_digits(&self) -> u32 {
        self.0.exponent().map_or(2, u32::from)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub currency: Currency,
    pub micros: i64,
}

impl Money {
    pub fn from_micros(currency: Currency, micros: i64) -> Self {
        Self { currency, micros }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::from_micros(currency, 0)
    }

    /// Parses a price-list figure such as `"150.00"`. Rejects negatives, more than 6 decimals
    /// and amounts that do not fit.
    pub fn parse_amount(currency: Currency, text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() > MAX_AMOUNT_LEN {
            return Err(format!(
                "{} is longer than {MAX_AMOUNT_LEN} characters",
                echo(text)
            ));
        }
        let value: Decimal = text
            .parse()
            .map_err(|_| format!("{} is not a decimal number", echo(text)))?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(format!("{} is negative", echo(text)));
        }
        let micros = value
            .checked_mul(Decimal::from(MICROS_PER_UNIT))
            .filter(|m| m.fract().is_zero())
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| format!("{} has more than 6 decimals or is too large", echo(text)))?;
        Ok(Self::from_micros(currency, micros))
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Self> {
        self.micros
            .checked_mul(quantity)
            .map(|micros| Self { micros, ..self })
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.micros
            .checked_add(other.micros)
            .map(|micros| Self { micros, ..self })
    }

    /// google.type.Money: whole units and nanos with the same sign.
    pub fn units_and_nanos(&self) -> (i64, i32) {
        let units = self.micros / MICROS_PER_UNIT;
        // |remainder| < 1e6, so nanos fit an i32.
        let nanos = (self.micros % MICROS_PER_UNIT) as i32 * 1000;
        (units, nanos)
    }

    pub fn from_units_and_nanos(currency: Currency, units: i64, nanos: i32) -> Option<Self> {
        if nanos % 1000 != 0 || (units > 0 && nanos < 0) || (units < 0 && nanos > 0) {
            return None;
        }
        units
            .checked_mul(MICROS_PER_UNIT)
            .and_then(|m| m.checked_add(i64::from(nanos / 1000)))
            .map(|micros| Self { currency, micros })
    }

    pub fn as_decimal(&self) -> Decimal {
        Decimal::new(self.micros, 6)
    }
}

impl fmt::Display for Money {
    /// `12.00 USD`, `1500 JPY`: the currency's own minor digits, more only when needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut amount = self.as_decimal().normalize();
        let digits = self.currency.minor_digits();
        if amount.scale() < digits {
            amount.rescale(digits);
        }
        write!(f, "{amount} {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("c", "USD").unwrap()
    }

    #[test]
    fn parses_exactly_and_prints_in_minor_units() {
        let m = Money::parse_amount(usd(), "150.10").unwrap();
        assert_eq!(m.micros, 150_100_000);
        assert_eq!(m.to_string(), "150.10 USD");
        assert_eq!(m.units_and_nanos(), (150, 100_000_000));
        let yen = Money::parse_amount(Currency::parse("c", "JPY").unwrap(), "1500").unwrap();
        assert_eq!(yen.to_string(), "1500 JPY");
        assert_eq!(
            Money::parse_amount(usd(), "0.123456").unwrap().to_string(),
            "0.123456 USD"
        );
    }

    #[test]
    fn rejects_what_is_not_a_price() {
        for bad in ["-1", "abc", "1.0000001", "", "1e400"] {
            assert!(Money::parse_amount(usd(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let m = Money::from_micros(usd(), i64::MAX / 2);
        assert!(m.checked_mul(3).is_none());
        let eur = Money::zero(Currency::parse("c", "EUR").unwrap());
        assert!(m.checked_add(eur).is_none());
        assert_eq!(
            Money::from_units_and_nanos(usd(), -1, -500_000_000)
                .unwrap()
                .micros,
            -1_500_000
        );
    }
}
