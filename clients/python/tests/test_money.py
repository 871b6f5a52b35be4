"""csp.commerce.money: google.type.Money to exact decimals and text, never through a float."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from google.type.money_pb2 import Money

from csp.commerce.money import format_money, minor_digits, to_decimal

INT64_MAX = 2**63 - 1


def test_a_cent_is_exact():
    cent = Money(currency_code="USD", units=0, nanos=10_000_000)
    assert to_decimal(cent) == Decimal("0.01")
    assert format_money(cent) == "0.01 USD"
    # Ten cents added ten times is a dollar exactly (0.1 as a float is not).
    assert sum((to_decimal(cent) * 10 for _ in range(10)), Decimal(0)) == Decimal(1)


def test_a_term_price_and_its_monthly_charge():
    assert to_decimal(Money(currency_code="USD", units=327, nanos=600_000_000)) == Decimal("327.6")
    assert format_money(Money(currency_code="USD", units=327, nanos=600_000_000)) == "327.60 USD"
    assert format_money(Money(currency_code="USD", units=27, nanos=300_000_000)) == "27.30 USD"
    assert format_money(Money(currency_code="USD", units=12)) == "12.00 USD"
    # The currency's minor digits, more only when the amount has them.
    assert format_money(Money(currency_code="JPY", units=1500)) == "1500 JPY"
    assert format_money(Money(currency_code="KWD", units=1, nanos=5_000_000)) == "1.005 KWD"
    assert format_money(Money(currency_code="USD", nanos=123_456_000)) == "0.123456 USD"
    assert minor_digits("usd") == 2 and minor_digits("JPY") == 0


def test_amounts_near_the_int64_limit_are_exact_in_any_context():
    largest = Money(currency_code="USD", units=INT64_MAX, nanos=999_999_999)
    with localcontext() as context:
        context.prec = 5  # would round an amount built by arithmetic
        assert to_decimal(largest) == Decimal("9223372036854775807.999999999")
    assert format_money(largest) == "9223372036854775807.999999999 USD"
    smallest = Money(currency_code="EUR", units=-INT64_MAX - 1, nanos=-999_999_999)
    assert to_decimal(smallest) == Decimal("-9223372036854775808.999999999")


def test_a_refund_is_negative_in_units_and_nanos():
    refund = Money(currency_code="USD", units=-12, nanos=-500_000_000)
    assert to_decimal(refund) == Decimal("-12.5")
    assert format_money(refund) == "-12.50 USD"
    # Less than one unit: units zero, nanos negative.
    assert format_money(Money(currency_code="USD", units=0, nanos=-10_000_000)) == "-0.01 USD"


@pytest.mark.parametrize(
    ("units", "nanos"), [(1, -1), (-1, 1), (0, 1_000_000_000), (0, -1_000_000_000)]
)
def test_a_malformed_amount_is_refused(units, nanos):
    with pytest.raises(ValueError):
        to_decimal(Money(currency_code="USD", units=units, nanos=nanos))
