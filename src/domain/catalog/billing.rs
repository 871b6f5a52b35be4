//! How a term's price is charged: in equal charges, one per billing period (DOMAIN.md section
//! 6: "the billing cycle only spreads the term's price").

use super::{BillingCycle, Term};
use crate::domain::money::{MICROS_PER_UNIT, Money};

/// How many charges `term` is billed in with `cycle`: a P1Y term billed monthly in 12, billed
/// annually in 1; a P3Y term in 36, 3 or 1. A cycle as long as the term or longer, a one-time
/// purchase, a trial (cycle none) and a perpetual licence (no term) are charged once.
pub fn billing_periods(term: Term, cycle: BillingCycle) -> u32 {
    let term_months = match term {
        Term::P1M => 1,
        Term::P1Y => 12,
        Term::P3Y => 36,
        Term::None => return 1,
    };
    let cycle_months = match cycle {
        BillingCycle::Monthly => 1,
        BillingCycle::Annual => 12,
        BillingCycle::Triennial => 36,
        BillingCycle::OneTime | BillingCycle::None => return 1,
    };
    (term_months / cycle_months).max(1)
}

/// The charge per billing period of `term_price` billed in `periods` charges: the term price
/// divided by `periods`, rounded half away from zero to the currency's minor unit (the proto's
/// TermPrice says the same to clients).
pub fn billing_period_charge(term_price: Money, periods: u32) -> Money {
    if periods <= 1 {
        return term_price;
    }
    let digits = term_price.currency.minor_digits().min(6);
    // Micro-units per minor unit: 10_000 for cents.
    let step = i128::from(MICROS_PER_UNIT / 10_i64.pow(digits));
    let divisor = i128::from(periods) * step;
    let micros = i128::from(term_price.micros);
    let quotient = micros / divisor;
    let remainder = micros % divisor;
    let rounded = if 2 * remainder.abs() >= divisor {
        quotient + micros.signum()
    } else {
        quotient
    };
    // |rounded * step| <= |micros| + step / 2 < i64::MAX for any periods > 1.
    Money::from_micros(
        term_price.currency,
        i64::try_from(rounded * step).unwrap_or(term_price.micros),
    )
}

/// What a line of `quantity` units at `unit_term_price` is charged each billing period: one
/// unit's charge times the quantity; `None` when it does not fit an amount.
pub fn line_charge(
    unit_term_price: Money,
    quantity: i32,
    term: Term,
    cycle: BillingCycle,
) -> Option<Money> {
    billing_period_charge(unit_term_price, billing_periods(term, cycle))
        .checked_mul(i64::from(quantity))
}

/// One total per currency, in first-seen order; a currency whose total does not fit an amount
/// has none.
pub fn totals_by_currency(amounts: impl IntoIterator<Item = Money>) -> Vec<Money> {
    let mut totals: Vec<Option<Money>> = Vec::new();
    let mut currencies = Vec::new();
    for amount in amounts {
        match currencies.iter().position(|c| *c == amount.currency) {
            Some(i) => totals[i] = totals[i].and_then(|t| t.checked_add(amount)),
            None => {
                currencies.push(amount.currency);
                totals.push(Some(amount));
            }
        }
    }
    totals.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn money(code: &str, micros: i64) -> Money {
        Money::from_micros(Currency::parse("c", code).unwrap(), micros)
    }

    #[test]
    fn a_term_is_billed_in_its_cycles() {
        assert_eq!(billing_periods(Term::P1Y, BillingCycle::Monthly), 12);
        assert_eq!(billing_periods(Term::P1Y, BillingCycle::Annual), 1);
        assert_eq!(billing_periods(Term::P3Y, BillingCycle::Monthly), 36);
        assert_eq!(billing_periods(Term::P3Y, BillingCycle::Annual), 3);
        assert_eq!(billing_periods(Term::P3Y, BillingCycle::Triennial), 1);
        assert_eq!(billing_periods(Term::P1M, BillingCycle::Monthly), 1);
        assert_eq!(billing_periods(Term::P1M, BillingCycle::Annual), 1);
        assert_eq!(billing_periods(Term::P1M, BillingCycle::None), 1);
        assert_eq!(billing_periods(Term::None, BillingCycle::OneTime), 1);
    }

    #[test]
    fn the_charge_is_the_term_price_spread_and_rounded_to_the_minor_unit() {
        // 327.60 USD a year billed monthly: 27.30 a month, exactly.
        assert_eq!(
            billing_period_charge(money("USD", 327_600_000), 12),
            money("USD", 27_300_000)
        );
        // 100.00 / 12 = 8.3333...: 8.33; 100.06 / 12 = 8.33833...: 8.34.
        assert_eq!(
            billing_period_charge(money("USD", 100_000_000), 12),
            money("USD", 8_330_000)
        );
        assert_eq!(
            billing_period_charge(money("USD", 100_060_000), 12),
            money("USD", 8_340_000)
        );
        // Half a cent rounds away from zero: 0.30 / 12 = 0.025 -> 0.03.
        assert_eq!(
            billing_period_charge(money("USD", 300_000), 12),
            money("USD", 30_000)
        );
        // No minor unit: 1000 JPY / 12 = 83.33 -> 83.
        assert_eq!(
            billing_period_charge(money("JPY", 1_000_000_000), 12),
            money("JPY", 83_000_000)
        );
        // One charge: the term price as it is.
        assert_eq!(
            billing_period_charge(money("USD", 123_456_789), 1),
            money("USD", 123_456_789)
        );
        // A line: the unit's charge times the quantity.
        assert_eq!(
            line_charge(
                money("USD", 100_060_000),
                3,
                Term::P1Y,
                BillingCycle::Monthly
            ),
            Some(money("USD", 25_020_000))
        );
        assert_eq!(
            line_charge(money("USD", i64::MAX), 2, Term::P1Y, BillingCycle::Annual),
            None
        );
        // The largest amount does not overflow.
        let max = billing_period_charge(money("USD", i64::MAX), 36);
        assert!(max.micros > 0 && max.micros < i64::MAX / 35, "{max:?}");
    }

    #[test]
    fn totals_are_per_currency_and_never_wrong() {
        let totals = totals_by_currency([
            money("USD", 1),
            money("EUR", 2),
            money("USD", 3),
            money("JPY", i64::MAX),
            money("JPY", 1),
        ]);
        assert_eq!(totals, vec![money("USD", 4), money("EUR", 2)]);
    }
}
