"""google.type.Money as exact decimals (hand-written): never a float.

    from csp.commerce.money import format_money, to_decimal
    to_decimal(line.term_price)            # Decimal('327.6')
    format_money(line.billing_period_charge)  # '27.30 USD'
"""

from __future__ import annotations

from decimal import Decimal

from google.type import money_pb2

__all__ = ["format_money", "minor_digits", "to_decimal"]

_MAX_NANOS = 999_999_999

# ISO 4217 currencies whose minor unit is not the cent; every other currency has 2 digits.
_NO_MINOR_UNIT = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_THREE_DIGITS = frozenset("BHD IQD JOD KWD LYD OMR TND".split())


def to_decimal(money: money_pb2.Money) -> Decimal:
    """The exact amount of `money` (units + nanos / 1e9), whatever the decimal context:
    Decimal('327.6') for units 327 and nanos 600000000.

    Raises ValueError for a malformed amount: nanos out of range, or units and nanos of
    opposite signs.
    """
    units, nanos = money.units, money.nanos
    if not -_MAX_NANOS <= nanos <= _MAX_NANOS:
        raise ValueError(f"nanos {nanos} is out of range")
    if (units > 0 and nanos < 0) or (units < 0 and nanos > 0):
        raise ValueError(f"units {units} and nanos {nanos} have opposite signs")
    sign = "-" if units < 0 or nanos < 0 else ""
    # Built from text, so no context precision rounds it (units may be near 2**63); the nanos'
    # trailing zeros dropped, never the integer part's (no exponent form).
    fraction = f"{abs(nanos):09d}".rstrip("0")
    return Decimal(f"{sign}{abs(units)}.{fraction}" if fraction else f"{sign}{abs(units)}")


def minor_digits(currency_code: str) -> int:
    """Digits of the currency's minor unit: 2 for USD and EUR, 0 for JPY, 3 for KWD."""
    code = currency_code.upper()
    if code in _NO_MINOR_UNIT:
        return 0
    if code in _THREE_DIGITS:
        return 3
    return 2


def format_money(money: money_pb2.Money) -> str:
    """`money` as text: "327.60 USD", "1500 JPY", "-12.50 EUR"; the currency's minor digits,
    more only when the amount has them ("0.123456 USD")."""
    amount = to_decimal(money)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: built from digits
    digits = max(minor_digits(money.currency_code), -exponent)
    return f"{amount:.{digits}f} {money.currency_code}"
