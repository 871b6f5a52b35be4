// Hand-written: google.type.Money as exact decimal text, never through a JavaScript number
// (a float). `units` is a bigint, `nanos` at most 9 digits: the text is built from their digits.
import type { Money } from "./gen/google/type/money_pb.js";

const MAX_NANOS = 999_999_999;

// ISO 4217 currencies whose minor unit is not the cent; every other currency has 2 digits.
const NO_MINOR_UNIT = new Set("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(" "));
const THREE_DIGITS = new Set("BHD IQD JOD KWD LYD OMR TND".split(" "));

/** Digits of the currency's minor unit: 2 for USD and EUR, 0 for JPY, 3 for KWD. */
export function minorDigits(currencyCode: string): number {
  const code = currencyCode.toUpperCase();
  if (NO_MINOR_UNIT.has(code)) return 0;
  if (THREE_DIGITS.has(code)) return 3;
  return 2;
}

/** Sign, whole digits and the 9 fraction digits of a valid amount; throws on a malformed one. */
function parts(m: Pick<Money, "units" | "nanos">): { negative: boolean; whole: string; fraction: string } {
  const { units, nanos } = m;
  if (!Number.isInteger(nanos) || nanos < -MAX_NANOS || nanos > MAX_NANOS) {
    throw new RangeError(`nanos ${nanos} is out of range`);
  }
  if ((units > 0n && nanos < 0) || (units < 0n && nanos > 0)) {
    throw new RangeError(`units ${units} and nanos ${nanos} have opposite signs`);
  }
  const negative = units < 0n || nanos < 0;
  const whole = (units < 0n ? -units : units).toString();
  const fraction = Math.abs(nanos).toString().padStart(9, "0");
  return { negative, whole, fraction };
}

/**
 * The exact amount as decimal text, trailing zeros dropped: "327.6", "-12.5", "1500",
 * "9223372036854775807.999999999". Throws a RangeError for a malformed amount.
 */
export function moneyToDecimalString(m: Pick<Money, "units" | "nanos">): string {
  const { negative, whole, fraction } = parts(m);
  const trimmed = fraction.replace(/0+$/, "");
  const text = trimmed ? `${whole}.${trimmed}` : whole;
  return negative ? `-${text}` : text;
}

/**
 * The amount with its currency: "327.60 USD", "1500 JPY", "-12.50 EUR"; the currency's minor
 * digits, more only when the amount has them ("0.123456 USD").
 */
export function formatMoney(m: Pick<Money, "currencyCode" | "units" | "nanos">): string {
  const { negative, whole, fraction } = parts(m);
  const trimmed = fraction.replace(/0+$/, "");
  const digits = Math.max(minorDigits(m.currencyCode), trimmed.length);
  const text = digits > 0 ? `${whole}.${fraction.slice(0, digits)}` : whole;
  return `${negative ? "-" : ""}${text} ${m.currencyCode}`;
}
