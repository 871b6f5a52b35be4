// Hand-written (clients/generate.sh replaces only the *.pb.go files beside it): google.type.Money
// as an exact big.Rat or exact text, never through a float64.

package commercev1

import (
	"fmt"
	"math/big"
	"strings"

	"google.golang.org/genproto/googleapis/type/money"
)

const maxNanos = 999_999_999

// ISO 4217 currencies whose minor unit is not the cent; every other currency has 2 digits.
var (
	noMinorUnit = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "ISK": true,
		"JPY": true, "KMF": true, "KRW": true, "PYG": true, "RWF": true, "UGX": true, "UYI": true,
		"VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true}
	threeDigits = map[string]bool{"BHD": true, "IQD": true, "JOD": true, "KWD": true, "LYD": true,
		"OMR": true, "TND": true}
)

// MinorDigits is the number of digits of a currency's minor unit: 2 for USD and EUR, 0 for JPY,
// 3 for KWD.
func MinorDigits(currencyCode string) int {
	code := strings.ToUpper(currencyCode)
	switch {
	case noMinorUnit[code]:
		return 0
	case threeDigits[code]:
		return 3
	default:
		return 2
	}
}

// parts checks m and returns its sign, whole digits and 9 fraction digits.
func parts(m *money.Money) (negative bool, whole, fraction string, err error) {
	units, nanos := m.GetUnits(), m.GetNanos()
	if nanos < -maxNanos || nanos > maxNanos {
		return false, "", "", fmt.Errorf("money: nanos %d out of range", nanos)
	}
	if (units > 0 && nanos < 0) || (units < 0 && nanos > 0) {
		return false, "", "", fmt.Errorf("money: units %d and nanos %d have opposite signs", units, nanos)
	}
	negative = units < 0 || nanos < 0
	// Through big.Int: -units overflows for the smallest int64.
	whole = new(big.Int).Abs(big.NewInt(units)).String()
	if nanos < 0 {
		nanos = -nanos
	}
	return negative, whole, fmt.Sprintf("%09d", nanos), nil
}

// MoneyRat is the exact amount of m (units + nanos/1e9); nil for a malformed amount (nanos out
// of range, units and nanos of opposite signs: MoneyString says why).
func MoneyRat(m *money.Money) *big.Rat {
	if _, _, _, err := parts(m); err != nil {
		return nil
	}
	r := new(big.Rat).SetInt64(m.GetUnits())
	return r.Add(r, big.NewRat(int64(m.GetNanos()), 1_000_000_000))
}

// MoneyString is m as text: "327.60 USD", "1500 JPY", "-12.50 EUR"; the currency's minor
// digits, more only when the amount has them ("0.123456 USD"). A malformed amount reads as
// "invalid money (...)".
func MoneyString(m *money.Money) string {
	negative, whole, fraction, err := parts(m)
	if err != nil {
		return fmt.Sprintf("invalid money (%v)", err)
	}
	digits := len(strings.TrimRight(fraction, "0"))
	if minor := MinorDigits(m.GetCurrencyCode()); minor > digits {
		digits = minor
	}
	text := whole
	if digits > 0 {
		text += "." + fraction[:digits]
	}
	if negative {
		text = "-" + text
	}
	return text + " " + m.GetCurrencyCode()
}
