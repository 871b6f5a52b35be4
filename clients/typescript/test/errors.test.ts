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
    assert.deepEqual(cart.lines[0].problems.map((p) => p.code), ["ADDON_BASE_MISSING"]);

    const error = await failure(carts.checkout({ requestId: requestId(), cartId: cart.id, etag: cart.etag }));
    assert.equal(error.code, Code.FailedPrecondition);
    const [precondition] = error.findDetails(PreconditionFailureSchema);
    assert.deepEqual(
      precondition.violations.map((v) => [v.type, v.subject]),
      [["ADDON_BASE_MISSING", `lines/${cart.lines[0].id}`]],
    );
    assert.ok(precondition.violations[0].description);
  });
});
