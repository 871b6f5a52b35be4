// WatchSubscriptionEvents: a quantity change made while subscribed is seen on the partner's
// event stream, right after the purchase's own event, at the next revisions; and a renewal,
// driven by the operator's RunRenewals on a server of its own (the pass renews every due
// subscription of the server).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { createClient } from "@connectrpc/connect";
import {
  BillingCycle,
  OperatorService,
  SubscriptionEventService,
  SubscriptionStatus,
  SubscriptionEventType,
  TermDuration,
  TransactionType,
  type SubscriptionEvent,
  formatMoney,
} from "@csp-commerce/client";

import { requestId, startServer, type TestServer } from "./server.js";
import { catalogItem, newCustomer } from "./support.js";

// How long the stream may take, so a stall fails the test instead of hanging it.
const READ_TIMEOUT_MS = 15_000;

describe("subscription events", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("shows a quantity change on the event stream", async () => {
    const { catalog, customers, carts, orders } = server.clients();
    const events = createClient(SubscriptionEventService, server.transport());
    // The partner's current revision: what a stream from now says first.
    const first = new AbortController();
    const messages = events
      .watchSubscriptionEvents({ start: { case: "fromNow", value: true } }, { signal: first.signal })
      [Symbol.asyncIterator]();
    const { value: progress } = await messages.next();
    first.abort();
    assert.equal(progress.event.case, "progress");
    const head: bigint = progress.event.value.currentRevision;

    const customer = await newCustomer(customers, "TS Events Inc");
    const item = await catalogItem(catalog, "CFQ7TTC0RDXR", "0001", "US");
    const cart = (
      await carts.createCart({
        requestId: requestId(),
        customerId: customer.id,
        lines: [{ catalogItemId: item.catalogItemId, quantity: 5, term: TermDuration.P1Y, billingCycle: BillingCycle.MONTHLY }],
      })
    ).cart!;
    const order = (await carts.checkout({ requestId: requestId(), cartId: cart.id, etag: cart.etag })).order!;
    const subscriptionId = order.lines[0].subscriptionId;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), READ_TIMEOUT_MS);
    const stream = events.watchSubscriptionEvents(
      { start: { case: "afterRevision", value: head }, customerId: customer.id },
      { signal: controller.signal },
    );
    const changed = await orders.changeSubscriptionQuantity({ requestId: requestId(), subscriptionId, quantity: 8 });
    assert.equal(changed.subscription?.quantity, 8);
    const seen: SubscriptionEvent[] = [];
    try {
      for await (const message of stream) {
        if (message.event.case === "events") seen.push(...message.event.value.events);
        if (seen.length >= 2) break;
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }

    const [created, quantity] = seen;
    assert.equal(created.type, SubscriptionEventType.CREATED);
    assert.equal(quantity.type, SubscriptionEventType.QUANTITY_CHANGED);
    assert.ok(head < created.revision && created.revision < quantity.revision);
    assert.equal(quantity.subscriptionId, subscriptionId);
    assert.equal(quantity.customerId, customer.id);
    assert.equal(quantity.subscription?.quantity, 8);
    assert.equal(quantity.transaction?.type, TransactionType.ADD_QUANTITY);
    assert.equal(quantity.transaction?.quantityDelta, 3);
    assert.equal(formatMoney(quantity.transaction!.amount!), formatMoney(changed.transaction!.amount!));
  });
});

describe("subscription renewals", () => {
  let server: TestServer;
  before(async () => {
    // No background pass: the test drives the renewals.
    server = await startServer({ CSP_RENEWAL_INTERVAL_MS: "0" });
  });
  after(() => server?.stop());

  it("shows a renewal on the event stream", async () => {
    const { catalog, customers, carts } = server.clients();
    const events = createClient(SubscriptionEventService, server.transport());
    const operator = createClient(OperatorService, server.transport({ partner: "", role: "operator" }));
    const customer = await newCustomer(customers, "TS Renewals Inc");
    const item = await catalogItem(catalog, "CFQ7TTC0RDXR", "0001", "US");
    const cart = (
      await carts.createCart({
        requestId: requestId(),
        customerId: customer.id,
        lines: [{ catalogItemId: item.catalogItemId, quantity: 3, term: TermDuration.P1Y, billingCycle: BillingCycle.MONTHLY }],
      })
    ).cart!;
    const order = (await carts.checkout({ requestId: requestId(), cartId: cart.id, etag: cart.etag })).order!;
    const subscriptionId = order.lines[0].subscriptionId;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), READ_TIMEOUT_MS);
    const messages = events
      .watchSubscriptionEvents(
        { start: { case: "afterRevision", value: 0n }, customerId: customer.id },
        { signal: controller.signal },
      )
      [Symbol.asyncIterator]();
    const seen: SubscriptionEvent[] = [];
    const read = async (count: number) => {
      while (seen.length < count) {
        const { value: message, done } = await messages.next();
        assert.ok(!done, "the stream ended");
        if (message.event.case === "events") seen.push(...message.event.value.events);
      }
    };
    let renewed: bigint[];
    try {
      await read(1); // the purchase, replayed
      // Just past its commitment end: the pass renews it (auto-renew is on after a purchase).
      const end = seen[0].subscription!.commitmentEndTime!;
      const done = await operator.runRenewals({ until: { seconds: end.seconds + 1n, nanos: 0 } });
      renewed = [done.renewed, done.expired];
      await read(2);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }

    assert.deepEqual(renewed, [1n, 0n]);
    const [created, renewal] = seen;
    assert.equal(created.type, SubscriptionEventType.CREATED);
    assert.equal(created.subscriptionId, subscriptionId);
    assert.ok(created.subscription?.autoRenew);
    assert.equal(renewal.type, SubscriptionEventType.RENEWED);
    assert.equal(renewal.subscriptionId, subscriptionId);
    assert.ok(created.revision < renewal.revision);
    // The term restarts at the old end: a year on, the same seats, still active.
    const oldEnd = new Date(Number(created.subscription!.commitmentEndTime!.seconds) * 1000);
    const newEnd = new Date(oldEnd);
    newEnd.setUTCFullYear(oldEnd.getUTCFullYear() + 1);
    assert.equal(renewal.subscription?.commitmentEndTime?.seconds, BigInt(newEnd.getTime() / 1000));
    assert.equal(renewal.subscription?.status, SubscriptionStatus.ACTIVE);
    assert.equal(renewal.subscription?.quantity, 3);
    assert.equal(renewal.transaction?.type, TransactionType.RENEW);
    assert.equal(renewal.transaction?.subscriptionId, subscriptionId);
    assert.equal(renewal.transaction?.periodStartTime?.seconds, created.subscription!.commitmentEndTime!.seconds);
    // The new term's first month billed at the demo month's price, as the purchase was.
    assert.equal(formatMoney(renewal.transaction!.amount!), formatMoney(created.transaction!.amount!));
  });
});
