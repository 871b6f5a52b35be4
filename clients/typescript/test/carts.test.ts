// The buying flow: an item found via ListAvailabilities, a cart, its review, checkout, orders.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { BillingCycle, CartStatus, formatMoney, OrderStatus, TermDuration } from "@csp-commerce/client";

import { requestId, startServer, type TestServer } from "./server.js";
import { catalogItem, newCustomer } from "./support.js";

describe("carts", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("reviews a cart, checks it out with its etag and lists the order", async () => {
    const { catalog, customers, carts, orders } = server.clients();
    const customer = await newCustomer(customers, "TS Cart Flow Inc");
    assert.ok(customer.agreement?.contactName);
    // Microsoft Intune (CFQ7TTC0RDXR:0001), commercial, in the US.
    const item = await catalogItem(catalog, "CFQ7TTC0RDXR", "0001", "US");
    assert.equal(item.currencyCode, "USD");

    const cart = (
      await carts.createCart({
        requestId: requestId(),
        customerId: customer.id,
        lines: [{ catalogItemId: item.catalogItemId, quantity: 5, term: TermDuration.P1Y, billingCycle: BillingCycle.ANNUAL }],
      })
    ).cart!;
    assert.equal(cart.status, CartStatus.ACTIVE);

    // Reading the cart is its review: every rule evaluated now, prices and totals.
    const review = (await carts.getCart({ cartId: cart.id })).cart!;
    assert.deepEqual(review.problems, []);
    assert.equal(review.lines.length, 1);
    const line = review.lines[0];
    assert.deepEqual(line.problems, []);
    assert.equal(line.unitTermPrice?.currencyCode, "USD");
    assert.ok((line.unitTermPrice?.units ?? 0n) > 0n);
    // P1Y billed annually: one charge a year, the whole term.
    assert.equal(line.billingPeriods, 1);
    assert.equal(formatMoney(line.billingPeriodCharge!), formatMoney(line.termPrice!));
    assert.equal(review.totals.length, 1);
    const total = formatMoney(review.totals[0]);
    assert.equal(total, formatMoney(line.termPrice!));
    assert.deepEqual(review.firstChargeTotals.map(formatMoney), [total]);

    const checkout = { requestId: requestId(), cartId: review.id, etag: review.etag };
    const order = (await carts.checkout(checkout)).order!;
    assert.match(order.orderNumber, /^ORD-/);
    assert.ok([OrderStatus.PENDING, OrderStatus.COMPLETED].includes(order.status));
    assert.equal(order.cartId, cart.id);
    assert.equal(formatMoney(order.total!), total);
    assert.equal(formatMoney(order.firstChargeTotal!), total);
    assert.ok(order.lines[0].subscriptionId);

    // Checkout is idempotent: the same requestId returns the same order.
    assert.equal((await carts.checkout(checkout)).order?.id, order.id);

    const history = await orders.listOrders({ customerId: customer.id });
    assert.deepEqual(history.orders.map((o) => o.id), [order.id]);
  });
});
