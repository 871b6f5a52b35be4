// Errors carry google.rpc details (grpc-status-details-bin): ConnectError.findDetails decodes
// them with the generated google.rpc schemas.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  BillingCycle,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  ProblemCode,
  type PurchaseProblem,
  TermDuration,
} from "@csp-commerce/client";

import { requestId, startServer, type TestServer } from "./server.js";
import { catalogItem, newCustomer } from "./support.js";

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  assert.fail("the call succeeded");
}

describe("errors", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("a negative page size is INVALID_ARGUMENT with a BadRequest naming the field", async () => {
    const { catalog } = server.clients();
    const error = await failure(catalog.listProducts({ pageSize: -1 }));
    assert.equal(error.code, Code.InvalidArgument);
    const [badRequest] = error.findDetails(BadRequestSchema);
    assert.deepEqual(badRequest.fieldViolations.map((v) => v.field), ["page_size"]);
    assert.ok(badRequest.fieldViolations[0].description);
    const [info] = error.findDetails(ErrorInfoSchema);
    assert.equal(info.domain, "csp-commerce");
    assert.ok(info.reason);
  });

  it("an add-on without its base fails checkout with a PreconditionFailure", async () => {
    const { catalog, customers, carts } = server.clients();
    const customer = await newCustomer(customers, "TS Addon Alone Inc"); // owns no base
    // Intune Extra Storage (CFQ7TTC0O3H3:0001) is an add-on of Intune (CFQ7TTC0RDXR:0001).
    const addon = await catalogItem(catalog, "CFQ7TTC0O3H3", "0001", "US");
    const cart = (
      await carts.createCart({
        requestId: requestId(),
        customerId: customer.id,
        lines: [{ catalogItemId: addon.catalogItemId, quantity: 1, term: TermDuration.P1M, billingCycle: BillingCycle.MONTHLY }],
      })
    ).cart!;
    assert.deepEqual(cart.lines[0].problems.map((p) => p.code), [ProblemCode.ADDON_BASE_MISSING]);
    assert.equal(describe_(cart.lines[0].problems[0]), "buy one of these first: CFQ7TTC0RDXR/0001");

    const error = await failure(carts.checkout({ requestId: requestId(), cartId: cart.id, etag: cart.etag }));
    assert.equal(error.code, Code.FailedPrecondition);
    const [precondition] = error.findDetails(PreconditionFailureSchema);
    assert.deepEqual(
      precondition.violations.map((v) => [v.type, v.subject]),
      [["ADDON_BASE_MISSING", `lines/${cart.lines[0].id}`]],
    );
    // The same figures as the review: the description ends with them.
    assert.ok(precondition.violations[0].description.endsWith("(prerequisites=CFQ7TTC0RDXR/0001)"), precondition.violations[0].description);
    // The enum's name is the string ErrorInfo.reason carries (for logs).
    const [info] = error.findDetails(ErrorInfoSchema);
    assert.equal(info.reason, ProblemCode[ProblemCode.ADDON_BASE_MISSING]);
  });

  it("a stale etag is ABORTED with the current etag in ErrorInfo", async () => {
    const { catalog, customers, carts } = server.clients();
    const customer = await newCustomer(customers, "TS Stale Etag Inc");
    const item = await catalogItem(catalog, "CFQ7TTC0RDXR", "0001", "US");
    const cart = (await carts.createCart({ requestId: requestId(), customerId: customer.id })).cart!;
    const line = { catalogItemId: item.catalogItemId, quantity: 1, term: TermDuration.P1Y, billingCycle: BillingCycle.MONTHLY };
    const changed = (await carts.addCartLine({ requestId: requestId(), cartId: cart.id, etag: cart.etag, line })).cart!;
    const stale = { requestId: requestId(), cartId: cart.id, lineId: changed.lines[0].id, etag: cart.etag };
    const error = await failure(carts.removeCartLine(stale));
    assert.equal(error.code, Code.Aborted);
    const [info] = error.findDetails(ErrorInfoSchema);
    assert.equal(info.reason, "ETAG_MISMATCH");
    // Retry at once with the etag the error carries: no read needed.
    assert.equal(info.metadata.current_etag, changed.etag);
    const removed = (await carts.removeCartLine({ ...stale, requestId: requestId(), etag: info.metadata.current_etag })).cart!;
    assert.deepEqual(removed.lines, []);
  });
});

// What a storefront might show: a switch on the problem code enum.
function describe_(problem: PurchaseProblem): string {
  switch (problem.code) {
    case ProblemCode.ADDON_BASE_MISSING:
      return `buy one of these first: ${problem.prerequisites.map((s) => `${s.productId}/${s.skuId}`).join(", ")}`;
    case ProblemCode.SEAT_LIMIT_EXCEEDED:
      return `only ${problem.figures.seats_available} seats left`;
    case ProblemCode.UNSPECIFIED:
      return `unknown problem: ${problem.message}`;
    default:
      return problem.message;
  }
}
