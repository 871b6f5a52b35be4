// formatMoney and moneyToDecimalString: google.type.Money as exact text, never a float.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { create } from "@bufbuild/protobuf";
import { formatMoney, minorDigits, MoneySchema, moneyToDecimalString } from "@csp-commerce/client";

const INT64_MAX = 2n ** 63n - 1n;
const money = (currencyCode: string, units: bigint, nanos = 0) => create(MoneySchema, { currencyCode, units, nanos });

describe("money", () => {
  it("is exact on a cent", () => {
    const cent = money("USD", 0n, 10_000_000);
    assert.equal(moneyToDecimalString(cent), "0.01");
    assert.equal(formatMoney(cent), "0.01 USD");
    // 0.1 + 0.2 as floats is 0.30000000000000004; as Money, 0.30.
    assert.equal(formatMoney(money("USD", 0n, 100_000_000 + 200_000_000)), "0.30 USD");
  });

  it("prints a term price and its monthly charge with the currency's digits", () => {
    assert.equal(moneyToDecimalString(money("USD", 327n, 600_000_000)), "327.6");
    assert.equal(formatMoney(money("USD", 327n, 600_000_000)), "327.60 USD");
    assert.equal(formatMoney(money("USD", 27n, 300_000_000)), "27.30 USD");
    assert.equal(formatMoney(money("USD", 12n)), "12.00 USD");
    assert.equal(formatMoney(money("JPY", 1500n)), "1500 JPY");
    assert.equal(formatMoney(money("KWD", 1n, 5_000_000)), "1.005 KWD");
    assert.equal(formatMoney(money("USD", 0n, 123_456_000)), "0.123456 USD");
    assert.equal(minorDigits("usd"), 2);
  });

  it("is exact near the int64 limit", () => {
    const largest = money("USD", INT64_MAX, 999_999_999);
    assert.equal(moneyToDecimalString(largest), "9223372036854775807.999999999");
    assert.equal(formatMoney(largest), "9223372036854775807.999999999 USD");
    assert.equal(moneyToDecimalString(money("EUR", -INT64_MAX - 1n, -999_999_999)), "-9223372036854775808.999999999");
  });

  it("shows a refund negative in units and nanos", () => {
    assert.equal(moneyToDecimalString(money("USD", -12n, -500_000_000)), "-12.5");
    assert.equal(formatMoney(money("USD", -12n, -500_000_000)), "-12.50 USD");
    assert.equal(formatMoney(money("USD", 0n, -10_000_000)), "-0.01 USD");
  });

  it("refuses a malformed amount", () => {
    for (const [units, nanos] of [[1n, -1], [-1n, 1], [0n, 1_000_000_000], [0n, -1_000_000_000], [0n, 0.5]] as const) {
      assert.throws(() => moneyToDecimalString(money("USD", units, nanos)), RangeError);
    }
  });
});
