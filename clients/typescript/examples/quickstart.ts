import { BillingCycle, connect, TermDuration, type Money } from "@csp-commerce/client";

const ADDR = process.env.CSP_ADDR ?? "127.0.0.1:50051";
const TOKEN = process.env.CSP_TOKEN ?? ""; // csp-commerce token --partner us --role sales_agent
const FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"; // demo customer of partner us (data/demo/seed.json)

// Exact, from integers: "327.60 USD".  TODO(h20a): formatMoney(m) from src/money.ts
function money(m?: Money): string {
  const n = (m?.units ?? 0n) * 1_000_000_000n + BigInt(m?.nanos ?? 0);
  const abs = n < 0n ? -n : n;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${n < 0n ? "-" : ""}${abs / 1_000_000_000n}.${fraction} ${m?.currencyCode ?? ""}`;
}

const api = connect({ baseUrl: `http://${ADDR}`, token: TOKEN }); // the token goes on every call
// 1. What Fabrikam may buy (its country, its segments, what checkout accepts), priced.
const { offers } = await api.catalog.listOffers({ customerId: FABRIKAM, filter: { text: "e3" }, pageSize: 3 });
for (const o of offers) console.log(o.catalogItemId, o.productTitle, TermDuration[o.term], BillingCycle[o.billingCycle], money(o.unitPrice));
const offer = offers[0];
// 2. A cart with its line: the answer is its review (prices, problems, totals).
const { cart } = await api.carts.createCart({ requestId: crypto.randomUUID(), customerId: FABRIKAM, // idempotency key: retry with the same one
  lines: [{ catalogItemId: offer.catalogItemId, quantity: Math.max(offer.minQuantity, 1), term: offer.term, billingCycle: offer.billingCycle }] });
console.log("review", JSON.stringify(cart?.problems.map((p) => p.code)), "total", ...(cart?.totals ?? []).map(money));
// 3. Buy it.
const { order } = await api.carts.checkout({ requestId: crypto.randomUUID(), cartId: cart?.id, etag: cart?.etag });
console.log("order", order?.orderNumber, money(order?.total));
// 4. The customer's order history.
for (const past of (await api.orders.listOrders({ customerId: FABRIKAM })).orders) console.log("history", past.orderNumber, money(past.total));
