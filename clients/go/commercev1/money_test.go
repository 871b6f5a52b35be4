package commercev1

import (
	"math"
	"math/big"
	"testing"

	"google.golang.org/genproto/googleapis/type/money"
)

func m(code string, units int64, nanos int32) *money.Money {
	return &money.Money{CurrencyCode: code, Units: units, Nanos: nanos}
}

func TestMoneyIsExactOnACent(t *testing.T) {
	cent := m("USD", 0, 10_000_000)
	if got := MoneyString(cent); got != "0.01 USD" {
		t.Fatalf("MoneyString = %q", got)
	}
	if got := MoneyRat(cent); got.Cmp(big.NewRat(1, 100)) != 0 {
		t.Fatalf("MoneyRat = %v", got)
	}
	// Ten cents added ten times is a dollar exactly (0.1 as a float64 is not).
	sum := new(big.Rat)
	for i := 0; i < 10; i++ {
		sum.Add(sum, MoneyRat(m("USD", 0, 100_000_000)))
	}
	if sum.Cmp(big.NewRat(1, 1)) != 0 {
		t.Fatalf("sum = %v", sum)
	}
}

func TestMoneyStringUsesTheCurrencysDigits(t *testing.T) {
	for _, c := range []struct {
		money *money.Money
		want  string
	}{
		{m("USD", 327, 600_000_000), "327.60 USD"},
		{m("USD", 27, 300_000_000), "27.30 USD"},
		{m("USD", 12, 0), "12.00 USD"},
		{m("JPY", 1500, 0), "1500 JPY"},
		{m("KWD", 1, 5_000_000), "1.005 KWD"},
		{m("USD", 0, 123_456_000), "0.123456 USD"},
	} {
		if got := MoneyString(c.money); got != c.want {
			t.Errorf("MoneyString(%v) = %q, want %q", c.money, got, c.want)
		}
	}
}

func TestMoneyIsExactNearTheInt64Limit(t *testing.T) {
	largest := m("USD", math.MaxInt64, 999_999_999)
	if got := MoneyString(largest); got != "9223372036854775807.999999999 USD" {
		t.Fatalf("MoneyString = %q", got)
	}
	want, _ := new(big.Rat).SetString("9223372036854775807.999999999")
	if got := MoneyRat(largest); got.Cmp(want) != 0 {
		t.Fatalf("MoneyRat = %v", got.FloatString(9))
	}
	if got := MoneyString(m("EUR", math.MinInt64, -999_999_999)); got != "-9223372036854775808.999999999 EUR" {
		t.Fatalf("MoneyString = %q", got)
	}
}

func TestARefundIsNegativeInUnitsAndNanos(t *testing.T) {
	refund := m("USD", -12, -500_000_000)
	if got := MoneyString(refund); got != "-12.50 USD" {
		t.Fatalf("MoneyString = %q", got)
	}
	if got := MoneyRat(refund); got.Cmp(big.NewRat(-25, 2)) != 0 {
		t.Fatalf("MoneyRat = %v", got)
	}
	if got := MoneyString(m("USD", 0, -10_000_000)); got != "-0.01 USD" {
		t.Fatalf("MoneyString = %q", got)
	}
}

func TestAMalformedAmountIsRefused(t *testing.T) {
	for _, bad := range []*money.Money{m("USD", 1, -1), m("USD", -1, 1), m("USD", 0, 1_000_000_000)} {
		if MoneyRat(bad) != nil {
			t.Errorf("MoneyRat(%v) is not nil", bad)
		}
		if got := MoneyString(bad); got[:13] != "invalid money" {
			t.Errorf("MoneyString(%v) = %q", bad, got)
		}
	}
}
