import { BillingCycle, connect, formatMoney as money, ProblemCode, TermDuration } from "@csp-commerce/client"; // money: exact, never a float

const ADDR = process.env.CSP_ADDR ?? "127.0.0.1:50051";
const TOKEN = process.env.CSP_TOKEN ?? ""; // csp-commerce token --partner us --role sales_agent
const FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"; // demo customer of partner us (data/demo/seed.json)

const api = connect({ baseUrl: `http://${ADDR}`, token: TOKEN }); // the token goes on every call
// 1. What Fabrikam may buy (its country, its segments, what checkout accepts), priced.
const { offers } = await api.catalog.listOffers({ customerId: FABRIKAM, filter: { text: "e3" }, pageSize: 3 });
for (const o of offers) console.log(o.catalogItemId, o.productTitle, TermDuration[o.term], BillingCycle[o.billingCycle], money(o.termPrice!));
const offer = offers[0];
// 2. A cart with its line: the answer is its review (prices, problems, totals).
const { cart } = await api.carts.createCart({ requestId: crypto.randomUUID(), customerId: FABRIKAM, // idempotency key: retry with the same one
  lines: [{ catalogItemId: offer.catalogItemId, quantity: Math.max(offer.minQuantity, 1), term: offer.term, billingCycle: offer.billingCycle }] });
console.log("review", JSON.stringify(cart?.problems.map((p) => ProblemCode[p.code])), "total", ...(cart?.totals ?? []).map(money));
// 3. Buy it.
const { order } = await api.carts.checkout({ requestId: crypto.randomUUID(), cartId: cart?.id, etag: cart?.etag });
console.log("order", order?.orderNumber, money(order!.total!));
// 4. The customer's order history.
for (const past of (await api.orders.listOrders({ customerId: FABRIKAM })).orders) console.log("history", past.orderNumber, money(past.total!));
